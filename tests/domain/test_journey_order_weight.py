"""The manufacturing order's weight agrees with the weight recorded on the case within the
site's tolerance (site policy, default 10%; docs/journey.md, The order's weight): an order at
80 kg for a patient recorded at 42.5 kg is refused until the weight is recorded again."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartflow.domain.journey import JourneyError, RecordWeight, StartManufacturing, Step
from cartflow.domain.journey.commands import DEFAULT_WEIGHT_TOLERANCE_PERCENT
from tests.domain.journey_cases import Journey


def _order(j: Journey, kg: float, tolerance: float = DEFAULT_WEIGHT_TOLERANCE_PERCENT) -> object:
    command = j.next_command()
    assert isinstance(command, StartManufacturing)
    return replace(command, weight_kg=kg, weight_tolerance_percent=tolerance)


def test_an_order_far_from_the_recorded_weight_waits_for_a_new_weighing() -> None:
    j = Journey().walk_to(Step.COLLECTED)
    j.do(RecordWeight(actor="n", weight_kg=42.5))
    with pytest.raises(JourneyError) as caught:
        j.do(_order(j, 80.0))  # type: ignore[arg-type]
    error = caught.value
    assert error.rule_id == "manufacturing.order_weight"
    assert "80 kg" in error.rule and "42.5 kg" in error.rule and "10%" in error.rule
    j.later(minutes=5).do(RecordWeight(actor="n", weight_kg=79.0))
    j.do(_order(j, 80.0))  # type: ignore[arg-type]
    assert j.state.step is Step.MANUFACTURING and j.state.order_weight_kg == 80.0


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    recorded=st.floats(min_value=2.0, max_value=200.0),
    ratio=st.floats(min_value=0.5, max_value=1.5),
    tolerance=st.sampled_from([0.0, 5.0, 10.0, 20.0]),
)
def test_the_order_is_accepted_exactly_within_the_tolerance(
    recorded: float, ratio: float, tolerance: float
) -> None:
    j = Journey().walk_to(Step.COLLECTED)
    j.do(RecordWeight(actor="n", weight_kg=recorded))
    order = round(recorded * ratio, 3)
    within = abs(order - recorded) / recorded * 100.0 <= tolerance
    if within:
        j.do(_order(j, order, tolerance))  # type: ignore[arg-type]
        assert j.state.step is Step.MANUFACTURING
    else:
        with pytest.raises(JourneyError, match="record the patient's weight again"):
            j.do(_order(j, order, tolerance))  # type: ignore[arg-type]


def test_with_no_weight_recorded_the_order_weight_stands_alone() -> None:
    j = Journey().walk_to(Step.COLLECTED)
    j.do(_order(j, 80.0))  # type: ignore[arg-type]
    assert j.state.order_weight_kg == 80.0
