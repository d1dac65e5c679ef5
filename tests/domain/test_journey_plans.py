"""The plan on the case (docs/journey.md, Plans): accepting books through the journey's own
booking commands, the manufacturing site confirms or declines, re-planning releases."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, seed, settings
from hypothesis import strategies as st

from cartflow.domain.events import Event
from cartflow.domain.journey import (
    AcceptPlan,
    BookManufacturingSlot,
    ConfirmPlanSlot,
    DeclinePlanSlot,
    FactMissing,
    JourneyError,
    ReleasePlan,
    ScheduleApheresis,
    Step,
    replay,
)
from cartflow.domain.journey import event_types as T
from cartflow.domain.journey.time_windows import local_date
from tests.domain.journey_cases import LBCL, NEW_YORK, Journey, plan_for, with_unknown_fact


def _today(j: Journey) -> date:
    return local_date(j.now, NEW_YORK)


def _refused(j: Journey, command: Any) -> JourneyError:
    before = j.state
    with pytest.raises(JourneyError) as caught:
        j.do(command)
    assert j.state == before  # nothing of a refused plan is recorded
    return caught.value


def test_accepting_a_plan_books_the_chair_and_the_slot_and_holds_the_dates() -> None:
    j = Journey().walk_to(Step.SCREENED)
    command = plan_for(j)
    events = j.do(command)
    assert [e.type for e in events] == [T.APHERESIS_SCHEDULED, T.SLOT_BOOKED, T.PLAN_ACCEPTED]
    assert j.state.step is Step.APHERESIS_SCHEDULED
    assert events[0].data["chair_day"] == command.chair_day.isoformat()  # type: ignore[union-attr]
    booking = j.state.bookings[-1]
    assert (booking.slot, booking.site, booking.day) == (
        "slot-m",
        "mfg-east",
        command.manufacturing_start_on,
    )
    plan = j.state.plan
    assert plan is not None and plan.status == "accepted"
    assert (plan.infusion_on, plan.ld_start_on, plan.apheresis_on) == (
        command.infusion_on,
        command.ld_start_on,
        command.chair_day,
    )
    held = events[-1].data["holds"]
    assert held["infusion_bed"]["day"] == command.infusion_on.isoformat()
    assert held["courier_lane"] == {
        "site": "mfg-east",
        "centre": "site-ny",
        "day": command.shipment_on.isoformat(),
    }
    assert "ConfirmPlanSlot" in j.state.next_actions
    assert "AcceptPlan" not in j.state.next_actions
    # The fold is the state's: a replay of the stored log rebuilds the same plan.
    assert replay(j.log).plan == plan


def test_a_plan_in_a_past_chair_is_refused_by_the_booking_rule() -> None:
    j = Journey().walk_to(Step.SCREENED)
    yesterday = _today(j) - timedelta(days=1)
    error = _refused(j, plan_for(j, apheresis=yesterday))
    assert error.rule_id == "slot.in_the_past"
    assert error.attempted == "ScheduleApheresis"  # the booking's own refusal


def test_a_chair_on_another_day_is_refused_by_the_booking_rule() -> None:
    j = Journey().walk_to(Step.SCREENED)
    command = plan_for(j)
    wrong = replace(command, chair_day=command.chair_day + timedelta(days=1))  # type: ignore[operator]
    assert _refused(j, wrong).rule_id == "slot.chair_day"


def test_a_run_before_the_collection_is_refused() -> None:
    j = Journey().walk_to(Step.SCREENED)
    error = _refused(j, plan_for(j, start_after=-1))
    assert error.rule_id == "plan.legs_order"


def test_the_label_infusion_window_bounds_the_plan_at_both_edges() -> None:
    # tisagenlecleucel in LBCL (US): infusion 2 to 11 days after lymphodepletion ends.
    for gap, accepted in ((1, False), (2, True), (11, True), (12, False)):
        j = Journey().walk_to(Step.SCREENED)
        command = plan_for(j, gap=gap)
        if accepted:
            j.do(command)
            assert j.state.plan is not None
        else:
            error = _refused(j, command)
            assert error.rule_id == "plan.infusion_window"
            assert error.kind.value == "label"


def test_a_plan_without_the_window_fact_is_refused_naming_it() -> None:
    j = Journey(catalog=with_unknown_fact(Journey().catalog, LBCL, "infusion_window_days"))
    j.walk_to(Step.SCREENED)
    with pytest.raises(FactMissing):
        j.do(plan_for(j))


def test_one_plan_at_a_time_until_it_is_released() -> None:
    j = Journey().walk_to(Step.SCREENED)
    j.do(plan_for(j))
    j.later(hours=1)
    again = plan_for(j, plan_id="plan-2", apheresis=j.state.plan.apheresis_on)  # type: ignore[union-attr]
    assert _refused(j, again).rule_id == "plan.already_accepted"


def test_the_site_confirms_the_proposed_slot() -> None:
    j = Journey().walk_to(Step.SCREENED)
    j.do(plan_for(j))
    j.later(hours=2)
    j.do(ConfirmPlanSlot(actor="mfg-1", plan_id="plan-1"))
    assert j.state.plan is not None and j.state.plan.status == "confirmed"
    assert j.state.plan.decided_by == "mfg-1"
    assert j.state.step is Step.APHERESIS_SCHEDULED
    again = ConfirmPlanSlot(actor="mfg-1", plan_id="plan-1")
    assert _refused(j, again).rule_id == "plan.not_proposed"
    assert _refused(j, ConfirmPlanSlot(actor="m", plan_id="nope")).rule_id == "plan.unknown"


def test_a_declined_slot_needs_a_re_plan_and_release_gives_the_slot_back() -> None:
    j = Journey().walk_to(Step.SCREENED)
    first = plan_for(j)
    j.do(first)
    j.later(hours=2)
    with pytest.raises(Exception, match="reason"):
        j.do(DeclinePlanSlot(actor="mfg-1", plan_id="plan-1", reason=" "))
    j.do(DeclinePlanSlot(actor="mfg-1", plan_id="plan-1", reason="clean room closed"))
    plan = j.state.plan
    assert plan is not None and plan.needs_replan and plan.reason == "clean room closed"
    assert "ReleasePlan" in j.state.next_actions
    j.later(hours=1)
    events = j.do(ReleasePlan(actor="coordinator-1", plan_id="plan-1", reason="site declined"))
    assert events[0].data["released_slots"] == ["slot-m"]
    assert j.state.plan is not None and j.state.plan.status == "released"
    assert j.state.bookings[-1].released_at is not None
    assert (
        _refused(j, ReleasePlan(actor="c", plan_id="plan-1", reason="again")).rule_id
        == "plan.nothing_to_release"
    )
    # A new plan keeps the scheduled collection's day and books only the manufacturing slot.
    j.later(hours=1)
    moved = plan_for(j, apheresis=first.chair_day + timedelta(days=1), plan_id="plan-2")  # type: ignore[operator]
    assert _refused(j, moved).rule_id == "plan.apheresis_fixed"
    events = j.do(
        plan_for(j, apheresis=first.chair_day, plan_id="plan-2", manufacturing_slot_id="slot-n")
    )
    assert [e.type for e in events] == [T.SLOT_BOOKED, T.PLAN_ACCEPTED]
    assert j.state.plan is not None and j.state.plan.plan_id == "plan-2"


def test_after_manufacturing_starts_release_keeps_the_used_slot() -> None:
    j = Journey().walk_to(Step.SCREENED)
    j.do(plan_for(j))
    j.walk_to(Step.MANUFACTURING)
    j.later(hours=1)
    events = j.do(ReleasePlan(actor="c", plan_id="plan-1", reason="run failed"))
    assert events[0].data["released_slots"] == []
    assert all(b.released_at is None for b in j.state.bookings)


def test_plan_events_keep_the_steps_clock() -> None:
    j = Journey().walk_to(Step.SCREENED)
    j.do(plan_for(j))
    count, clock = j.state.events_applied, j.state.last_occurred_at
    j.later(hours=1)
    j.do(ConfirmPlanSlot(actor="mfg-1", plan_id="plan-1"))
    assert (j.state.events_applied, j.state.last_occurred_at) == (count, clock)


def test_a_malformed_plan_event_is_an_anomaly_not_a_failure() -> None:
    j = Journey().walk_to(Step.SCREENED)
    bad = Event(
        type=T.PLAN_SLOT_CONFIRMED,
        occurred_at=j.now,
        actor="x",
        data={"plan_id": "never-accepted"},
        schema_version=1,
    )
    state = replay([*j.log, bad.to_body()])
    assert state.plan is None
    assert any(T.PLAN_SLOT_CONFIRMED in a for a in state.anomalies)


# --- the property: the plan's bookings obey the same guards as by-hand bookings --------------


def _by_hand(j: Journey, command: AcceptPlan) -> tuple[str | None, list[dict[str, Any]]]:
    """The same bookings made by hand, one command after the other: the first refusal's rule
    id, or the events' data."""
    hand = Journey(now=j.now, state=j.state, log=list(j.log))
    events = []
    try:
        if hand.state.step is Step.SCREENED:
            events += hand.do(
                ScheduleApheresis(
                    actor=command.actor, slot_at=command.apheresis_at, chair_day=command.chair_day
                )
            )
        events += hand.do(
            BookManufacturingSlot(
                actor=command.actor,
                slot_id=command.manufacturing_slot_id,
                site=command.manufacturing_site,
                day=command.manufacturing_start_on,
            )
        )
    except JourneyError as exc:
        return exc.rule_id, []
    return None, [dict(e.data) for e in events]


@seed(14)
@settings(deadline=None, max_examples=60, derandomize=True)
@given(
    walk_to=st.sampled_from([Step.SCREENED, Step.APHERESIS_SCHEDULED, Step.COLLECTED]),
    apheresis_shift=st.integers(-3, 5),
    chair_shift=st.integers(-1, 1),
    start_after=st.integers(-2, 6),
    later_days=st.integers(0, 4),
)
def test_a_plan_books_exactly_as_a_booking_by_hand(
    walk_to: Step, apheresis_shift: int, chair_shift: int, start_after: int, later_days: int
) -> None:
    j = Journey().walk_to(walk_to)
    j.later(days=later_days, hours=1)
    kept = None
    if walk_to is not Step.SCREENED:
        at = j.state.collection.at if j.state.collection else j.state.apheresis_slots[-1]
        kept = local_date(at, NEW_YORK)
    apheresis = kept or _today(j) + timedelta(days=apheresis_shift)
    command = plan_for(
        j,
        apheresis=apheresis,
        start_after=max(start_after, 0),
        chair_day=apheresis + timedelta(days=chair_shift),
    )
    if start_after < 0:  # a run planned before the collection (the plan's own order rule)
        command = replace(command, manufacturing_start_on=apheresis + timedelta(days=start_after))
    hand_rule, hand_events = _by_hand(j, command)
    try:
        events = j.do(command)
    except JourneyError as exc:
        if exc.rule_id.startswith("plan."):
            # The plan's own rules come first; they never let through what a booking refuses.
            assert exc.rule_id == "plan.legs_order"
            return
        assert exc.rule_id == hand_rule, (exc.rule_id, hand_rule)
        return
    assert hand_rule is None, f"the plan booked what a booking by hand refuses: {hand_rule}"
    bookings = [dict(e.data) for e in events if e.type != T.PLAN_ACCEPTED]
    strip = ("facts", "catalog_version")
    assert [{k: v for k, v in b.items() if k not in strip} for b in bookings] == [
        {k: v for k, v in b.items() if k not in strip} for b in hand_events
    ]


def test_the_dates_in_force_are_the_later_recorded_and_never_made_up() -> None:
    from cartflow.domain.journey.patient_access import RecordPlannedDates
    from cartflow.domain.journey.plans import dates_in_force

    j = Journey().walk_to(Step.SCREENED)
    assert dates_in_force(j.state).infusion_on is None
    command = plan_for(j)
    j.do(command)
    assert dates_in_force(j.state).infusion_on == command.infusion_on
    assert dates_in_force(j.state).lymphodepletion_on == command.ld_start_on
    j.later(hours=1)
    later = command.infusion_on + timedelta(days=3)
    j.do(RecordPlannedDates(actor="coordinator-1", infusion_on=later))
    assert dates_in_force(j.state).infusion_on == later  # the team's, recorded after
    assert dates_in_force(j.state).apheresis_on == command.chair_day
    j.later(hours=1)
    j.do(ReleasePlan(actor="c", plan_id="plan-1", reason="re-plan"))
    assert dates_in_force(j.state) == j.state.planned_dates  # a released plan shows nothing
