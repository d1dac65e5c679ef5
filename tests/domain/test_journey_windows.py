"""Every time window of the journey, at both of its edges, in the site's calendar days.

Numbers from the packaged catalog (labels.md): tisagenlecleucel LBCL, US: infuse 2-11 days after
lymphodepletion ends [9][16]; EU: 2-14 days and repeat lymphodepletion after more than 28 days
[13][17]; B-ALL: 2-14 days and no repeat limit in the label; post-thaw 30 minutes [21];
omit lymphodepletion at a white-cell count at or below 1x10^9/L within 1 week before infusion
[9]; monitor at least 14 days (US, from 26 Jun 2025 [1]); follow up 15 years.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from cartflow.domain.catalog import RuleKind
from cartflow.domain.journey import (
    BagSpec,
    CompleteFollowUp,
    CompleteMonitoring,
    JourneyError,
    OmitLymphodepletion,
    RecordDeath,
    RecordFollowUpVisit,
    StartLymphodepletion,
    Step,
    ThawBag,
    WithdrawCase,
)
from cartflow.domain.journey.time_windows import add_years, local_days_between
from cartflow.domain.roles import Role
from tests.domain.journey_cases import B_ALL, COI, Journey, with_fact

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")


def day_after_ld(j: Journey, days: int, at: time) -> datetime:
    """``at`` on the site's calendar day ``days`` after lymphodepletion ended."""
    ended = j.state.ld_completed_at
    assert ended is not None
    zone = ZoneInfo(j.state.site_timezone)
    local_day = ended.astimezone(zone).date() + timedelta(days=days)
    return datetime.combine(local_day, at, tzinfo=zone)


def thaw(j: Journey, bag: str = "BAG-1") -> None:
    j.do(ThawBag(actor="ph", scanned_coi=COI.barcode, scanned_bag_id=bag))


# --- the one day count -----------------------------------------------------------------------


def test_days_are_counted_on_the_sites_calendar_not_in_hours() -> None:
    monday_late = datetime(2026, 3, 2, 23, 59, tzinfo=NEW_YORK)
    tuesday_early = datetime(2026, 3, 3, 0, 1, tzinfo=NEW_YORK)
    assert local_days_between(monday_late, tuesday_early, NEW_YORK) == 1
    assert local_days_between(tuesday_early, tuesday_early.replace(hour=23), NEW_YORK) == 0
    # 20:00 in New York is already the next day in UTC: the site's calendar decides
    evening = datetime(2026, 3, 2, 20, 0, tzinfo=NEW_YORK)
    assert local_days_between(monday_late.replace(hour=9), evening, NEW_YORK) == 0
    assert local_days_between(monday_late.replace(hour=9), evening, ZoneInfo("UTC")) == 1


def test_a_daylight_saving_change_does_not_add_or_lose_a_day() -> None:
    before = datetime(2026, 3, 28, 12, 0, tzinfo=PARIS)  # clocks go forward on 29 March
    after = datetime(2026, 3, 30, 0, 30, tzinfo=PARIS)
    assert local_days_between(before, after, PARIS) == 2
    assert (after - before) < timedelta(days=2)


def test_fifteen_years_from_29_february_ends_on_28_february() -> None:
    assert add_years(date(2028, 2, 29), 15) == date(2043, 2, 28)
    assert add_years(date(2026, 1, 27), 15) == date(2041, 1, 27)


# --- infusion window after lymphodepletion --------------------------------------------------


@pytest.mark.parametrize(("day", "allowed"), [(1, False), (2, True), (11, True), (12, False)])
def test_thaw_and_infusion_are_allowed_from_day_2_to_day_11_after_lymphodepletion_us(
    day: int, allowed: bool
) -> None:
    j = Journey().walk_to(Step.LYMPHODEPLETED)
    j.at(day_after_ld(j, day, time(10, 0)))
    if allowed:
        thaw(j)
        j.later(minutes=10).do(j.infuse())
        assert j.state.step is Step.INFUSED
        assert j.log[-1]["data"]["days_since_ld"] == day
    else:
        with pytest.raises(JourneyError) as caught:
            thaw(j)
        assert caught.value.kind is RuleKind.LABEL and "2 to 11 days" in str(caught.value)
        assert f"today is day {day}" in str(caught.value)


def test_an_infusion_that_slips_past_midnight_of_the_last_day_is_refused() -> None:
    j = Journey().walk_to(Step.LYMPHODEPLETED)
    j.at(day_after_ld(j, 11, time(23, 50)))
    thaw(j)
    j.at(day_after_ld(j, 12, time(0, 5)))  # 15 minutes after thaw: inside the thaw limit
    with pytest.raises(JourneyError) as caught:
        j.do(j.infuse())
    error = caught.value
    assert error.state == "thawed" and error.attempted == "InfuseBag"
    assert "[9], [16]" in error.source and "today is day 12" in str(error)


def test_the_eu_window_is_2_to_14_days() -> None:
    for day, ok in ((14, True), (15, False)):
        j = Journey(region="EU", timezone="Europe/Paris").walk_to(Step.LYMPHODEPLETED)
        j.at(day_after_ld(j, day, time(9, 0)))
        if ok:
            thaw(j)
            assert j.state.step is Step.THAWED
        else:
            with pytest.raises(JourneyError, match="2 to 14 days"):
                thaw(j)


# --- thaw limit ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("elapsed", "allowed"),
    [(timedelta(minutes=30), True), (timedelta(minutes=30, seconds=1), False)],
)
def test_infusion_must_follow_the_thaw_within_30_minutes(elapsed: timedelta, allowed: bool) -> None:
    j = Journey().walk_to(Step.THAWED)
    j.later(seconds=elapsed.total_seconds())
    if allowed:
        j.do(j.infuse())
        assert j.log[-1]["data"]["minutes_since_thaw"] == 30
    else:
        with pytest.raises(JourneyError) as caught:
            j.do(j.infuse())
        assert caught.value.kind is RuleKind.LABEL and "within 30 minutes" in str(caught.value)
        assert "[21]" in caught.value.source


# --- repeat of lymphodepletion ---------------------------------------------------------------


@pytest.mark.parametrize(("day", "allowed"), [(28, False), (29, True)])
def test_lymphodepletion_is_repeated_only_after_a_delay_of_more_than_28_days_eu(
    day: int, allowed: bool
) -> None:
    j = Journey(region="EU", timezone="Europe/Paris").walk_to(Step.LYMPHODEPLETED)
    j.at(day_after_ld(j, day, time(9, 0)))
    repeat = StartLymphodepletion(actor="p", regimen="flu-cy")
    if allowed:
        j.do(repeat)
        assert j.state.step is Step.LYMPHODEPLETING and j.state.ld_courses[-1].repeat
        assert len(j.state.ld_courses) == 2
    else:
        with pytest.raises(JourneyError) as caught:
            j.do(repeat)
        assert caught.value.kind is RuleKind.LABEL and "more than 28 days" in str(caught.value)


def test_without_a_label_repeat_limit_the_closed_infusion_window_is_the_site_policy() -> None:
    j = Journey(indication=B_ALL, weight_kg=60, dose_cells=1e8).walk_to(Step.LYMPHODEPLETED)
    j.at(day_after_ld(j, 14, time(9, 0)))
    with pytest.raises(JourneyError) as caught:
        j.do(StartLymphodepletion(actor="p", regimen="flu-cy"))
    assert caught.value.kind is RuleKind.SITE_POLICY and "no repeat limit" in str(caught.value)
    j.at(day_after_ld(j, 15, time(9, 0))).do(StartLymphodepletion(actor="p", regimen="flu-cy"))
    assert j.state.ld_courses[-1].repeat


# --- lymphodepletion omitted for a low white-cell count ------------------------------------


def omit(j: Journey, wbc: float, measured: datetime, role: Role = Role.PHYSICIAN) -> None:
    j.do(
        OmitLymphodepletion(
            actor="p",
            wbc_per_l=wbc,
            wbc_measured_at=measured,
            reason="white-cell count already low",
            signature=j.sign(role),
        )
    )


def test_lymphodepletion_may_be_omitted_at_a_count_of_1e9_per_litre_but_not_above() -> None:
    j = Journey().walk_to(Step.AVAILABLE)
    with pytest.raises(JourneyError) as caught:
        omit(j, 1.01e9, j.now)
    assert caught.value.kind is RuleKind.LABEL and "[9]" in caught.value.source
    with pytest.raises(JourneyError, match="physician"):
        omit(j, 1e9, j.now, Role.COORDINATOR)
    omit(j, 1e9, j.now)
    assert j.state.step is Step.LYMPHODEPLETED and j.state.ld_omission is not None
    assert j.log[-1]["type"] == "exception.ld_omitted"
    assert j.log[-1]["data"]["signature"]["role"] == "physician"
    j.later(hours=2).walk_to(Step.INFUSED)
    assert j.log[-1]["data"]["ld_omitted"] is True


@pytest.mark.parametrize(("age_days", "allowed"), [(7, True), (8, False)])
def test_the_omission_needs_a_count_from_within_a_week_before_infusion(
    age_days: int, allowed: bool
) -> None:
    j = Journey().walk_to(Step.AVAILABLE)
    measured = j.now
    omit(j, 5e8, measured)
    zone = ZoneInfo("America/New_York")
    j.at(
        datetime.combine(
            measured.astimezone(zone).date() + timedelta(days=age_days), time(8, 0), tzinfo=zone
        )
    )
    if allowed:
        thaw(j)
        j.later(minutes=5).do(j.infuse())
        assert j.state.step is Step.INFUSED
    else:
        with pytest.raises(JourneyError, match="within 7 days"):
            thaw(j)


def test_an_omission_where_the_label_gives_no_count_limit_is_refused_as_not_in_the_catalog() -> (
    None
):
    j = Journey(indication=B_ALL, weight_kg=60, dose_cells=1e8).walk_to(Step.AVAILABLE)
    with pytest.raises(JourneyError, match="not in the catalog"):
        omit(j, 5e8, j.now)


# --- split doses -----------------------------------------------------------------------------


SPLIT = {
    "kind": "split",
    "tolerance_days": 2,
    "parts": [{"day": 1, "fraction": 0.1}, {"day": 10, "fraction": 0.9}],
    "total": {"min": 1e8, "max": 5e8},
}


def split_journey() -> Journey:
    j = Journey(
        bags=(BagSpec(bag_id="BAG-1", lot="L", part=1), BagSpec(bag_id="BAG-2", lot="L", part=2)),
    )
    j.catalog = with_fact(j.catalog, "tisagenlecleucel/lbcl", "dose", SPLIT, version="test-split")
    return j


@pytest.mark.parametrize(("day", "allowed"), [(7, False), (8, True), (12, True), (13, False)])
def test_the_second_part_of_a_split_dose_is_given_on_day_10_plus_or_minus_2(
    day: int, allowed: bool
) -> None:
    j = split_journey().walk_to(Step.INFUSING)
    first = j.state.first_infusion_at
    assert first is not None and j.state.waiting_for == "the next bag or dose part"
    zone = ZoneInfo("America/New_York")
    j.at(
        datetime.combine(
            first.astimezone(zone).date() + timedelta(days=day - 1), time(10, 0), tzinfo=zone
        )
    )
    if allowed:
        thaw(j, "BAG-2")
        j.later(minutes=5).do(j.infuse("BAG-2"))
        assert j.state.step is Step.INFUSED
        assert [i.part for i in j.state.infusions] == [1, 2]
    else:
        with pytest.raises(JourneyError, match=r"Day 10 \(±2\)"):
            thaw(j, "BAG-2")


def test_the_second_part_is_not_thawed_before_the_first() -> None:
    j = split_journey().walk_to(Step.LYMPHODEPLETED).later(days=2)
    with pytest.raises(JourneyError, match="part 1"):
        thaw(j, "BAG-2")


# --- monitoring and long-term follow-up ------------------------------------------------------


@pytest.mark.parametrize(("days", "allowed"), [(13, False), (14, True)])
def test_monitoring_lasts_at_least_14_days_after_infusion(days: int, allowed: bool) -> None:
    j = Journey().walk_to(Step.MONITORING)
    infused = j.state.infusions[-1].at
    zone = ZoneInfo("America/New_York")
    j.at(
        datetime.combine(
            infused.astimezone(zone).date() + timedelta(days=days), time(9, 0), tzinfo=zone
        )
    )
    if allowed:
        j.do(CompleteMonitoring(actor="p"))
        assert j.state.step is Step.LONG_TERM_FOLLOW_UP
    else:
        with pytest.raises(JourneyError, match="at least 14 days") as caught:
            j.do(CompleteMonitoring(actor="p"))
        assert "[1]" in caught.value.source


def test_follow_up_of_an_infused_patient_closes_only_after_15_years() -> None:
    j = Journey().walk_to(Step.LONG_TERM_FOLLOW_UP)
    until = j.state.follow_up_until
    first = j.state.first_infusion_at
    assert until is not None and first is not None
    assert until == add_years(first.astimezone(NEW_YORK).date(), 15)
    j.later(days=365).do(RecordFollowUpVisit(actor="p", note_ref="visit-1"))
    assert j.state.follow_up_visits == 1 and j.state.step is Step.LONG_TERM_FOLLOW_UP
    j.at(datetime.combine(until - timedelta(days=1), time(23, 0), tzinfo=NEW_YORK))
    with pytest.raises(JourneyError, match="15 years") as caught:
        j.do(CompleteFollowUp(actor="p"))
    assert caught.value.kind is RuleKind.SITE_POLICY
    j.at(datetime.combine(until, time(8, 0), tzinfo=NEW_YORK)).do(CompleteFollowUp(actor="p"))
    assert j.state.step is Step.FOLLOW_UP_COMPLETED and j.state.next_actions == ()


def test_follow_up_ends_early_only_by_withdrawal_or_death_with_a_reason() -> None:
    from cartflow.domain.errors import InvalidInput

    j = Journey().walk_to(Step.LONG_TERM_FOLLOW_UP)
    with pytest.raises(InvalidInput):
        j.do(WithdrawCase(actor="p", reason="  ", signature=j.sign(Role.PHYSICIAN)))
    j.do(
        WithdrawCase(
            actor="p",
            reason="patient withdrew consent to follow-up",
            signature=j.sign(Role.PHYSICIAN),
        )
    )
    assert j.state.step is Step.WITHDRAWN and j.state.reason.startswith("patient withdrew")
    assert j.log[-1]["data"]["after_infusion"] is True
    other = Journey().walk_to(Step.MONITORING)
    other.do(
        RecordDeath(actor="p", reason="progressive disease", signature=other.sign(Role.PHYSICIAN))
    )
    assert other.state.step is Step.DECEASED and other.state.is_closed
