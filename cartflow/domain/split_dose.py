"""The later parts of a split dose: their label day, and the hold for CRS or ICANS.

A split dose (``dose`` of kind ``split``) gives each later part on its label day (Day 1 = the
first infusion) within ``tolerance_days``. Where the label holds the later part for toxicity
after the first, the rule carries ``hold`` (docs/catalog.md, Dose rules)::

    {"postpone_at_crs_grade": 2, "latest_day": 21, "stop_at_crs_grade": 3}

(optionally ``postpone_at_icans_grade`` and ``stop_at_icans_grade``): after CRS (or ICANS) of
the postponing grade or higher following the first part, the later part may wait up to Day
``latest_day``; after CRS (or ICANS) of the stopping grade or higher it is not given. Obecabtagene
autoleucel's label: "Grade 2 CRS after dose 1 → consider postponing … up to Day 21; Grade ≥3 →
discontinue" (drugs.com/dosage/aucatzyl.html, label audit §8). The grades are those folded in
the case's state (``crs_grades``, ``icans_grades``), graded after the first infusion.

Pure: no clock; the day and the grades are passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cartflow.domain.errors import InvalidInput

HOLD_KEYS = (
    "postpone_at_crs_grade",
    "postpone_at_icans_grade",
    "latest_day",
    "stop_at_crs_grade",
    "stop_at_icans_grade",
)


@dataclass(frozen=True)
class Hold:
    latest_day: int
    postpone_at_crs_grade: int | None = None
    postpone_at_icans_grade: int | None = None
    stop_at_crs_grade: int | None = None
    stop_at_icans_grade: int | None = None


def _grade(value: object, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise InvalidInput(f"hold: {name} must be a grade from 1 to 5")
    return value


def parse_hold(raw: object) -> Hold | None:
    """The hold of a split dose rule's ``hold`` value (``None`` when the rule has none)."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise InvalidInput("hold: an object with latest_day and the grades")
    extra = sorted(set(raw) - set(HOLD_KEYS))
    if extra:
        raise InvalidInput(
            f"hold: unknown key(s) {', '.join(extra)}; accepted: {', '.join(HOLD_KEYS)}"
        )
    latest = raw.get("latest_day")
    if isinstance(latest, bool) or not isinstance(latest, int) or not 1 <= latest <= 60:
        raise InvalidInput("hold: latest_day must be a day from 1 to 60")
    hold = Hold(
        latest_day=latest,
        postpone_at_crs_grade=_grade(raw.get("postpone_at_crs_grade"), "postpone_at_crs_grade"),
        postpone_at_icans_grade=_grade(
            raw.get("postpone_at_icans_grade"), "postpone_at_icans_grade"
        ),
        stop_at_crs_grade=_grade(raw.get("stop_at_crs_grade"), "stop_at_crs_grade"),
        stop_at_icans_grade=_grade(raw.get("stop_at_icans_grade"), "stop_at_icans_grade"),
    )
    if hold.postpone_at_crs_grade is None and hold.postpone_at_icans_grade is None:
        raise InvalidInput("hold: name the CRS or ICANS grade that postpones the later part")
    return hold


def hold_of(rule: Mapping[str, Any]) -> Hold | None:
    return parse_hold(rule.get("hold")) if rule.get("kind") == "split" else None


def later_part_refusal(
    *,
    part: int,
    day: int,
    label_day: int,
    tolerance_days: int,
    crs_grades: Iterable[int],
    icans_grades: Iterable[int],
    hold: Hold | None,
) -> str | None:
    """Why part ``part`` (2 or later) may not be given on Day ``day``, or ``None`` when it may.

    ``crs_grades`` and ``icans_grades`` are the grades recorded after the first infusion.
    """
    crs = max(crs_grades, default=0)
    icans = max(icans_grades, default=0)
    if hold is not None:
        if hold.stop_at_crs_grade is not None and crs >= hold.stop_at_crs_grade:
            return (
                f"part {part} of the split dose is not given after grade {crs} CRS following "
                f"the first part (discontinued at grade {hold.stop_at_crs_grade} or higher)"
            )
        if hold.stop_at_icans_grade is not None and icans >= hold.stop_at_icans_grade:
            return (
                f"part {part} of the split dose is not given after grade {icans} ICANS "
                f"following the first part (discontinued at grade {hold.stop_at_icans_grade} "
                "or higher)"
            )
    low, high = label_day - tolerance_days, label_day + tolerance_days
    postponed = hold is not None and (
        (hold.postpone_at_crs_grade is not None and crs >= hold.postpone_at_crs_grade)
        or (hold.postpone_at_icans_grade is not None and icans >= hold.postpone_at_icans_grade)
    )
    if postponed:
        assert hold is not None
        high = max(high, hold.latest_day)
    if low <= day <= high:
        return None
    if postponed:
        assert hold is not None
        which = f"grade {crs} CRS" if crs else f"grade {icans} ICANS"
        return (
            f"part {part} of the split dose is given on Day {label_day} (±{tolerance_days}), "
            f"or after {which} following the first part up to Day {hold.latest_day}; "
            f"today is Day {day}"
        )
    return (
        f"part {part} of the split dose is given on Day {label_day} (±{tolerance_days}); "
        f"today is Day {day}"
    )
