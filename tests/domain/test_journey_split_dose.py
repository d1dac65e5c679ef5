"""The split dose's marrow count and second-dose hold (split_dose.py).

The rule is obecabtagene autoleucel's (drugs.com/dosage/aucatzyl.html, label text, label audit
section 8): the regimen is chosen by the bone-marrow blast percentage from a sample taken within
7 days before lymphodepletion; after the first part, grade 2 CRS may postpone the second to
Day 21, and grade 3 or higher stops it.
"""

from __future__ import annotations

import math
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartflow.catalog_file import load_catalog
from cartflow.domain.errors import InvalidInput
from cartflow.domain.journey import (
    BagSpec,
    GradeCrs,
    GradeIcans,
    JourneyError,
    RecordMarrowBlasts,
    StartLymphodepletion,
    Step,
    ThawBag,
)
from cartflow.domain.journey import event_types as T
from cartflow.domain.journey.split_dose import hold_of
from tests.domain.journey_cases import Journey, with_fact

NEW_YORK = ZoneInfo("America/New_York")
UNKNOWN = {"unknown": True, "note": "UNCONFIRMED: test"}


def split_rule(stop_at_icans: Any = UNKNOWN) -> dict[str, Any]:
    return {
        "kind": "split",
        "tolerance_days": 2,
        "parts": [{"day": 1, "fraction": 0.25}, {"day": 10, "fraction": 0.75}],
        "total": {"min": 1e8, "max": 5e8},
        "second_dose_hold": {
            "postpone_at_crs_grade": 2,
            "latest_day": 21,
            "stop_at_crs_grade": 3,
            "stop_at_icans_grade": stop_at_icans,
        },
        "regimen_by_marrow_blasts": {"cutoff_percent": 20, "assessed_within_days_before_ld": 7},
    }


def journey(rule: dict[str, Any] | None = None) -> Journey:
    j = Journey(
        bags=(BagSpec(bag_id="BAG-1", lot="L", part=1), BagSpec(bag_id="BAG-2", lot="L", part=2)),
    )
    j.catalog = with_fact(
        j.catalog, "tisagenlecleucel/lbcl", "dose", rule or split_rule(), version="test-split"
    )
    return j


def walk_to_ld(j: Journey, blast_percent: float = 12.0) -> Journey:
    j.walk_to(Step.AVAILABLE)
    j.do(
        RecordMarrowBlasts(
            actor="physician-1", blast_percent=blast_percent, occurred_at=j.now - timedelta(days=2)
        )
    )
    return j


def first_part_given(j: Journey) -> Journey:
    walk_to_ld(j)
    return j.walk_to(Step.INFUSING)


def on_day(j: Journey, day: int) -> Journey:
    first = j.state.first_infusion_at
    assert first is not None
    start = first.astimezone(NEW_YORK).date() + timedelta(days=day - 1)
    return j.at(datetime.combine(start, time(10, 0), tzinfo=NEW_YORK))


def thaw_second(j: Journey) -> None:
    j.do(ThawBag(actor="pharmacy-1", scanned_coi=j.coi.barcode, scanned_bag_id="BAG-2"))


def grade_crs(j: Journey, hypotension: str) -> None:
    j.do(GradeCrs(actor="physician-1", temperature_c=39.2, hypotension=hypotension, oxygen="none"))


# --- the marrow count before lymphodepletion --------------------------------------------------


def test_lymphodepletion_waits_for_a_marrow_count() -> None:
    j = journey().walk_to(Step.AVAILABLE)
    with pytest.raises(JourneyError, match="within 7 days before") as caught:
        j.do(StartLymphodepletion(actor="physician-1", regimen="flu-cy"))
    assert caught.value.rule_id == "split_dose.marrow_blasts_needed"
    assert "none is recorded" in caught.value.rule


@pytest.mark.parametrize(("days_before", "allowed"), [(7, True), (8, False)])
def test_the_marrow_count_is_at_most_7_days_old(days_before: int, allowed: bool) -> None:
    j = journey().walk_to(Step.AVAILABLE)
    j.do(
        RecordMarrowBlasts(
            actor="physician-1", blast_percent=30.0, occurred_at=j.now - timedelta(days=days_before)
        )
    )
    start = StartLymphodepletion(actor="physician-1", regimen="flu-cy")
    if allowed:
        j.do(start)
        assert j.state.step is Step.LYMPHODEPLETING
    else:
        with pytest.raises(JourneyError, match=f"taken {days_before} day"):
            j.do(start)


@pytest.mark.parametrize(
    ("percent", "regimen"), [(20.0, "at_or_below_cutoff"), (20.5, "above_cutoff")]
)
def test_the_count_chooses_the_regimen_and_the_start_records_it(
    percent: float, regimen: str
) -> None:
    j = walk_to_ld(journey(), percent)
    [started] = j.do(StartLymphodepletion(actor="physician-1", regimen="flu-cy"))
    assert started.type == T.LD_STARTED
    assert started.data["dose_regimen"] == regimen
    assert started.data["marrow_blast_percent"] == percent
    assert any(f["name"] == "dose" for f in started.data["facts"])


def test_a_dose_without_the_marrow_rule_starts_lymphodepletion_as_before() -> None:
    j = Journey().walk_to(Step.AVAILABLE)
    [started] = j.do(StartLymphodepletion(actor="physician-1", regimen="flu-cy"))
    assert "dose_regimen" not in started.data
    assert all(f["name"] != "dose" for f in started.data["facts"])


@settings(deadline=None, max_examples=60, derandomize=True)
@given(percent=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 105)))
def test_a_blast_percentage_is_a_number_from_0_to_100(percent: float) -> None:
    j = Journey().walk_to(Step.ELIGIBLE)
    command = RecordMarrowBlasts(actor="physician-1", blast_percent=percent)
    if isinstance(percent, int | float) and math.isfinite(percent) and 0 <= percent <= 100:
        j.do(command)
        assert j.state.marrow_blasts[-1].blast_percent == float(percent)
    else:
        with pytest.raises(InvalidInput, match="0 to 100"):
            j.do(command)


def test_the_same_count_sent_twice_within_a_minute_is_kept_once() -> None:
    j = Journey().walk_to(Step.ELIGIBLE)
    j.do(RecordMarrowBlasts(actor="physician-1", blast_percent=15.0))
    with pytest.raises(JourneyError, match="less than a minute ago"):
        j.do(RecordMarrowBlasts(actor="physician-1", blast_percent=15.0))
    assert len(j.state.marrow_blasts) == 1


# --- the second part: its day and its hold ---------------------------------------------------


@pytest.mark.parametrize(("day", "allowed"), [(7, False), (8, True), (12, True), (13, False)])
def test_without_crs_the_second_part_keeps_day_10_plus_or_minus_2(day: int, allowed: bool) -> None:
    j = first_part_given(journey())
    on_day(j, day)
    if allowed:
        thaw_second(j)
        assert j.state.step is Step.THAWED
    else:
        with pytest.raises(JourneyError, match=r"Day 10 \(±2\)") as caught:
            thaw_second(j)
        assert caught.value.rule_id == "split_dose.day"


@pytest.mark.parametrize(("day", "allowed"), [(13, True), (21, True), (22, False)])
def test_grade_2_crs_postpones_the_second_part_up_to_day_21(day: int, allowed: bool) -> None:
    j = first_part_given(journey())
    on_day(j, 3)
    grade_crs(j, "no-vasopressors")
    assert j.state.crs_grades[-1].grade == 2
    on_day(j, day)
    if allowed:
        thaw_second(j)
        assert j.state.step is Step.THAWED
    else:
        with pytest.raises(JourneyError, match="Day 8 to Day 21") as caught:
            thaw_second(j)
        assert caught.value.rule_id == "split_dose.day"


def test_grade_3_crs_stops_the_second_part_even_on_its_day() -> None:
    j = first_part_given(journey())
    on_day(j, 2)
    grade_crs(j, "one-vasopressor")
    assert j.state.crs_grades[-1].grade == 3
    on_day(j, 10)
    with pytest.raises(JourneyError, match="not given after grade 3 or higher CRS") as caught:
        thaw_second(j)
    assert caught.value.rule_id == "split_dose.stopped_for_crs"
    assert j.state.step is Step.INFUSING


def test_icans_holds_the_second_part_while_the_labels_icans_rule_is_unknown() -> None:
    j = first_part_given(journey())
    on_day(j, 4)
    j.do(GradeIcans(actor="physician-1", consciousness="alert", ice=8))
    assert j.state.icans_grades[-1].grade == 1
    on_day(j, 10)
    with pytest.raises(JourneyError, match="not in the catalog") as caught:
        thaw_second(j)
    assert caught.value.rule_id == "split_dose.icans_rule_unknown"


@pytest.mark.parametrize(("ice", "allowed"), [(8, True), (2, False)])
def test_a_known_icans_rule_stops_only_at_its_grade(ice: int, allowed: bool) -> None:
    j = first_part_given(journey(split_rule(stop_at_icans=3)))
    on_day(j, 4)
    j.do(GradeIcans(actor="physician-1", consciousness="alert", ice=ice))
    on_day(j, 10)
    if allowed:
        thaw_second(j)
        assert j.state.step is Step.THAWED
    else:
        with pytest.raises(JourneyError, match="grade 3 or higher ICANS") as caught:
            thaw_second(j)
        assert caught.value.rule_id == "split_dose.stopped_for_icans"


def test_obe_cel_carries_the_labels_hold_and_marrow_rule() -> None:
    """drugs.com/dosage/aucatzyl.html: Day 21 for grade 2 CRS; grade 3 or higher discontinues."""
    catalog = load_catalog()
    dose = catalog.indication("obecabtagene-autoleucel/b-all").resolve(
        "dose", datetime(2026, 11, 30).date(), "US"
    )
    hold = hold_of(dose)
    assert hold is not None
    assert (hold.postpone_at_crs_grade, hold.latest_day, hold.stop_at_crs_grade) == (2, 21, 3)
    assert hold.stop_at_icans_grade is None
    assert dose.value["regimen_by_marrow_blasts"] == {
        "cutoff_percent": 20,
        "assessed_within_days_before_ld": 7,
    }
    assert "drugs-aucatzyl-dosage" in dose.source or "drugs.com" in dose.source
