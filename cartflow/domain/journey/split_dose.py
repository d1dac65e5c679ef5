"""The rules of a split dose beyond its days: the marrow assessment that picks the regimen,
and the hold of a later part for CRS or ICANS after the first.

Obecabtagene autoleucel is the label that needs them (label audit, section 7): "The dosage
regimen will be determined by the tumor burden assessed by bone marrow blast percentage from a
sample obtained within 7 days prior to the start of lymphodepletion" (cut-off 20 % blasts), and
after the first part "Grade 2 CRS: consider postponing [the second dose] up to Day 21; Grade 3 or
higher: discontinue". The numbers live in the catalog's dose rule (``regimen_by_marrow_blasts``
and ``second_dose_hold``); this module holds how they are applied. The label text the audit could
read names no ICANS grades for the hold: a case with any ICANS after the first part is held
until a site protocol value says which grades hold it (no guard passes on an unknown).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from cartflow.domain.catalog import ResolvedFact, RuleKind, is_unknown_marker
from cartflow.domain.journey.errors import JourneyError
from cartflow.domain.journey.guards import Context, kind_of
from cartflow.domain.journey.state import Bag, CaseState, MarrowBlastCount, ToxicityGrade
from cartflow.domain.journey.steps import Step
from cartflow.domain.journey.time_windows import local_date, local_days_between

BLAST_PERCENT_RANGE: Final = (0.0, 100.0)


@dataclass(frozen=True)
class SecondDoseHold:
    """When a later part waits or is not given, read from the dose rule."""

    postpone_at_crs_grade: int
    latest_day: int
    stop_at_crs_grade: int
    stop_at_icans_grade: int | None  # None: the label's ICANS grades are not in the catalog


@dataclass(frozen=True)
class MarrowRegimen:
    """Which of the label's two regimens the marrow count chose."""

    blast_percent: float
    cutoff_percent: float
    sampled_at: datetime
    days_before_ld: int

    @property
    def regimen(self) -> str:
        return "at_or_below_cutoff" if self.blast_percent <= self.cutoff_percent else "above_cutoff"


def _rule(dose: ResolvedFact) -> Mapping[str, Any]:
    value = dose.value
    if isinstance(value, Mapping) and value.get("kind") == "split":
        return value
    return {}


def hold_of(dose: ResolvedFact) -> SecondDoseHold | None:
    raw = _rule(dose).get("second_dose_hold")
    if not isinstance(raw, Mapping):
        return None
    icans = raw.get("stop_at_icans_grade")
    return SecondDoseHold(
        postpone_at_crs_grade=int(raw["postpone_at_crs_grade"]),
        latest_day=int(raw["latest_day"]),
        stop_at_crs_grade=int(raw["stop_at_crs_grade"]),
        stop_at_icans_grade=None if icans is None or is_unknown_marker(icans) else int(icans),
    )


def _worst_since(grades: tuple[ToxicityGrade, ...], since: datetime) -> ToxicityGrade | None:
    after = [g for g in grades if g.at >= since]
    return max(after, key=lambda g: (g.grade, g.at), default=None)


def _refuse(ctx: Context, dose: ResolvedFact, rule: str, rule_id: str) -> JourneyError:
    return JourneyError(ctx.step, ctx.attempted, rule, dose.source, kind_of(dose), rule_id)


def check_later_part(ctx: Context, dose: ResolvedFact, bag: Bag, day: int) -> None:
    """A part after the first is given on its label day (± the tolerance), later after grade 2
    CRS where the label allows it, and not at all after the grades that stop it."""
    if bag.part <= 1:
        return
    first = ctx.state.first_infusion_at
    assert first is not None  # a later part is thawed only after the first part's infusion
    hold = hold_of(dose)
    latest = bag.day + bag.tolerance_days
    if hold is not None:
        crs = _worst_since(ctx.state.crs_grades, first)
        if crs is not None and crs.grade >= hold.stop_at_crs_grade:
            raise _refuse(
                ctx,
                dose,
                f"part {bag.part} of the split dose is not given after grade "
                f"{hold.stop_at_crs_grade} or higher CRS; grade {crs.grade} was recorded on "
                f"{crs.at.astimezone(ctx.zone).date().isoformat()}",
                "split_dose.stopped_for_crs",
            )
        icans = _worst_since(ctx.state.icans_grades, first)
        if icans is not None and icans.grade > 0:
            if hold.stop_at_icans_grade is None:
                raise _refuse(
                    ctx,
                    dose,
                    f"ICANS grade {icans.grade} was recorded after the first part; the label's "
                    "rule for giving the next part after ICANS is not in the catalog, so a "
                    "physician records the site's rule as a signed protocol value first",
                    "split_dose.icans_rule_unknown",
                )
            if icans.grade >= hold.stop_at_icans_grade:
                raise _refuse(
                    ctx,
                    dose,
                    f"part {bag.part} of the split dose is not given after grade "
                    f"{hold.stop_at_icans_grade} or higher ICANS; grade {icans.grade} was recorded",
                    "split_dose.stopped_for_icans",
                )
        if crs is not None and crs.grade >= hold.postpone_at_crs_grade:
            latest = max(latest, hold.latest_day)
    earliest = bag.day - bag.tolerance_days
    if not earliest <= day <= latest:
        postponed = latest > bag.day + bag.tolerance_days
        allowed = (
            f"Day {earliest} to Day {latest} (postponed for grade 2 CRS)"
            if postponed
            else f"Day {bag.day} (±{bag.tolerance_days})"
        )
        error = _refuse(
            ctx,
            dose,
            f"part {bag.part} of the split dose is given on {allowed}; today is Day {day}",
            "split_dose.day",
        )
        if not postponed:
            # The day's date too, so the pages can say when (clinic/refusal_words.py).
            on = local_date(first, ctx.zone) + timedelta(days=bag.day - 1)
            error.params = {
                "part": bag.part,
                "label_day": bag.day,
                "tolerance_days": bag.tolerance_days,
                "day": day,
                "on": on.isoformat(),
            }
        raise error


def marrow_rule(dose: ResolvedFact) -> tuple[float, int] | None:
    """The blast cut-off (percent) and how many days before lymphodepletion the sample may be."""
    raw = _rule(dose).get("regimen_by_marrow_blasts")
    if not isinstance(raw, Mapping):
        return None
    return float(raw["cutoff_percent"]), int(raw["assessed_within_days_before_ld"])


MARROW_COUNT_STEPS: Final = frozenset(
    {
        Step.ELIGIBLE,
        Step.SCREENED,
        Step.APHERESIS_SCHEDULED,
        Step.COLLECTED,
        Step.BRIDGING,
        Step.MANUFACTURING,
        Step.OUT_OF_SPECIFICATION,
        Step.RELEASED,
        Step.SHIPPED,
        Step.QUARANTINED,
        Step.RECEIVED,
        Step.AVAILABLE,
        Step.LYMPHODEPLETED,  # before a repeat course
    }
)
"""Steps in which a lymphodepletion course (its first or a repeat) is still ahead."""


def wants_marrow_count(state: CaseState, dose: ResolvedFact | None) -> bool:
    """Whether a page offers the marrow count: the case's dose regimen depends on one and a
    lymphodepletion course is still ahead (the command itself is accepted in any open step)."""
    return (
        dose is not None
        and marrow_rule(dose) is not None
        and state.step in MARROW_COUNT_STEPS
        and not state.infusions
    )


def check_marrow_before_ld(ctx: Context, dose: ResolvedFact) -> MarrowRegimen | None:
    """Lymphodepletion starts only with a marrow blast count taken within the label's days
    before it, where the dose regimen depends on one; the count chooses the regimen."""
    rule = marrow_rule(dose)
    if rule is None:
        return None
    cutoff, within = rule
    counts: tuple[MarrowBlastCount, ...] = tuple(
        c for c in ctx.state.marrow_blasts if c.sampled_at <= ctx.at
    )
    latest = max(counts, key=lambda c: c.sampled_at, default=None)
    days = None if latest is None else local_days_between(latest.sampled_at, ctx.at, ctx.zone)
    if latest is None or days is None or days > within:
        when = (
            "none is recorded"
            if latest is None
            else f"the latest was taken {days} day(s) before today"
        )
        raise JourneyError(
            ctx.step,
            ctx.attempted,
            f"the dose regimen is chosen by the bone-marrow blast percentage from a sample taken "
            f"within {within} days before lymphodepletion starts; {when}",
            dose.source,
            kind_of(dose) if dose.source else RuleKind.LABEL,
            "split_dose.marrow_blasts_needed",
        )
    return MarrowRegimen(latest.blast_percent, cutoff, latest.sampled_at, days)
