"""The fludarabine renal adjustment as a site states it: a schedule by creatinine-clearance band.

The fludarabine labels disagree on the bands and on the unit (mL/min against
mL/min/1.73 m2), and the CAR-T labels give none, so the schedule is never a label fact: a site
signs it in its register (``fludarabine_renal_adjustment``) with the unit it uses, and the
lymphodepletion plan reads it. A clearance in another unit is refused, never converted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from cartflow.domain.errors import InvalidInput

RENAL_UNITS: Final = ("mL/min", "mL/min/1.73 m2")
"""The creatinine-clearance units a site may state (the fludarabine labels differ on it)."""


@dataclass(frozen=True)
class RenalBand:
    """One band of the schedule: clearance at or above ``from_clearance`` and below
    ``below`` (open when ``None``) gives ``reduce_by_percent`` (100: fludarabine not given)."""

    from_clearance: float
    below: float | None
    reduce_by_percent: float


@dataclass(frozen=True)
class RenalSchedule:
    unit: str
    bands: tuple[RenalBand, ...]

    def band_for(self, clearance: float) -> RenalBand:
        for band in self.bands:
            if clearance >= band.from_clearance and (band.below is None or clearance < band.below):
                return band
        raise InvalidInput(
            f"the site's schedule has no band for a creatinine clearance of {clearance:g} "
            f"{self.unit}"
        )


def check_renal_schedule(value: object) -> RenalSchedule:
    """Parse a site's fludarabine renal schedule, or raise :class:`InvalidInput`.

    Shape: ``{"unit": "mL/min" | "mL/min/1.73 m2", "bands": [{"from": 0, "below": 30,
    "reduce_by_percent": 100}, {"from": 30, "below": 70, "reduce_by_percent": 20}, {"from": 70,
    "below": null, "reduce_by_percent": 0}]}``: bands in order, from 0, touching, the last
    open. (The older single-threshold shape ``{"crcl_below", "reduce_by_percent"}`` is read as
    two bands in mL/min.)
    """
    if isinstance(value, Mapping) and "crcl_below" in value and "bands" not in value:
        threshold = _number(value.get("crcl_below"), "crcl_below")
        lowered = _number(value.get("reduce_by_percent"), "reduce_by_percent")
        value = {
            "unit": "mL/min",
            "bands": [
                {"from": 0, "below": threshold, "reduce_by_percent": lowered},
                {"from": threshold, "below": None, "reduce_by_percent": 0},
            ],
        }
    if not isinstance(value, Mapping):
        raise InvalidInput("the renal schedule is an object with a unit and bands")
    unit = value.get("unit")
    if unit not in RENAL_UNITS:
        raise InvalidInput(
            f"the schedule's unit must be one of {', '.join(RENAL_UNITS)}; got {unit!r}"
        )
    raw = value.get("bands")
    if not isinstance(raw, list) or not raw:
        raise InvalidInput("the schedule needs at least one band")
    bands: list[RenalBand] = []
    expected = 0.0
    for index, item in enumerate(raw, start=1):
        if not isinstance(item, Mapping):
            raise InvalidInput(f"band {index} is an object with from, below, reduce_by_percent")
        start = _number(item.get("from"), f"band {index} from")
        below_raw = item.get("below")
        below: float | None = None
        if below_raw is not None:
            below = _number(below_raw, f"band {index} below")
        reduce = _number(item.get("reduce_by_percent"), f"band {index} reduce_by_percent")
        if start != expected:
            raise InvalidInput(
                f"band {index} must start at {expected:g} (bands start at 0 and touch)"
            )
        if below is not None and below <= start:
            raise InvalidInput(f"band {index} must end above where it starts")
        if not 0 <= reduce <= 100:
            raise InvalidInput(f"band {index}: the reduction is a percentage from 0 to 100")
        if below is None and index != len(raw):
            raise InvalidInput("only the last band may be open-ended")
        bands.append(RenalBand(start, below, reduce))
        expected = below if below is not None else expected
    if bands[-1].below is not None:
        raise InvalidInput("the last band must be open-ended (below: null)")
    return RenalSchedule(str(unit), tuple(bands))


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise InvalidInput(f"{what} must be a number, 0 or more")
    return float(value)


def renal_reduction(schedule: object, clearance: float, unit: str) -> tuple[float, RenalSchedule]:
    """The fludarabine reduction (percent) the site's schedule gives for ``clearance`` measured
    in ``unit``; refused when the unit differs from the one the site states (no conversion:
    the labels' bands are not interchangeable)."""
    parsed = check_renal_schedule(schedule)
    if unit != parsed.unit:
        raise InvalidInput(
            f"the site's schedule states creatinine clearance in {parsed.unit}; the value given "
            f"is in {unit}: measure or enter it in {parsed.unit}"
        )
    return parsed.band_for(clearance).reduce_by_percent, parsed


def schedule_to_dict(schedule: RenalSchedule) -> dict[str, Any]:
    return {
        "unit": schedule.unit,
        "bands": [
            {"from": b.from_clearance, "below": b.below, "reduce_by_percent": b.reduce_by_percent}
            for b in schedule.bands
        ],
    }


def describe(schedule: RenalSchedule) -> str:
    """``below 30 mL/min: not given; 30 to 70: reduced by 20%; 70 or more: full dose``."""
    parts = []
    for band in schedule.bands:
        span = (
            f"{band.from_clearance:g} or more"
            if band.below is None
            else (
                f"below {band.below:g}"
                if band.from_clearance == 0
                else f"{band.from_clearance:g} to {band.below:g}"
            )
        )
        if band.reduce_by_percent >= 100:
            effect = "not given"
        elif band.reduce_by_percent == 0:
            effect = "full dose"
        else:
            effect = f"reduced by {band.reduce_by_percent:g}%"
        parts.append(f"{span} {schedule.unit}: {effect}")
    return "; ".join(parts)
