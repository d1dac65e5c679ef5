"""The second part of a split dose is held for CRS after the first: obecabtagene autoleucel's
label (drugs.com/dosage/aucatzyl.html, label audit §8): "Grade 2 CRS after dose 1 → consider
postponing … up to Day 21; Grade ≥3 → discontinue". The journey reads the CRS and ICANS grades
folded in the case's state; both edges of every window."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from cartflow.catalog_file import load_catalog
from cartflow.domain.catalog import CatalogError, check_fact_value
from cartflow.domain.errors import InvalidInput
from cartflow.domain.journey import GradeCrs, GradeIcans, JourneyError, Step
from cartflow.domain.split_dose import Hold, hold_of, later_part_refusal, parse_hold
from tests.domain.journey_cases import with_fact
from tests.domain.test_journey_windows import SPLIT, split_journey, thaw

HOLD = {"postpone_at_crs_grade": 2, "latest_day": 21, "stop_at_crs_grade": 3}
OBE = Hold(latest_day=21, postpone_at_crs_grade=2, stop_at_crs_grade=3)


def refusal(day: int, crs: tuple[int, ...] = (), icans: tuple[int, ...] = ()) -> str | None:
    return later_part_refusal(
        part=2,
        day=day,
        label_day=10,
        tolerance_days=2,
        crs_grades=crs,
        icans_grades=icans,
        hold=OBE,
    )


def test_the_packaged_obecabtagene_rule_carries_the_labels_hold_with_its_source() -> None:
    fact = (
        load_catalog()
        .indication("obecabtagene-autoleucel/b-all")
        .fact("dose", date(2026, 11, 30), "US")
    )
    assert fact is not None and hold_of(fact.value) == OBE
    assert "drugs-com-aucatzyl" in fact.sources


@pytest.mark.parametrize(
    ("day", "crs", "allowed"),
    [
        (12, (), True),
        (13, (), False),
        (13, (1,), False),  # grade 1 does not postpone
        (13, (2,), True),
        (21, (1, 2), True),
        (22, (2,), False),
        (7, (2,), False),  # postponing moves the end, never the start
        (10, (3,), False),  # grade 3 or higher: not given at all
        (10, (2, 4), False),
    ],
)
def test_the_hold_at_both_edges(day: int, crs: tuple[int, ...], allowed: bool) -> None:
    assert (refusal(day, crs) is None) is allowed


def test_the_refusals_name_the_grade_and_the_days() -> None:
    assert "not given after grade 3 CRS" in str(refusal(10, (3,)))
    assert "up to Day 21; today is Day 22" in str(refusal(22, (2,)))
    # ICANS postpones nothing where the label names no ICANS grade.
    assert refusal(13, icans=(3,)) == (
        "part 2 of the split dose is given on Day 10 (±2); today is Day 13"
    )


@pytest.mark.parametrize(
    "bad",
    [
        {"latest_day": 21},
        {"postpone_at_crs_grade": 2},
        {"postpone_at_crs_grade": 7, "latest_day": 21},
        {"postpone_at_crs_grade": 2, "latest_day": 21, "colour": 1},
    ],
)
def test_a_malformed_hold_is_refused(bad: dict[str, int]) -> None:
    with pytest.raises(InvalidInput):
        parse_hold(bad)
    with pytest.raises(CatalogError, match="hold"):
        check_fact_value("dose", {**SPLIT, "hold": bad})


def held_journey() -> object:
    j = split_journey()
    j.catalog = with_fact(
        j.catalog, "tisagenlecleucel/lbcl", "dose", {**SPLIT, "hold": HOLD}, version="test-hold"
    )
    return j


def _on_day(j: object, day: int) -> None:
    first = j.state.first_infusion_at  # type: ignore[attr-defined]
    zone = ZoneInfo("America/New_York")
    j.at(  # type: ignore[attr-defined]
        datetime.combine(
            first.astimezone(zone).date() + timedelta(days=day - 1), time(10, 0), tzinfo=zone
        )
    )


@pytest.mark.parametrize(("day", "allowed"), [(21, True), (22, False)])
def test_after_grade_2_crs_the_journey_allows_the_second_part_up_to_day_21(
    day: int, allowed: bool
) -> None:
    j = held_journey().walk_to(Step.INFUSING)  # type: ignore[attr-defined]
    j.later(days=2).do(
        GradeCrs(actor="dr-1", temperature_c=39.0, hypotension="no-vasopressors", oxygen="none")
    )
    assert j.state.crs_grades[-1].grade == 2
    _on_day(j, day)
    if allowed:
        thaw(j, "BAG-2")
        j.later(minutes=5).do(j.infuse("BAG-2"))
        assert j.state.step is Step.INFUSED
    else:
        with pytest.raises(JourneyError, match="up to Day 21"):
            thaw(j, "BAG-2")


def test_after_grade_3_crs_the_journey_refuses_the_second_part_on_its_day() -> None:
    j = held_journey().walk_to(Step.INFUSING)  # type: ignore[attr-defined]
    j.later(days=2).do(
        GradeCrs(actor="dr-1", temperature_c=39.0, hypotension="one-vasopressor", oxygen="none")
    )
    _on_day(j, 10)
    with pytest.raises(JourneyError, match="not given after grade 3 CRS") as caught:
        thaw(j, "BAG-2")
    assert caught.value.kind.value == "label"


def test_icans_after_the_first_part_keeps_the_labels_day() -> None:
    j = held_journey().walk_to(Step.INFUSING)  # type: ignore[attr-defined]
    j.later(days=2).do(GradeIcans(actor="dr-1", consciousness="voice", ice=5, age_years=40))
    _on_day(j, 13)
    with pytest.raises(JourneyError, match=r"Day 10 \(±2\); today is Day 13"):
        thaw(j, "BAG-2")
