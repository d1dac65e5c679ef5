"""A year of referrals through the same planner, as a discrete-event simulation.

Each replication is a function of its assumptions and its seed alone, so the figures are the
same whether replications run in this process, on the local cores or on a Dask cluster.
Events on one day run in a fixed order (arrivals, then releases, then shipments, each by case),
and every random draw happens at an event, so the order of draws is the same everywhere.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from cartflow.domain.errors import InvalidInput
from cartflow.scheduling.earliest import earliest_plan
from cartflow.scheduling.network import Network
from cartflow.scheduling.plan import Case, Plan, Usage
from cartflow.scheduling.problem import Problem
from cartflow.scheduling.replan import Slip, replan
from cartflow.scheduling.timings import NoPlan, Timings

ARRIVAL, RELEASE, SHIPMENT = 0, 1, 2


@dataclass(frozen=True)
class Assumptions:
    """The what-if's inputs. Every default is a stated assumption (docs/scheduling.md)."""

    referrals_per_year: float = 300.0  # Poisson arrivals over the network
    mix: Mapping[str, float] = field(default_factory=dict)  # indication -> share
    failure_rate: float = 0.05  # a run fails out of specification and needs a new collection
    courier_late_rate: float = 0.05  # a shipment arrives late ...
    courier_delay_mean_days: float = 1.5  # ... by 1 + a Poisson number of days with this mean
    rapid_share: float = 0.2  # referrals a physician marks as rapidly progressing
    days: int = 365
    wait_threshold_days: int = 60  # count patients waiting longer than this, referral to infusion
    tail_days: int = 240  # the horizon beyond the year, so late referrals can still be planned

    def __post_init__(self) -> None:
        for name in ("failure_rate", "courier_late_rate", "rapid_share"):
            value = getattr(self, name)
            if not 0 <= value < 1:
                raise InvalidInput(f"{name} must be at least 0 and below 1; got {value}")
        if self.referrals_per_year <= 0 or self.days < 1:
            raise InvalidInput("referrals_per_year and days must be positive")
        if not self.mix or any(v < 0 for v in self.mix.values()) or sum(self.mix.values()) <= 0:
            raise InvalidInput("mix must give each indication a share of at least 0, not all 0")


@dataclass(frozen=True)
class Scenario:
    """What every replication needs: the network, the timings, the start date, the assumptions."""

    network: Network
    timings: Mapping[str, Timings]
    origin: date
    assumptions: Assumptions


@dataclass(frozen=True)
class Replication:
    seed: int
    referrals: int
    infused: int
    refused: int
    failures: int
    late_shipments: int
    vein_to_vein: tuple[int, ...]  # final apheresis to infusion, per infused patient
    referral_to_infusion: tuple[int, ...]
    waiting_past: int
    utilisation: Mapping[str, float]  # resource -> share of its capacity used in the year


def simulate_year(scenario: Scenario, seed: int) -> Replication:
    """One replication: a year of referrals, planned on arrival and re-planned on each slip."""
    a = scenario.assumptions
    rng = np.random.default_rng(seed)
    problem = Problem(scenario.network, scenario.origin, a.days + a.tail_days, scenario.timings)
    indications = sorted(a.mix)
    shares = np.array([a.mix[i] for i in indications], dtype=float)
    shares /= shares.sum()
    centres = [c.id for c in scenario.network.centres]
    arrivals = rng.poisson(a.referrals_per_year / 365.0, size=a.days)
    events: list[tuple[int, int, str]] = []
    cases: dict[str, Case] = {}
    for day, count in enumerate(arrivals):
        for _ in range(int(count)):
            cid = f"r{len(cases) + 1:05d}"
            cases[cid] = Case(
                id=cid,
                centre=centres[int(rng.integers(len(centres)))],
                indication=indications[int(rng.choice(len(indications), p=shares))],
                ready_day=day,
                priority="rapidly_progressing" if rng.random() < a.rapid_share else "routine",
            )
            heapq.heappush(events, (day, ARRIVAL, cid))
    usage = Usage()
    plans: dict[str, Plan] = {}
    refused = failures = late = 0
    while events:
        day, kind, cid = heapq.heappop(events)
        case = cases[cid]
        if kind == ARRIVAL:
            found: Plan | NoPlan = earliest_plan(problem, case, usage)
            if isinstance(found, Plan):
                usage.add(found)
        elif kind == RELEASE:
            if rng.random() >= a.failure_rate:
                heapq.heappush(events, (plans[cid].shipment, SHIPMENT, cid))
                continue
            failures += 1
            found, _ = replan(problem, case, plans[cid], Slip("manufacturing_failed", day), usage)
        else:
            if rng.random() >= a.courier_late_rate:
                continue
            late += 1
            delay = 1 + int(rng.poisson(max(0.0, a.courier_delay_mean_days - 1)))
            found, _ = replan(problem, case, plans[cid], Slip("courier_late", day, delay), usage)
        if isinstance(found, NoPlan):
            refused += 1
            plans.pop(cid, None)
            continue
        plans[cid] = found
        if kind != SHIPMENT:
            heapq.heappush(events, (found.release, RELEASE, cid))
    infused = list(plans.values())
    waits = [p.infusion - cases[p.case].ready_day for p in infused]
    return Replication(
        seed=seed,
        referrals=len(cases),
        infused=len(infused),
        refused=refused,
        failures=failures,
        late_shipments=late,
        vein_to_vein=tuple(sorted(p.vein_to_vein for p in infused)),
        referral_to_infusion=tuple(sorted(waits)),
        waiting_past=sum(w > a.wait_threshold_days for w in waits),
        utilisation=utilisation(problem, usage, a.days),
    )


def utilisation(problem: Problem, usage: Usage, days: int) -> dict[str, float]:
    """Used over available capacity in ``[0, days)``, for every resource that has capacity."""
    net = problem.network
    keys: list[tuple[str, ...]] = []
    for c in net.centres:
        keys += [("chair", c.id), ("bed", c.id), ("monitoring", c.id)]
    for s in net.sites:
        keys += [("slot", s.id, p) for p in sorted(s.slots)]
    keys += [("lane", ln.site, ln.centre) for ln in net.lanes]
    out: dict[str, float] = {}
    for key in keys:
        available = sum(problem.capacity(key, d) for d in range(days))
        if available:
            used = sum(usage.at(key, d) for d in range(days))
            out[" ".join(key)] = used / available
    return out


def _run_one(args: tuple[Scenario, int]) -> Replication:
    return simulate_year(*args)


def replication_seeds(seed: int, replications: int) -> list[int]:
    """Independent seeds for each replication, from one seed (NumPy's SeedSequence)."""
    children = np.random.SeedSequence(seed).generate_state(replications)
    return [int(s) for s in children]


def _on_dask(
    jobs: list[tuple[Scenario, int]],
    scheduler: str | None,
    client: Any,
    wrap: Callable[[Iterable[Any], int], Iterable[Any]],
) -> list[Replication]:
    from distributed import Client, as_completed

    own = client is None
    dask_client: Any = Client(scheduler) if own else client  # type: ignore[no-untyped-call]
    try:
        futures: list[Any] = dask_client.map(_run_one, jobs, pure=False)
        index = {f.key: k for k, f in enumerate(futures)}
        done: dict[int, Replication] = {}
        finished: Iterable[Any] = as_completed(futures)  # type: ignore[no-untyped-call]
        for future in wrap(finished, len(jobs)):
            done[index[future.key]] = future.result()
        return [done[k] for k in range(len(jobs))]
    finally:
        if own:
            dask_client.close()


def run_replications(
    scenario: Scenario,
    replications: int,
    seed: int,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    client: Any = None,
    progress: Callable[[Iterable[Any], int], Iterable[Any]] | None = None,
) -> list[Replication]:
    """Every replication, in seed order: in this process (``workers=1``), on local processes,
    or on a Dask cluster given its scheduler's address (or a ``distributed.Client``)."""
    if replications < 1:
        raise InvalidInput(f"replications must be at least 1; got {replications}")
    seeds = replication_seeds(seed, replications)
    jobs = [(scenario, s) for s in seeds]
    wrap: Callable[[Iterable[Any], int], Iterable[Any]] = progress or (lambda it, n: it)
    if client is not None or scheduler is not None:
        return _on_dask(jobs, scheduler, client, wrap)
    if workers <= 1:
        return list(wrap((_run_one(j) for j in jobs), replications))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(wrap(pool.map(_run_one, jobs), replications))


@dataclass(frozen=True)
class Summary:
    replications: int
    referrals: float  # mean per replication
    vein_to_vein: Mapping[str, float]  # median, p90, mean over every infused patient
    referral_to_infusion: Mapping[str, float]
    waiting_past: Mapping[str, float]  # mean and the 5th and 95th percentile over replications
    refused_mean: float
    utilisation: Mapping[str, float]  # mean over replications

    def to_dict(self) -> dict[str, Any]:
        return {
            "replications": self.replications,
            "referrals_mean": self.referrals,
            "vein_to_vein_days": dict(self.vein_to_vein),
            "referral_to_infusion_days": dict(self.referral_to_infusion),
            "waiting_past": dict(self.waiting_past),
            "refused_mean": self.refused_mean,
            "utilisation": dict(self.utilisation),
        }


def _quantiles(values: Sequence[int]) -> dict[str, float]:
    if not values:
        return {"median": float("nan"), "p90": float("nan"), "mean": float("nan")}
    arr = np.asarray(values, dtype=float)
    return {
        "median": float(np.median(arr)),
        "p90": float(np.percentile(arr, 90)),
        "mean": float(arr.mean()),
    }


def summarise(results: Sequence[Replication]) -> Summary:
    v2v = [v for r in results for v in r.vein_to_vein]
    r2i = [v for r in results for v in r.referral_to_infusion]
    waiting = np.array([r.waiting_past for r in results], dtype=float)
    keys = sorted({k for r in results for k in r.utilisation})
    return Summary(
        replications=len(results),
        referrals=float(np.mean([r.referrals for r in results])),
        vein_to_vein=_quantiles(v2v),
        referral_to_infusion=_quantiles(r2i),
        waiting_past={
            "mean": float(waiting.mean()),
            "p5": float(np.percentile(waiting, 5)),
            "p95": float(np.percentile(waiting, 95)),
        },
        refused_mean=float(np.mean([r.refused for r in results])),
        utilisation={k: float(np.mean([r.utilisation.get(k, 0.0) for r in results])) for k in keys},
    )
