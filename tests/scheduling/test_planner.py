"""The planners propose only plans that keep every label window and every capacity."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cartflow.scheduling.earliest import earliest_plan, greedy_plans
from cartflow.scheduling.network import Calendar, Centre, Lane, ManufacturingSite, Network
from cartflow.scheduling.network_plan import objective_value, plan_network
from cartflow.scheduling.plan import Case, Usage
from cartflow.scheduling.problem import Problem
from cartflow.scheduling.timings import NoPlan
from cartflow.scheduling.validate import violations
from tests.scheduling.helpers import ORIGIN, brute_force_total, timings, tiny_network

PROPERTY = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


@st.composite
def networks_and_cases(draw: st.DrawFn) -> tuple[Problem, list[Case]]:
    products = ["p", "q"]
    weekend = Calendar()
    centres = tuple(
        Centre(
            f"C{k}",
            "US",
            draw(st.integers(1, 2)),
            draw(st.integers(1, 2)),
            draw(st.integers(1, 4)),
            draw(st.sampled_from([weekend, Calendar(closed_weekdays=frozenset())])),
        )
        for k in range(draw(st.integers(1, 3)))
    )
    sites = tuple(
        ManufacturingSite(
            f"M{k}",
            {p: draw(st.integers(0, 2)) for p in products},
            draw(st.sampled_from([weekend, Calendar(closed_weekdays=frozenset({6}))])),
        )
        for k in range(draw(st.integers(1, 2)))
    )
    lanes = tuple(
        Lane(s.id, c.id, draw(st.integers(0, 3)), draw(st.integers(1, 2)))
        for s in sites
        for c in centres
        if draw(st.booleans()) or s is sites[0]
    )
    found = {}
    for p in products:
        low = draw(st.integers(0, 3))
        t = timings(
            p,
            turnaround=draw(st.integers(1, 10)),
            window=(low, low + draw(st.integers(0, 4))),
            ld_days=draw(st.integers(1, 4)),
            monitoring=draw(st.integers(1, 14)),
        )
        found[t.indication] = t
    cases = [
        Case(
            f"k{n}",
            draw(st.sampled_from([c.id for c in centres])),
            draw(st.sampled_from(sorted(found))),
            draw(st.integers(0, 20)),
            draw(st.sampled_from(["routine", "rapidly_progressing"])),
        )
        for n in range(draw(st.integers(1, 8)))
    ]
    return Problem(Network(centres, sites, lanes), ORIGIN, 90, found), cases


@PROPERTY
@given(networks_and_cases())
def test_the_greedy_plan_breaks_no_window_and_no_capacity(
    drawn: tuple[Problem, list[Case]],
) -> None:
    problem, cases = drawn
    plans, refused = greedy_plans(problem, cases)
    assert violations(problem, cases, plans) == []
    assert set(plans) | set(refused) == {c.id for c in cases}


@PROPERTY
@given(networks_and_cases())
def test_the_solver_plan_breaks_no_window_and_no_capacity_and_is_no_worse(
    drawn: tuple[Problem, list[Case]],
) -> None:
    problem, cases = drawn
    result = plan_network(problem, cases, time_limit_s=2.0, workers=1, seed=1)
    assert violations(problem, cases, result.plans) == []
    if result.objective is not None:
        assert result.objective <= result.greedy_objective
        assert result.objective == objective_value(cases, result.plans, "total")


def test_the_validator_catches_a_broken_window_and_an_overbooked_chair() -> None:
    problem = Problem(tiny_network(), ORIGIN, 40, {"p/x": timings()})
    cases = [Case("a", "C1", "p/x", 0), Case("b", "C1", "p/x", 0)]
    plans, _ = greedy_plans(problem, cases)
    late = plans["a"].shifted(infusion=plans["a"].infusion + 5)
    assert any("label allows 1-2" in v for v in violations(problem, cases, {"a": late}))
    same_chair = plans["b"].shifted(apheresis=plans["a"].apheresis)
    found = violations(problem, cases, {"a": plans["a"], "b": same_chair})
    assert any("1 chairs" in v for v in found)


def test_the_earliest_plan_keeps_weekends_and_the_shortest_gap_after_chemotherapy() -> None:
    network = tiny_network(calendar=Calendar())
    problem = Problem(network, ORIGIN, 60, {"p/x": timings(window=(2, 7), ld_days=3)})
    plan = earliest_plan(problem, Case("a", "C1", "p/x", 5), Usage())  # ready on a Saturday
    assert not isinstance(plan, NoPlan)
    assert plan.apheresis == 7  # the Monday after
    assert plan.infusion - (plan.ld_start + 2) >= 2
    assert violations(problem, [Case("a", "C1", "p/x", 5)], {"a": plan}) == []


def test_a_second_case_waits_for_the_only_manufacturing_slot() -> None:
    problem = Problem(tiny_network(), ORIGIN, 60, {"p/x": timings(turnaround=5)})
    cases = [Case("a", "C1", "p/x", 0), Case("b", "C1", "p/x", 0)]
    plans, _ = greedy_plans(problem, cases)
    assert plans["b"].manufacturing_start >= plans["a"].release


def test_no_capacity_within_the_horizon_is_a_reason_not_a_plan() -> None:
    problem = Problem(tiny_network(), ORIGIN, 6, {"p/x": timings(turnaround=5)})
    found = earliest_plan(problem, Case("a", "C1", "p/x", 0), Usage())
    assert isinstance(found, NoPlan)
    assert "within 6 days" in found.reason


SMALL = [
    # (sites, horizon, ready days and priorities)
    (1, 16, [(0, "routine"), (0, "routine"), (1, "rapidly_progressing")]),
    (2, 14, [(0, "routine"), (0, "rapidly_progressing"), (0, "routine")]),
    (1, 14, [(0, "routine"), (2, "routine")]),
    (2, 16, [(1, "routine"), (0, "routine"), (0, "rapidly_progressing")]),
]


@pytest.mark.parametrize("sites, horizon, ready", SMALL)
def test_on_a_small_network_the_solver_matches_the_brute_force_optimum(
    sites: int, horizon: int, ready: list[tuple[int, str]]
) -> None:
    problem = Problem(tiny_network(sites), ORIGIN, horizon, {"p/x": timings()})
    cases = [Case(f"k{n}", "C1", "p/x", day, prio) for n, (day, prio) in enumerate(ready)]
    result = plan_network(problem, cases, time_limit_s=10.0, workers=1)
    assert result.status == "OPTIMAL"
    assert not result.refused
    assert result.objective is not None
    assert result.objective <= result.greedy_objective
    assert result.objective == brute_force_total(problem, cases)


def test_the_worst_case_objective_is_no_worse_than_greedy() -> None:
    problem = Problem(tiny_network(2), ORIGIN, 30, {"p/x": timings()})
    cases = [Case(f"k{n}", "C1", "p/x", 0) for n in range(4)]
    result = plan_network(problem, cases, objective="worst", time_limit_s=5.0)
    assert result.objective is not None and result.objective <= result.greedy_objective
    assert violations(problem, cases, result.plans) == []


def test_origin_is_a_monday_so_the_weekend_arithmetic_above_holds() -> None:
    assert ORIGIN.weekday() == 0 and date(2026, 12, 7) == ORIGIN
