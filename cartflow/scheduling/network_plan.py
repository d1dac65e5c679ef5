"""A plan for all open cases at once, with OR-Tools CP-SAT, beside the greedy plan.

The model (docs/scheduling.md): for each case an apheresis day, a choice of manufacturing site,
the run's start, the shipment, the arrival, the first day of lymphodepletion and the infusion
day; closed days are left out of each variable's domain; the label's window ties infusion to
the end of lymphodepletion; every resource is a cumulative constraint (a chair, a bed and a
shipment hold one unit for a day, a run holds its slot for the turnaround, a patient holds a
monitoring bed for the monitoring period). The objective is the total (or the worst) number
of days from readiness to infusion, weighted by the physician's priority: measured from
apheresis instead, the solver could delay collection for free.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ortools.sat.python import cp_model

from cartflow.scheduling.earliest import collect_late, greedy_plans
from cartflow.scheduling.plan import Case, Plan, Usage
from cartflow.scheduling.problem import Problem
from cartflow.scheduling.timings import NoPlan

Objective = Literal["total", "worst"]
OBJECTIVES: tuple[str, ...] = ("total", "worst")


@dataclass(frozen=True)
class NetworkPlan:
    """The solver's plan with its objective, best bound and gap, and the greedy plan's."""

    plans: dict[str, Plan]
    refused: dict[str, NoPlan]
    status: str
    objective: int | None
    best_bound: float
    greedy_plans: dict[str, Plan]
    greedy_objective: int
    objective_kind: str
    solver_seconds: float
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def gap(self) -> float | None:
        """(objective - bound) / objective: 0 is proven optimal."""
        if self.objective is None:
            return None
        if self.objective == 0:
            return 0.0
        return max(0.0, (self.objective - self.best_bound) / self.objective)


def objective_value(cases: Iterable[Case], plans: dict[str, Plan], kind: str) -> int:
    """The network objective of a set of plans, computed the same way for both planners."""
    terms = [c.weight * (plans[c.id].infusion - c.ready_day) for c in cases if c.id in plans]
    if not terms:
        return 0
    return sum(terms) if kind == "total" else max(terms)


def plan_network(
    problem: Problem,
    cases: Sequence[Case],
    *,
    objective: Objective = "total",
    time_limit_s: float = 10.0,
    workers: int = 1,
    seed: int = 0,
) -> NetworkPlan:
    """Plan every case with CP-SAT, starting from the greedy plan (which it may only improve).

    Cases the greedy planner cannot place (missing facts, no capacity in the horizon) are
    refused with its reason and left out of the model.
    """
    greedy, refused = greedy_plans(problem, cases)
    planned = [c for c in cases if c.id in greedy]
    greedy_objective = objective_value(planned, greedy, objective)
    if not planned:
        return NetworkPlan({}, refused, "EMPTY", 0, 0.0, greedy, 0, objective, 0.0)
    model = cp_model.CpModel()
    h = problem.horizon
    net = problem.network
    chair: defaultdict[str, list[cp_model.IntervalVar]] = defaultdict(list)
    bed: defaultdict[str, list[cp_model.IntervalVar]] = defaultdict(list)
    watch: defaultdict[str, list[cp_model.IntervalVar]] = defaultdict(list)
    slot: defaultdict[tuple[str, str], list[cp_model.IntervalVar]] = defaultdict(list)
    lane_use: defaultdict[tuple[str, str], list[cp_model.IntervalVar]] = defaultdict(list)
    out: dict[str, dict[str, Any]] = {}
    terms: list[Any] = []
    for case in planned:
        t = problem.timing(case)
        hint = greedy[case.id]
        centre_open = sorted(problem.open_days(case.centre))

        def var(name: str, days: Iterable[int], hinted: int, c: Case = case) -> cp_model.IntVar:
            v = model.new_int_var_from_domain(
                cp_model.Domain.from_values(list(days)), f"{c.id}.{name}"
            )
            model.add_hint(v, hinted)
            return v

        a = var("apheresis", [d for d in centre_open if d >= case.ready_day], hint.apheresis)
        m = model.new_int_var(0, h - t.turnaround_days, f"{case.id}.start")
        model.add_hint(m, hint.manufacturing_start)
        s = model.new_int_var(0, h - 1, f"{case.id}.ship")
        model.add_hint(s, hint.shipment)
        arrival = model.new_int_var(0, h - 1, f"{case.id}.arrival")
        model.add_hint(arrival, hint.arrival)
        ld = var("ld", centre_open, hint.ld_start)
        i = var("infusion", [d for d in centre_open if d + t.monitoring_days <= h], hint.infusion)
        lanes = net.lanes_to(case.centre, t.product)
        chosen = []
        for lane in lanes:
            x = model.new_bool_var(f"{case.id}.via.{lane.site}")
            model.add_hint(x, lane.site == hint.site)
            chosen.append((lane, x))
            site_open = cp_model.Domain.from_values(sorted(problem.open_days(lane.site)))
            model.add(m >= a + lane.transit_days).only_enforce_if(x)
            model.add_linear_expression_in_domain(m, site_open).only_enforce_if(x)
            model.add_linear_expression_in_domain(s, site_open).only_enforce_if(x)
            model.add(arrival == s + lane.transit_days).only_enforce_if(x)
            slot[lane.site, t.product].append(
                model.new_optional_fixed_size_interval_var(
                    m, t.turnaround_days, x, f"{case.id}.run"
                )
            )
            lane_use[lane.site, case.centre].append(
                model.new_optional_fixed_size_interval_var(s, 1, x, f"{case.id}.shipment")
            )
        model.add_exactly_one(x for _, x in chosen)
        model.add(s >= m + t.turnaround_days)
        model.add(ld >= arrival)
        ld_end = ld + (t.ld_days - 1)
        model.add(i >= ld_end + t.window_min)
        model.add(i <= ld_end + t.window_max)
        chair[case.centre].append(model.new_fixed_size_interval_var(a, 1, f"{case.id}.chair"))
        bed[case.centre].append(model.new_fixed_size_interval_var(i, 1, f"{case.id}.bed"))
        watch[case.centre].append(
            model.new_fixed_size_interval_var(i, t.monitoring_days, f"{case.id}.monitoring")
        )
        terms.append(case.weight * (i - case.ready_day))
        out[case.id] = {
            "a": a,
            "m": m,
            "s": s,
            "arrival": arrival,
            "ld": ld,
            "i": i,
            "lanes": chosen,
            "t": t,
            "case": case,
        }
    for centre in net.centres:
        if chair[centre.id]:
            model.add_cumulative(
                chair[centre.id], [1] * len(chair[centre.id]), centre.apheresis_chairs
            )
            model.add_cumulative(bed[centre.id], [1] * len(bed[centre.id]), centre.infusion_beds)
            model.add_cumulative(
                watch[centre.id], [1] * len(watch[centre.id]), centre.monitoring_beds
            )
    for (site_id, product), intervals in slot.items():
        capacity = net.site(site_id).slots.get(product, 0)
        model.add_cumulative(intervals, [1] * len(intervals), capacity)
    lanes_by_key = {(ln.site, ln.centre): ln for ln in net.lanes}
    for key, intervals in lane_use.items():
        model.add_cumulative(intervals, [1] * len(intervals), lanes_by_key[key].shipments_per_day)
    if objective == "total":
        model.minimize(sum(terms))
    else:
        worst = model.new_int_var(0, 3 * h, "worst")
        model.add_max_equality(worst, terms)
        model.minimize(worst)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    status = solver.solve(model)
    name = solver.status_name(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return NetworkPlan(
            {},
            refused,
            name,
            None,
            solver.best_objective_bound,
            greedy,
            greedy_objective,
            objective,
            solver.wall_time,
        )
    plans: dict[str, Plan] = {}
    for cid, v in out.items():
        t = v["t"]
        lane = next(ln for ln, x in v["lanes"] if solver.value(x))
        begun = solver.value(v["m"])
        plans[cid] = Plan(
            case=cid,
            centre=v["case"].centre,
            site=lane.site,
            product=t.product,
            apheresis=solver.value(v["a"]),
            manufacturing_start=begun,
            release=begun + t.turnaround_days,
            shipment=solver.value(v["s"]),
            arrival=solver.value(v["arrival"]),
            ld_start=solver.value(v["ld"]),
            ld_days=t.ld_days,
            infusion=solver.value(v["i"]),
            monitoring_days=t.monitoring_days,
            post_thaw_minutes=t.post_thaw_minutes,
        )
    # Only the infusion day counts in the objective, so the solver may collect early and leave
    # the cells waiting for a slot; moving each collection to the latest free chair before its
    # run keeps every constraint and every infusion day.
    usage = Usage(plans.values())
    for cid in sorted(plans):
        usage.remove(plans[cid])
        plans[cid] = collect_late(problem, plans[cid], usage)
        usage.add(plans[cid])
    return NetworkPlan(
        plans=plans,
        refused=refused,
        status=name,
        objective=round(solver.objective_value),
        best_bound=solver.best_objective_bound,
        greedy_plans=greedy,
        greedy_objective=greedy_objective,
        objective_kind=objective,
        solver_seconds=solver.wall_time,
        stats={"branches": solver.num_branches, "conflicts": solver.num_conflicts},
    )
