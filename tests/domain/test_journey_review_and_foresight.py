"""Deviation review, the signed ends of a case, and blocks foreseen before anyone tries."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cartflow.domain.errors import InvalidInput
from cartflow.domain.events import Event
from cartflow.domain.journey import (
    CompleteLymphodepletion,
    ForeseenBlock,
    JourneyError,
    OpenDeviation,
    RecordDeath,
    ReviewDeviation,
    Signature,
    Step,
    WithdrawCase,
    apply,
    event_types,
    foreseen_refusals,
)
from cartflow.domain.journey.time_windows import local_date, site_zone
from cartflow.domain.roles import Role
from tests.domain.journey_cases import Journey


def _refused(j: Journey, command: object) -> JourneyError:
    with pytest.raises(JourneyError) as caught:
        j.do(command)  # type: ignore[arg-type]
    return caught.value


def _with_deviations(count: int) -> Journey:
    j = Journey().walk_to(Step.THAWED)
    for n in range(count):
        j.do(
            OpenDeviation(
                actor="nurse",
                kind="bedside_scan_mismatch",
                summary="bedside check refused: the bag's label names another case",
                details=(("rule", "bedside.bag_label"), ("scan", "bag_label"), ("n", str(n))),
            )
        )
        j.later(minutes=1)
    return j


def test_a_review_records_the_comment_and_the_reviewer_on_each_deviation_it_names() -> None:
    j = _with_deviations(3)
    steps_before = j.state.events_applied
    events = j.do(
        ReviewDeviation(
            actor="q",
            numbers=(1, 2),
            comment="wrong bag picked from the shelf; retrained",
            signature=j.sign(Role.QUALITY),
        )
    )
    assert [e.type for e in events] == [event_types.DEVIATION_REVIEWED]
    assert events[0].data["signature"]["role"] == "quality"
    first, second, third = j.state.deviations
    assert first.reviewed and second.reviewed and not third.reviewed
    assert first.review_comment == "wrong bag picked from the shelf; retrained"
    assert first.reviewed_by == "quality-1" and first.reviewed_at == j.now
    # A review records what was seen: it does not move the case nor count as a step.
    assert j.state.step is Step.THAWED and j.state.events_applied == steps_before
    assert any(s.event_type == event_types.DEVIATION_REVIEWED for s in j.state.signatures)


def test_a_deviation_is_reviewed_once_and_a_review_names_deviations_of_this_case() -> None:
    j = _with_deviations(1)
    review = ReviewDeviation(
        actor="q", numbers=(1,), comment="understood", signature=j.sign(Role.QUALITY)
    )
    j.do(review)
    again = _refused(j, review)
    assert again.rule_id == "deviation.already_reviewed" and again.params == {"number": 1}
    assert j.state.deviations[0].review_comment == "understood"  # never overwritten
    unknown = _refused(
        j, ReviewDeviation(actor="q", numbers=(4,), comment="x", signature=j.sign(Role.QUALITY))
    )
    assert unknown.rule_id == "deviation.unknown" and unknown.params == {"number": 4, "count": 1}


def test_a_review_needs_a_quality_signature_and_a_comment() -> None:
    j = _with_deviations(1)
    by_nurse = ReviewDeviation(
        actor="n", numbers=(1,), comment="fine", signature=j.sign(Role.PHARMACY)
    )
    assert "quality" in _refused(j, by_nurse).rule
    unsigned = ReviewDeviation(actor="q", numbers=(1,), comment="fine", signature=None)  # type: ignore[arg-type]
    assert "needs a signature" in _refused(j, unsigned).rule
    with pytest.raises(InvalidInput):
        j.do(ReviewDeviation(actor="q", numbers=(1,), comment="  ", signature=j.sign(Role.QUALITY)))
    assert not j.state.deviations[0].reviewed


@pytest.mark.parametrize(
    ("make", "signer", "allowed"),
    [
        (WithdrawCase, Role.PHYSICIAN, True),
        (WithdrawCase, Role.COORDINATOR, True),
        (WithdrawCase, Role.PHARMACY, False),
        (RecordDeath, Role.PHYSICIAN, True),
        (RecordDeath, Role.COORDINATOR, False),
    ],
)
def test_withdrawal_and_death_are_signed_by_their_roles(
    make: type, signer: Role, allowed: bool
) -> None:
    j = Journey().walk_to(Step.SCREENED)
    command = make(actor="x", reason="the patient's decision", signature=j.sign(signer))
    if not allowed:
        error = _refused(j, command)
        assert error.state == "screened" and signer.value in error.rule
        assert j.state.step is Step.SCREENED
        return
    events = j.do(command)
    assert events[0].data["signature"]["role"] == signer.value
    assert j.state.is_closed and j.state.signatures[-1].event_type == events[0].type


@pytest.mark.parametrize("make", [WithdrawCase, RecordDeath])
def test_withdrawal_and_death_without_a_signature_are_refused(make: type) -> None:
    j = Journey().walk_to(Step.SCREENED)
    error = _refused(j, make(actor="x", reason="r", signature=None))
    assert "needs a signature" in error.rule and j.state.step is Step.SCREENED


def test_a_withdrawal_recorded_before_signing_still_replays() -> None:
    j = Journey().walk_to(Step.SCREENED)
    old = Event(
        type=event_types.CASE_WITHDRAWN,
        occurred_at=j.now,
        actor="p",
        data={"reason": "moved away", "after_infusion": False},
        schema_version=1,
        site=j.state.site,
        recorded_at=j.now,
    )
    state = apply(j.state, old)
    assert state.step is Step.WITHDRAWN and state.reason == "moved away" and not state.anomalies


def _thaw_blocks(j: Journey) -> list[ForeseenBlock]:
    return [b for b in foreseen_refusals(j.state, j.catalog, j.now) if b.command == "ThawBag"]


def _day(j: Journey, days: int) -> date:
    ended = j.state.ld_completed_at
    assert ended is not None
    return local_date(ended, site_zone(j.state.site_timezone)) + timedelta(days=days)


def test_the_infusion_window_is_shown_before_anyone_tries_with_its_dates() -> None:
    j = Journey().walk_to(Step.LYMPHODEPLETED)  # lbcl (US): 2 to 11 days after LD ended
    (block,) = _thaw_blocks(j)
    assert block.refusal.rule_id == "infusion.too_early"
    assert block.refusal.params == {
        "min_days": 2,
        "max_days": 11,
        "day": 0,
        "ld_ended": _day(j, 0).isoformat(),
        "earliest": _day(j, 2).isoformat(),
        "latest": _day(j, 11).isoformat(),
    }
    # The same refusal the thaw itself meets.
    thaw = j.state.remaining_bags[0].bag_id
    from cartflow.domain.journey import ThawBag

    tried = _refused(j, ThawBag(actor="n", scanned_coi=j.state.coi, scanned_bag_id=thaw))
    assert (tried.rule_id, tried.params) == (block.refusal.rule_id, block.refusal.params)
    # A repeat of lymphodepletion is blocked, with its first day, while the window is open.
    (repeat,) = [b for b in foreseen_refusals(j.state, j.catalog, j.now) if b.command != "ThawBag"]
    assert repeat.command == "StartLymphodepletion"
    assert repeat.refusal.rule_id == "ld.repeat_too_soon"
    assert repeat.refusal.params["earliest"] == _day(j, 12).isoformat()
    assert _thaw_blocks(j.later(days=2)) == []
    assert _thaw_blocks(j.later(days=9)) == []
    (late,) = foreseen_refusals(j.later(days=1).state, j.catalog, j.now)
    assert late.command == "ThawBag"
    assert late.refusal.rule_id == "infusion.too_late" and late.refusal.params["day"] == 12
    # Nothing was recorded by looking ahead.
    assert j.state.step is Step.LYMPHODEPLETED and j.state.thaws == ()


def test_completing_lymphodepletion_early_is_foreseen_with_its_last_day() -> None:
    j = Journey().walk_to(Step.LYMPHODEPLETING)
    course = j.state.ld_course
    assert course is not None and course.scheduled_days and course.scheduled_days > 1
    blocks = foreseen_refusals(j.state, j.catalog, j.now)
    (block,) = [b for b in blocks if b.command == "CompleteLymphodepletion"]
    last = local_date(course.started_at, site_zone(j.state.site_timezone)) + timedelta(
        days=course.scheduled_days - 1
    )
    assert block.refusal.rule_id == "ld.complete_before_last_day"
    assert block.refusal.params["last_day"] == last.isoformat()
    j.later(days=course.scheduled_days - 1)
    assert not [
        b
        for b in foreseen_refusals(j.state, j.catalog, j.now)
        if b.command == "CompleteLymphodepletion"
    ]
    j.do(CompleteLymphodepletion(actor="p"))


def test_monitoring_and_follow_up_ends_are_foreseen() -> None:
    j = Journey().walk_to(Step.MONITORING)
    (block,) = foreseen_refusals(j.state, j.catalog, j.now)
    assert block.command == "CompleteMonitoring"
    assert block.refusal.rule_id == "monitoring.minimum_days"
    assert block.refusal.params["days"] > 0 and block.refusal.params["earliest"]


def test_signature_dataclass_is_the_one_used() -> None:
    assert Signature.__name__ == "Signature"


def test_vein_to_vein_counts_from_the_collection_against_the_product_s_median() -> None:
    from cartflow.domain.journey import vein_to_vein

    j = Journey().walk_to(Step.SCREENED)
    before = vein_to_vein(j.state, j.catalog, j.now)
    assert before.days is None and before.typical_days == 48.0  # tisagenlecleucel [113]
    j.walk_to(Step.COLLECTED)
    collected = j.state.collection
    assert collected is not None
    j.later(days=50)
    running = vein_to_vein(j.state, j.catalog, j.now)
    assert running.running and running.days == 50 and running.over
    assert "113" in running.source


def test_a_product_without_a_published_median_has_no_typical_time() -> None:
    from dataclasses import replace as replaced

    from cartflow.domain.journey import vein_to_vein

    j = Journey().walk_to(Step.COLLECTED)
    other = replaced(j.state, product_id="idecabtagene-vicleucel")
    found = vein_to_vein(other, j.catalog, j.now)
    assert found.typical_days is None and found.source == "" and not found.over
    assert found.days == 0


def test_the_day_of_a_split_dose_s_second_part_is_foreseen_with_its_date() -> None:
    from tests.domain.test_journey_windows import split_journey

    j = split_journey().walk_to(Step.INFUSING)
    (block,) = _thaw_blocks(j)
    first = j.state.first_infusion_at
    assert first is not None
    day_10 = local_date(first, site_zone(j.state.site_timezone)) + timedelta(days=9)
    assert block.refusal.rule_id == "split_dose.day"
    assert block.refusal.params == {
        "part": 2,
        "label_day": 10,
        "tolerance_days": 2,
        "day": 1,
        "on": day_10.isoformat(),
    }
    assert _thaw_blocks(j.later(days=7)) == []  # Day 8: inside the label's ±2 days


def test_a_thawed_bag_shows_the_time_it_must_be_infused_by() -> None:
    from cartflow.domain.journey import foreseen_windows

    j = Journey().walk_to(Step.THAWED)
    windows = {w.rule_id: w for w in foreseen_windows(j.state, j.catalog, j.now)}
    assert set(windows) == {"infusion.window", "infusion.post_thaw"}
    window = windows["infusion.post_thaw"]
    assert not window.closed
    thawed = j.state.thaws[-1].at
    limit = timedelta(minutes=window.params["minutes"])
    zone = site_zone(j.state.site_timezone)
    assert window.params["deadline"] == (thawed + limit).astimezone(zone).isoformat(
        timespec="minutes"
    )
    later = foreseen_windows(j.state, j.catalog, thawed + limit + timedelta(minutes=1))
    assert [w.closed for w in later if w.rule_id == "infusion.post_thaw"] == [True]


def test_disposal_without_a_valid_signature_is_refused() -> None:
    from cartflow.domain.journey import DisposeProduct

    j = Journey().walk_to(Step.AVAILABLE)
    j.do(WithdrawCase(actor="p", reason="the patient's decision", signature=j.sign(Role.PHYSICIAN)))
    for signature in (None, j.sign(Role.COORDINATOR)):
        error = _refused(j, DisposeProduct(actor="x", reason="unused", signature=signature))
        assert error.state == "withdrawn" and not j.state.product_disposed
    events = j.do(DisposeProduct(actor="q", reason="unused", signature=j.sign(Role.QUALITY)))
    assert events[0].data["signature"]["role"] == "quality" and j.state.product_disposed
