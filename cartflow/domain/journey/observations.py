"""Observations after the infusion (CRS and ICANS grades, transgene levels) and deviations:
their rules, asked by ``decide``.

An observation records what was seen; it never moves the case. It is often charted late, so
its clinical time may lie before the case's last event (the steps' order rule is not its to
keep), but never before the first infusion, never in the future, and the same values sent
again within a minute are refused as a double submission, naming the record already there.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Final

from cartflow.domain import grading
from cartflow.domain.catalog import RuleKind
from cartflow.domain.errors import InvalidInput
from cartflow.domain.events import Event
from cartflow.domain.journey import commands as C
from cartflow.domain.journey import payloads as P
from cartflow.domain.journey.errors import DuplicateObservation, JourneyError
from cartflow.domain.journey.guards import POLICY, Context, require_signature, require_text
from cartflow.domain.journey.payloads import Payload
from cartflow.domain.journey.state import CaseState
from cartflow.domain.journey.steps import TERMINAL
from cartflow.domain.roles import Role

EventMaker = Callable[[Payload], Event]

AFTER_INFUSION_SOURCE: Final = (
    "CRS and ICANS are graded after a CAR-T infusion (ASTCT 2019, Lee et al.); transgene "
    "levels are counted in days from it (Stein 2019) (docs/journey.md, Observations)"
)
DUPLICATE_WITHIN: Final = timedelta(minutes=1)
"""The same observation sent again within a minute is a second click or a retry, not a
second observation (cartflow policy, docs/journey.md, Observations)."""

MAX_DAY: Final = 3660.0
"""Ten years of follow-up: a day later than this is a typing error, not a measurement."""
MAX_COPIES_PER_UG: Final = 1.0e7
"""Far above any reported peak (the Stein 2019 typical Cmax is 24,000 copies/ug)."""
MAX_LLOQ: Final = 1.0e5
UNIT: Final = "copies/ug genomic DNA"

DEVIATION_KINDS: Final = frozenset({"bedside_scan_mismatch"})
SUMMARY_MAX: Final = 300


def first_infusion(ctx: Context, what: str, source: str = AFTER_INFUSION_SOURCE) -> datetime:
    """The first infusion's time; refused (``observation.before_infusion``) when none is
    recorded: ``what`` is recorded after the infusion."""
    first = ctx.state.first_infusion_at
    if first is None:
        raise JourneyError(
            ctx.step,
            ctx.attempted,
            f"{what} after the infusion; this case has none recorded",
            source,
            RuleKind.SITE_POLICY,
            "observation.before_infusion",
        )
    return first


def _not_before(ctx: Context, at: datetime, first: datetime, what: str) -> None:
    if at < first:
        raise JourneyError(
            ctx.step,
            ctx.attempted,
            f"{what} at {at.isoformat(timespec='minutes')} lies before the first infusion "
            f"({first.isoformat(timespec='minutes')}); it is recorded after it",
            AFTER_INFUSION_SOURCE,
            RuleKind.SITE_POLICY,
            "observation.before_infusion",
        )


def _refuse_repeat(
    ctx: Context,
    what: str,
    earlier: tuple[tuple[dict[str, Any], datetime, str], ...],
    values: dict[str, Any],
) -> None:
    """Refuse ``values`` when the same were recorded less than a minute ago."""
    for seen, recorded_at, actor in reversed(earlier):
        if seen == values and ctx.now - recorded_at < DUPLICATE_WITHIN:
            raise DuplicateObservation(
                ctx.step,
                ctx.attempted,
                f"the same {what} was recorded at {recorded_at.isoformat(timespec='seconds')} "
                f"by {actor}, less than a minute ago; it is kept once (send it again only if "
                "it is a new observation, a minute later)",
                POLICY,
                recorded_at.isoformat(),
                actor,
            )


def grade_crs(ctx: Context, c: C.GradeCrs, event: EventMaker) -> Event:
    first = first_infusion(ctx, "CRS is graded")
    _not_before(ctx, ctx.at, first, "a CRS grade")
    grade = grading.grade_crs(c.temperature_c, c.hypotension, c.oxygen, fever_masked=c.fever_masked)
    observed = {
        "temperature_c": float(c.temperature_c),
        "hypotension": str(c.hypotension),
        "oxygen": str(c.oxygen),
        "fever_masked": bool(c.fever_masked),
    }
    earlier = tuple((g.observed, g.recorded_at, g.actor) for g in ctx.state.crs_grades)
    _refuse_repeat(ctx, "CRS grade", earlier, observed)
    return event(
        P.CrsGraded(observed, grade.grade, grade.crs, grade.reason, tuple(grade.deciding_domains))
    )


def grade_icans(ctx: Context, c: C.GradeIcans, event: EventMaker) -> Event:
    first = first_infusion(ctx, "ICANS is graded")
    _not_before(ctx, ctx.at, first, "an ICANS grade")
    grade = grading.grade_icans(
        consciousness=c.consciousness,
        seizure=c.seizure,
        motor=c.motor,
        edema=c.edema,
        ice=c.ice,
        capd=c.capd,
        age_years=c.age_years,
        developmental_delay=c.developmental_delay,
    )
    observed = {
        "consciousness": str(c.consciousness),
        "ice": c.ice,
        "capd": c.capd,
        "age_years": None if c.age_years is None else float(c.age_years),
        "developmental_delay": bool(c.developmental_delay),
        "seizure": str(c.seizure),
        "motor": str(c.motor),
        "edema": str(c.edema),
    }
    earlier = tuple((g.observed, g.recorded_at, g.actor) for g in ctx.state.icans_grades)
    _refuse_repeat(ctx, "ICANS grade", earlier, observed)
    return event(
        P.IcansGraded(
            observed,
            grade.grade,
            grade.icans,
            grade.instrument.value,
            tuple(grade.deciding_domains),
            dict(grade.domain_grades),
            grade.reason,
        )
    )


def _number(value: float | None, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidInput(f"{name} must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise InvalidInput(f"{name} must be a finite number, got {value!r}")
    return number


def check_measurement(
    day: float | None, copies_per_ug: float | None, lloq: float | None
) -> tuple[float | None, float | None, float | None, bool]:
    """The values checked, and whether the measurement is censored; InvalidInput if not."""
    d = _number(day, "day")
    copies = _number(copies_per_ug, "copies_per_ug")
    limit = _number(lloq, "lloq")
    if d is not None and not 0.0 <= d <= MAX_DAY:
        raise InvalidInput(
            f"day {d:g} is out of range: days after the first infusion, 0 to {MAX_DAY:g}"
        )
    if copies is not None and not 0.0 <= copies <= MAX_COPIES_PER_UG:
        raise InvalidInput(
            f"copies_per_ug {copies:g} is out of range: 0 to {MAX_COPIES_PER_UG:g} copies/ug"
        )
    if limit is not None and not 0.0 < limit <= MAX_LLOQ:
        raise InvalidInput(
            f"lloq {limit:g} is out of range: above 0 and at most {MAX_LLOQ:g} copies/ug"
        )
    if copies is None and limit is None:
        raise InvalidInput(
            "give copies_per_ug, or the assay's lloq for a value below the limit of quantification"
        )
    if copies == 0.0 and limit is None:
        raise InvalidInput(
            "copies_per_ug 0 means below the limit of quantification: give the assay's lloq"
        )
    censored = copies is None or (limit is not None and copies < limit)
    return d, copies, limit, censored


def measurement(ctx: Context, c: C.RecordKineticsMeasurement, event: EventMaker) -> Event:
    """A transgene level, its day counted from the first infusion."""
    if (c.day is None) == (c.occurred_at is None):
        raise InvalidInput(
            "give either day (days after the first infusion) or taken_at (when the sample "
            "was taken), not both and not neither"
        )
    day, copies, limit, censored = check_measurement(c.day, c.copies_per_ug, c.lloq)
    first = first_infusion(ctx, "transgene levels are recorded")
    if day is None:
        at = ctx.at
        _not_before(ctx, at, first, "the sample")
        days = (at - first).total_seconds() / 86400.0
        if days > MAX_DAY:
            raise InvalidInput(f"taken_at lies more than {MAX_DAY:g} days after the infusion")
    else:
        days = day
        at = first + timedelta(days=day)
        if at > ctx.now:
            raise InvalidInput(
                f"day {days:g} after the infusion lies in the future; a measurement is "
                "recorded once the sample was taken"
            )
    values = {"day": round(days, 6), "copies_per_ug": copies, "lloq": limit}
    earlier = tuple(
        ({"day": m.day, "copies_per_ug": m.copies_per_ug, "lloq": m.lloq}, m.recorded_at, m.actor)
        for m in ctx.state.measurements
    )
    _refuse_repeat(ctx, "measurement", earlier, values)
    payload = P.KineticsMeasured(round(days, 6), copies, limit, censored, UNIT, first)
    return dataclasses.replace(event(payload), occurred_at=at)


def marrow_blasts(ctx: Context, c: C.RecordMarrowBlasts, event: EventMaker) -> Event:
    """A bone-marrow blast percentage, at the time its sample was taken (split_dose.py)."""
    if not ctx.state.coi or ctx.state.step in TERMINAL:
        raise InvalidInput("a marrow blast count is recorded on an open case")
    accepted = "blast_percent is the share of blasts among nucleated marrow cells: 0 to 100"
    try:
        percent = _number(c.blast_percent, "blast_percent")
    except InvalidInput:
        raise InvalidInput(f"{accepted}; got {c.blast_percent!r}") from None
    if percent is None or not 0.0 <= percent <= 100.0:
        raise InvalidInput(f"{accepted}; got {c.blast_percent!r}")
    earlier = tuple(
        ({"blast_percent": b.blast_percent}, b.recorded_at, b.actor)
        for b in ctx.state.marrow_blasts
    )
    values = {"blast_percent": percent}
    _refuse_repeat(ctx, "marrow blast count", earlier, values)
    return dataclasses.replace(event(P.MarrowBlastsRecorded(percent)), occurred_at=ctx.at)


def deviation(ctx: Context, c: C.OpenDeviation, event: EventMaker) -> Event:
    """A deviation for quality to review; any step once the case is open."""
    if not ctx.state.coi:
        raise InvalidInput("a deviation is recorded on an open case")
    if c.kind not in DEVIATION_KINDS:
        raise InvalidInput(f"kind: one of {', '.join(sorted(DEVIATION_KINDS))}")
    summary = require_text("summary", c.summary)
    if len(summary) > SUMMARY_MAX:
        raise InvalidInput(f"summary: say what happened in 1 to {SUMMARY_MAX} characters")
    details = {str(k): str(v) for k, v in c.details}
    return event(P.DeviationOpened(c.kind, summary, details))


COMMENT_MAX: Final = 1000
REVIEW_SOURCE: Final = (
    "deviation review: quality reviews each deviation once, with a comment and a signature "
    "(docs/journey.md, Observations)"
)


def review_deviation(ctx: Context, c: C.ReviewDeviation, event: EventMaker) -> Event:
    """Quality reviews deviations of this case, each once (``deviation.already_reviewed``);
    a number that names no deviation is refused (``deviation.unknown``)."""
    require_signature(ctx, c.signature, (Role.QUALITY,), "a deviation review")
    comment = require_text("comment", c.comment)
    if len(comment) > COMMENT_MAX:
        raise InvalidInput(f"comment: say what was found in 1 to {COMMENT_MAX} characters")
    numbers = sorted({int(n) for n in c.numbers})
    if not numbers:
        raise InvalidInput("numbers: name the deviations reviewed")
    deviations = ctx.state.deviations
    for number in numbers:
        if not 1 <= number <= len(deviations):
            error = JourneyError(
                ctx.step,
                ctx.attempted,
                f"this case has no deviation number {number} (it has {len(deviations)})",
                REVIEW_SOURCE,
                RuleKind.SITE_POLICY,
                "deviation.unknown",
            )
            error.params = {"number": number, "count": len(deviations)}
            raise error
        if deviations[number - 1].reviewed:
            error = JourneyError(
                ctx.step,
                ctx.attempted,
                f"deviation number {number} was already reviewed; a review is never replaced",
                REVIEW_SOURCE,
                RuleKind.SITE_POLICY,
                "deviation.already_reviewed",
            )
            error.params = {"number": number}
            raise error
    return event(P.DeviationReviewed(tuple(numbers), comment, P.SignedBy.of(c.signature)))


def last_grade(state: CaseState) -> tuple[int | None, int | None]:
    """The latest CRS and ICANS grades by clinical time (``None`` where none is recorded)."""
    crs = max(state.crs_grades, key=lambda g: g.at, default=None)
    icans = max(state.icans_grades, key=lambda g: g.at, default=None)
    return (crs.grade if crs else None, icans.grade if icans else None)
