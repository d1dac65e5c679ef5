"""Small networks and a brute-force optimum for the scheduling tests."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date

from cartflow.scheduling.network import Calendar, Centre, Lane, ManufacturingSite, Network
from cartflow.scheduling.plan import Case, Plan
from cartflow.scheduling.problem import Problem
from cartflow.scheduling.timings import Timings

ORIGIN = date(2026, 12, 7)  # a Monday
OPEN_EVERY_DAY = Calendar(closed_weekdays=frozenset())


def timings(
    product: str = "p",
    *,
    turnaround: int = 3,
    window: tuple[int, int] = (1, 2),
    ld_days: int = 1,
    monitoring: int = 2,
) -> Timings:
    return Timings(
        indication=f"{product}/x",
        product=product,
        window_min=window[0],
        window_max=window[1],
        ld_days=ld_days,
        monitoring_days=monitoring,
        turnaround_days=turnaround,
        post_thaw_minutes=30,
        sources=(),
    )


def tiny_network(sites: int = 1, calendar: Calendar = OPEN_EVERY_DAY, transit: int = 1) -> Network:
    centre = Centre("C1", "US", 1, 1, 2, calendar)
    ss = tuple(ManufacturingSite(f"M{k + 1}", {"p": 1}, calendar) for k in range(sites))
    lanes = tuple(Lane(s.id, "C1", transit + k, 1) for k, s in enumerate(ss))
    return Network((centre,), ss, lanes)


def brute_force_total(problem: Problem, cases: Sequence[Case]) -> int:
    """The least total weighted days to infusion over every combination of plans.

    Plans are enumerated leg by leg within the horizon; two plans that hold the same resources
    on the same days and infuse on the same day are one (lymphodepletion holds no resource).
    """
    options = [sorted(_plans(problem, c), key=lambda p: p.infusion) for c in cases]
    cost = [
        [c.weight * (p.infusion - c.ready_day) for p in opts]
        for c, opts in zip(cases, options, strict=True)
    ]
    rest = [sum(min(cs) for cs in cost[k:]) for k in range(len(cases))] + [0]
    best = [10**9]

    def fits(chosen: list[Plan]) -> bool:
        use: Counter[tuple[str, ...]] = Counter()
        for p in chosen:
            use["chair", p.centre, str(p.apheresis)] += 1
            use["bed", p.centre, str(p.infusion)] += 1
            use["lane", p.site, str(p.shipment)] += 1
            for d in range(p.infusion, p.infusion + p.monitoring_days):
                use["mon", p.centre, str(d)] += 1
            for d in range(p.manufacturing_start, p.release):
                use["slot", p.site, str(d)] += 1
        net = problem.network
        caps = {
            "chair": net.centres[0].apheresis_chairs,
            "bed": net.centres[0].infusion_beds,
            "mon": net.centres[0].monitoring_beds,
            "lane": 1,
            "slot": 1,
        }
        return all(n <= caps[k[0]] for k, n in use.items())

    def search(k: int, chosen: list[Plan], total: int) -> None:
        if k == len(cases):
            best[0] = min(best[0], total)
            return
        for plan, c in zip(options[k], cost[k], strict=True):
            if total + c + rest[k + 1] >= best[0]:
                break
            chosen.append(plan)
            if fits(chosen):
                search(k + 1, chosen, total + c)
            chosen.pop()

    search(0, [], 0)
    return best[0]


def _plans(problem: Problem, case: Case) -> list[Plan]:
    t = problem.timing(case)
    h = problem.horizon
    seen: dict[tuple[object, ...], Plan] = {}
    for lane in problem.network.lanes:
        for a in range(case.ready_day, h):
            if not problem.is_open(case.centre, a):
                continue
            for m in range(a + lane.transit_days, h - t.turnaround_days + 1):
                if not problem.is_open(lane.site, m):
                    continue
                for s in range(m + t.turnaround_days, h):
                    if not problem.is_open(lane.site, s):
                        continue
                    arrival = s + lane.transit_days
                    for ld in range(arrival, h):
                        if not problem.is_open(case.centre, ld):
                            continue
                        end = ld + t.ld_days - 1
                        for i in range(end + t.window_min, end + t.window_max + 1):
                            if i + t.monitoring_days > h or not problem.is_open(case.centre, i):
                                continue
                            key = (lane.site, a, m, s, i)
                            seen.setdefault(
                                key,
                                Plan(
                                    case.id,
                                    case.centre,
                                    lane.site,
                                    t.product,
                                    a,
                                    m,
                                    m + t.turnaround_days,
                                    s,
                                    arrival,
                                    ld,
                                    t.ld_days,
                                    i,
                                    t.monitoring_days,
                                    t.post_thaw_minutes,
                                ),
                            )
    return list(seen.values())
