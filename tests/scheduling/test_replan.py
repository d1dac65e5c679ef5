"""When a leg slips, the case is re-planned from its facts; what moved is said, and why."""

from __future__ import annotations

import pytest

from cartflow.domain.errors import InvalidInput
from cartflow.scheduling.earliest import greedy_plans
from cartflow.scheduling.plan import Case, Plan, Usage
from cartflow.scheduling.problem import Problem
from cartflow.scheduling.replan import Slip, replan
from cartflow.scheduling.validate import violations
from tests.scheduling.helpers import ORIGIN, timings, tiny_network

CASES = [Case("a", "C1", "p/x", 0), Case("b", "C1", "p/x", 0)]


def _planned() -> tuple[Problem, dict[str, Plan], Usage]:
    problem = Problem(tiny_network(), ORIGIN, 80, {"p/x": timings(window=(1, 3))})
    plans, _ = greedy_plans(problem, CASES)
    return problem, plans, Usage(plans.values())


def test_a_late_courier_moves_chemotherapy_and_infusion_and_keeps_the_run() -> None:
    problem, plans, usage = _planned()
    old = plans["a"]
    new, moves = replan(problem, CASES[0], old, Slip("courier_late", old.shipment, 2), usage)
    assert isinstance(new, Plan)
    assert (new.apheresis, new.manufacturing_start, new.shipment) == (
        old.apheresis,
        old.manufacturing_start,
        old.shipment,
    )
    moved = {m.leg for m in moves}
    assert {"arrival", "ld_start", "infusion"} <= moved
    assert all("2 day(s) late" in m.why for m in moves)
    assert violations(problem, CASES, {**plans, "a": new}) == []


def test_a_failed_run_needs_a_new_collection_and_moves_no_other_patient() -> None:
    problem, plans, usage = _planned()
    old = plans["a"]
    new, moves = replan(problem, CASES[0], old, Slip("manufacturing_failed", old.release), usage)
    assert isinstance(new, Plan)
    assert new.apheresis >= old.release
    assert "apheresis" in {m.leg for m in moves}
    assert all("a new collection is needed" in m.why for m in moves)
    assert violations(problem, CASES, {**plans, "a": new}) == []
    assert plans["b"] == greedy_plans(problem, CASES)[0]["b"]


def test_a_slip_outside_its_leg_is_refused_with_the_days_it_may_fall_on() -> None:
    problem, plans, usage = _planned()
    with pytest.raises(InvalidInput, match="between its start"):
        replan(problem, CASES[0], plans["a"], Slip("manufacturing_failed", 0), usage)
