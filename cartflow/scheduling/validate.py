"""An independent check of plans: every label window and every capacity, counted afresh.

Written apart from the planners on purpose (it shares only the data types), so a planner's
mistake is not repeated in its own check. The property tests run every plan through it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import timedelta

from cartflow.scheduling.plan import Case, Plan
from cartflow.scheduling.problem import Problem


def violations(problem: Problem, cases: Iterable[Case], plans: Mapping[str, Plan]) -> list[str]:
    """Every broken rule, as a sentence naming the case and the leg; empty when all hold."""
    by_id = {c.id: c for c in cases}
    found: list[str] = []
    for plan in plans.values():
        case = by_id.get(plan.case)
        if case is None:
            found.append(f"{plan.case}: a plan for a case that is not open")
            continue
        found.extend(_legs(problem, case, plan))
    found.extend(_capacities(problem, plans.values()))
    return found


def _open(problem: Problem, place: str, day: int) -> bool:
    centres = {c.id: c.calendar for c in problem.network.centres}
    sites = {s.id: s.calendar for s in problem.network.sites}
    calendar = centres.get(place) or sites[place]
    return calendar.is_open(problem.origin + timedelta(days=day))


def _legs(problem: Problem, case: Case, p: Plan) -> list[str]:
    bad: list[str] = []
    t = problem.timings[case.indication]
    lane = [ln for ln in problem.network.lanes if ln.site == p.site and ln.centre == case.centre]
    site = [s for s in problem.network.sites if s.id == p.site]

    def need(ok: bool, what: str) -> None:
        if not ok:
            bad.append(f"{case.id}: {what}")

    need(p.centre == case.centre, f"planned at {p.centre}, referred to {case.centre}")
    need(p.product == t.product, f"product {p.product}, the indication's is {t.product}")
    need(bool(lane), f"no courier lane {p.site}->{case.centre}")
    need(bool(site) and site[0].slots.get(t.product, 0) > 0, f"{p.site} does not make {t.product}")
    if not lane:
        return bad
    transit = lane[0].transit_days
    need(p.apheresis >= case.ready_day, "apheresis before the patient is ready")
    need(_open(problem, case.centre, p.apheresis), "apheresis on a closed day")
    need(p.manufacturing_start >= p.apheresis + transit, "manufacturing before the cells arrive")
    need(_open(problem, p.site, p.manufacturing_start), "manufacturing starts on a closed day")
    need(p.release >= p.manufacturing_start + t.turnaround_days, "release before the turnaround")
    need(p.shipment >= p.release, "shipped before release")
    need(_open(problem, p.site, p.shipment), "shipped on a closed day")
    need(p.arrival >= p.shipment + transit, "arrives faster than the lane's transit")
    need(p.ld_start >= p.arrival, "lymphodepletion before the product is at the centre")
    need(_open(problem, case.centre, p.ld_start), "lymphodepletion starts on a closed day")
    need(
        p.ld_days == t.ld_days, f"lymphodepletion of {p.ld_days} days, the regimen's is {t.ld_days}"
    )
    gap = p.infusion - (p.ld_start + p.ld_days - 1)
    need(
        t.window_min <= gap <= t.window_max,
        f"infusion {gap} days after lymphodepletion, the label allows "
        f"{t.window_min}-{t.window_max}",
    )
    need(_open(problem, case.centre, p.infusion), "infusion on a closed day")
    need(p.monitoring_days == t.monitoring_days, "monitoring shorter or longer than the label's")
    need(p.post_thaw_minutes == t.post_thaw_minutes, "post-thaw limit differs from the label's")
    need(
        p.apheresis >= 0 and p.infusion + p.monitoring_days <= problem.horizon,
        "outside the planning horizon",
    )
    return bad


def _capacities(problem: Problem, plans: Iterable[Plan]) -> list[str]:
    chairs: Counter[tuple[str, int]] = Counter()
    beds: Counter[tuple[str, int]] = Counter()
    monitoring: Counter[tuple[str, int]] = Counter()
    slots: Counter[tuple[str, str, int]] = Counter()
    shipments: Counter[tuple[str, str, int]] = Counter()
    for p in plans:
        chairs[p.centre, p.apheresis] += 1
        beds[p.centre, p.infusion] += 1
        for d in range(p.infusion, p.infusion + p.monitoring_days):
            monitoring[p.centre, d] += 1
        for d in range(p.manufacturing_start, p.release):
            slots[p.site, p.product, d] += 1
        shipments[p.site, p.centre, p.shipment] += 1
    centres = {c.id: c for c in problem.network.centres}
    sites = {s.id: s for s in problem.network.sites}
    lanes = {(ln.site, ln.centre): ln for ln in problem.network.lanes}
    bad: list[str] = []
    for (centre, day), n in chairs.items():
        if n > centres[centre].apheresis_chairs:
            bad.append(
                f"{centre} day {day}: {n} collections, {centres[centre].apheresis_chairs} chairs"
            )
    for (centre, day), n in beds.items():
        if n > centres[centre].infusion_beds:
            bad.append(f"{centre} day {day}: {n} infusions, {centres[centre].infusion_beds} beds")
    for (centre, day), n in monitoring.items():
        if n > centres[centre].monitoring_beds:
            bad.append(f"{centre} day {day}: {n} monitored, {centres[centre].monitoring_beds} beds")
    for (site, product, day), n in slots.items():
        cap = sites[site].slots.get(product, 0) if site in sites else 0
        if n > cap:
            bad.append(f"{site} day {day}: {n} runs of {product}, {cap} slots")
    for (site, centre, day), n in shipments.items():
        lane = lanes.get((site, centre))
        cap = lane.shipments_per_day if lane else 0
        if n > cap:
            bad.append(f"lane {site}->{centre} day {day}: {n} shipments, capacity {cap}")
    return bad
