"""Slot rules (docs/journey.md, Slots): a booking lies on or after the day it is made; an
apheresis chair is booked on the day of the collection; a manufacturing slot on or after the
collection (or the planned collection, before it happens)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from cartflow.domain.journey import (
    BookManufacturingSlot,
    JourneyError,
    ScheduleApheresis,
    Step,
)
from cartflow.domain.journey.time_windows import local_date
from tests.domain.journey_cases import NEW_YORK, Journey


def _refused(j: Journey, command: object) -> JourneyError:
    with pytest.raises(JourneyError) as caught:
        j.do(command)  # type: ignore[arg-type]
    return caught.value


def _today(j: Journey) -> date:
    return local_date(j.now, NEW_YORK)


def test_a_collection_is_not_planned_for_a_day_already_past() -> None:
    j = Journey().walk_to(Step.SCREENED)
    error = _refused(j, ScheduleApheresis(actor="c", slot_at=j.now - timedelta(days=1)))
    assert error.rule_id == "slot.in_the_past"
    assert _today(j).isoformat() in error.rule
    j.do(ScheduleApheresis(actor="c", slot_at=j.now + timedelta(hours=1)))
    assert j.state.step is Step.APHERESIS_SCHEDULED


def test_the_chair_is_booked_on_the_day_of_the_collection() -> None:
    j = Journey().walk_to(Step.SCREENED)
    planned = j.now + timedelta(days=3)
    day = local_date(planned, NEW_YORK)
    july = ScheduleApheresis(actor="c", slot_at=planned, chair_day=day - timedelta(days=140))
    assert _refused(j, july).rule_id == "slot.chair_day"
    j.do(ScheduleApheresis(actor="c", slot_at=planned, chair_day=day))
    assert j.log[-1]["data"]["chair_day"] == day.isoformat()


@pytest.mark.parametrize("days", [-1, 0, 1, 30])
def test_a_manufacturing_slot_lies_on_or_after_the_collection(days: int) -> None:
    j = Journey().walk_to(Step.COLLECTED)
    collected = local_date(j.state.collections[-1].at, NEW_YORK)
    j.later(hours=1)
    command = BookManufacturingSlot(
        actor="c", slot_id="slot-1", site="mfg", day=collected + timedelta(days=days)
    )
    if command.day < max(collected, _today(j)):
        assert _refused(j, command).rule_id in ("slot.before_collection", "slot.in_the_past")
        return
    j.do(command)
    booking = j.state.bookings[-1]
    assert (booking.slot, booking.site, booking.day) == ("slot-1", "mfg", command.day)
    assert j.state.step is Step.COLLECTED


def test_a_manufacturing_slot_before_the_planned_collection_is_refused() -> None:
    j = Journey().walk_to(Step.APHERESIS_SCHEDULED)
    planned = local_date(j.state.apheresis_slots[-1], NEW_YORK)
    early = BookManufacturingSlot(actor="c", slot_id="s", site="m", day=planned - timedelta(1))
    assert _refused(j, early).rule_id == "slot.before_collection"
    j.do(replace(early, day=planned))
    assert len(j.state.bookings) == 1


def test_a_slot_booked_in_the_past_is_refused() -> None:
    j = Journey().walk_to(Step.COLLECTED)
    j.later(days=5)
    past = BookManufacturingSlot(
        actor="c", slot_id="s", site="m", day=_today(j) - timedelta(days=1)
    )
    assert _refused(j, past).rule_id == "slot.in_the_past"
