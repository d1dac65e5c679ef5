"""The earliest feasible plan for one case, against the capacity other plans already hold.

Every leg only puts a lower bound on the next (cells arrive after collection, release follows
the run, the product ships after release, lymphodepletion starts once the product is at the
centre), so the earliest free apheresis chair leads to the earliest infusion: a later
collection could only choose among fewer days. The search is therefore one pass along the
chain for each courier lane, keeping the earliest infusion.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from cartflow.scheduling.network import Lane
from cartflow.scheduling.plan import Case, Plan, Usage
from cartflow.scheduling.problem import Problem
from cartflow.scheduling.timings import NoPlan, Timings


@dataclass(frozen=True)
class Fixed:
    """Legs that have happened (or are bound) and may not move, and lower bounds from facts."""

    apheresis: int | None = None
    site: str | None = None
    manufacturing_start: int | None = None
    release: int | None = None
    shipment: int | None = None
    arrival: int | None = None
    not_before: int | None = None  # the first unfixed leg may not start before this day


def _free(problem: Problem, usage: Usage, key: tuple[str, ...], start: int, length: int) -> bool:
    return all(
        usage.at(key, day) < problem.capacity(key, day) for day in range(start, start + length)
    )


def earliest_plan(
    problem: Problem, case: Case, usage: Usage, fixed: Fixed = Fixed()
) -> Plan | NoPlan:
    """The plan with the earliest infusion for ``case``, or why there is none."""
    timing = problem.timings.get(case.indication)
    if timing is None:
        return NoPlan(case.id, f"{case.indication}: no timings (see the missing facts)")
    lanes = [
        ln
        for ln in problem.network.lanes_to(case.centre, timing.product)
        if fixed.site is None or ln.site == fixed.site
    ]
    if not lanes:
        return NoPlan(
            case.id,
            f"no manufacturing site makes {timing.product} with a courier lane to {case.centre}",
        )
    floor = max(case.ready_day, fixed.not_before or 0)
    if fixed.apheresis is not None:
        apheresis: int | None = fixed.apheresis
    else:
        apheresis = next(
            (
                d
                for d in range(floor, problem.horizon)
                if _free(problem, usage, ("chair", case.centre), d, 1)
            ),
            None,
        )
    if apheresis is None:
        return NoPlan(case.id, f"no apheresis chair at {case.centre} within the horizon")
    best: Plan | None = None
    for lane in lanes:
        plan = _chain(problem, case, timing, usage, lane, apheresis, fixed, floor)
        if plan is not None and (best is None or plan.infusion < best.infusion):
            best = plan
    if best is None:
        return NoPlan(
            case.id,
            f"no feasible plan within {problem.horizon} days: manufacturing, courier, bed or "
            "monitoring capacity is full",
        )
    if fixed.apheresis is None:
        best = collect_late(problem, best, usage, floor)
    return best


def collect_late(problem: Problem, plan: Plan, usage: Usage, floor: int = 0) -> Plan:
    """The same plan with the collection as late as its run allows (a free chair, open day).

    The infusion does not move, but the cells no longer wait for a manufacturing slot and the
    patient is not collected weeks before a run can start. ``usage`` must not hold ``plan``.
    """
    lane = next(
        ln for ln in problem.network.lanes if ln.site == plan.site and ln.centre == plan.centre
    )
    latest = plan.manufacturing_start - lane.transit_days
    for day in range(latest, max(plan.apheresis, floor) - 1, -1):
        if _free(problem, usage, ("chair", plan.centre), day, 1):
            return replace(plan, apheresis=day)
    return plan


def _first(days: Iterable[int], ok: object) -> int | None:
    for day in days:
        if ok(day):  # type: ignore[operator]
            return day
    return None


def _chain(
    problem: Problem,
    case: Case,
    t: Timings,
    usage: Usage,
    lane: Lane,
    apheresis: int,
    fixed: Fixed,
    floor: int,
) -> Plan | None:
    h = problem.horizon
    site = lane.site
    slot = ("slot", site, t.product)
    if fixed.manufacturing_start is not None:
        start: int | None = fixed.manufacturing_start
    else:
        start = _first(
            range(max(apheresis + lane.transit_days, floor), h - t.turnaround_days),
            lambda d: (
                problem.is_open(site, d) and _free(problem, usage, slot, d, t.turnaround_days)
            ),
        )
    if start is None:
        return None
    release = fixed.release if fixed.release is not None else start + t.turnaround_days
    if fixed.shipment is not None:
        shipment: int | None = fixed.shipment
    else:
        shipment = _first(
            range(max(release, floor), h),
            lambda d: _free(problem, usage, ("lane", site, case.centre), d, 1),
        )
    if shipment is None:
        return None
    arrival = fixed.arrival if fixed.arrival is not None else shipment + lane.transit_days
    arrival = max(arrival, floor)
    first_infusion = arrival + t.ld_days - 1 + t.window_min
    for infusion in range(first_infusion, h - t.monitoring_days + 1):
        if not (
            _free(problem, usage, ("bed", case.centre), infusion, 1)
            and _free(problem, usage, ("monitoring", case.centre), infusion, t.monitoring_days)
        ):
            continue
        # The shortest gap after lymphodepletion the label allows, so the cells meet the
        # lymphodepleted window as the label intends and the patient waits least in between.
        latest = infusion - t.ld_days + 1 - t.window_min
        earliest = max(arrival, infusion - t.ld_days + 1 - t.window_max)
        ld_start = _first(
            range(latest, earliest - 1, -1), lambda d: problem.is_open(case.centre, d)
        )
        if ld_start is None:
            continue
        return Plan(
            case=case.id,
            centre=case.centre,
            site=site,
            product=t.product,
            apheresis=apheresis,
            manufacturing_start=start,
            release=release,
            shipment=shipment,
            arrival=arrival,
            ld_start=ld_start,
            ld_days=t.ld_days,
            infusion=infusion,
            monitoring_days=t.monitoring_days,
            post_thaw_minutes=t.post_thaw_minutes,
        )
    return None


def greedy_plans(
    problem: Problem, cases: Iterable[Case], usage: Usage | None = None
) -> tuple[dict[str, Plan], dict[str, NoPlan]]:
    """First come, first served: each case in order of readiness takes its earliest plan."""
    usage = usage if usage is not None else Usage()
    plans: dict[str, Plan] = {}
    refused: dict[str, NoPlan] = {}
    for case in sorted(cases, key=lambda c: (c.ready_day, c.id)):
        found = earliest_plan(problem, case, usage)
        if isinstance(found, NoPlan):
            refused[case.id] = found
        else:
            usage.add(found)
            plans[case.id] = found
    return plans, refused
