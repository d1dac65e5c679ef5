"""Eligibility is signed with the judgment it rests on.

A physician signs eligibility with the patient's facts and the eligibility module's judgment
of them for the case's indication (:func:`cartflow.domain.eligibility.evaluate_indication`),
both kept in the event. A judgment that is not "eligible" in the case's region is not signed
as eligibility: treating outside the label is its own act, ``SignOffLabelEligibility``, a
physician's signed exception with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from cartflow.domain.catalog import RuleKind
from cartflow.domain.journey.errors import JourneyError
from cartflow.domain.journey.guards import Context

SOURCE: Final = (
    "the product's label indication, judged from the patient's facts by cartflow's "
    "eligibility module (docs/journey.md, Eligibility)"
)
STATUS_WORDS: Final = {
    "eligible": "eligible",
    "not_eligible": "not eligible",
    "needs_information": "needs information",
}


def _refuse(ctx: Context, rule: str, rule_id: str) -> JourneyError:
    return JourneyError(ctx.step, ctx.attempted, rule, SOURCE, RuleKind.LABEL, rule_id)


def require_judgment(ctx: Context, assessment: Mapping[str, Any], facts: Mapping[str, Any]) -> None:
    """The signature carries the patient's facts and their judgment for this indication."""
    if not facts or not assessment or str(assessment.get("status", "")) not in STATUS_WORDS:
        raise _refuse(
            ctx,
            "eligibility is signed with the patient's facts and their judgment for the case's "
            "indication (the eligibility page shows both); none was given",
            "eligibility.no_judgment",
        )
    judged = str(assessment.get("indication", ""))
    if judged != ctx.state.indication_id:
        raise _refuse(
            ctx,
            f"the judgment given is for {judged or 'no indication'}, not for the case's "
            f"indication {ctx.state.indication_id}",
            "eligibility.other_indication",
        )


def judged_eligible(ctx: Context, assessment: Mapping[str, Any]) -> bool:
    """Eligible in the case's region (or, with no region on the case, eligible at all)."""
    region = ctx.state.region
    if region:
        return region in [str(r) for r in assessment.get("eligible_in") or ()]
    return str(assessment.get("status")) == "eligible"


def why_not(ctx: Context, assessment: Mapping[str, Any]) -> str:
    """The judgment in words: its status and the first conditions not met or not known."""
    status = STATUS_WORDS.get(str(assessment.get("status")), "not eligible")
    items = [*(assessment.get("unmet") or ()), *(assessment.get("missing") or ())]
    texts = [str(i.get("text", "")) for i in items if isinstance(i, Mapping)][:2]
    where = f" in {ctx.state.region}" if ctx.state.region else ""
    detail = f" ({'; '.join(t for t in texts if t)})" if any(texts) else ""
    return f"{status}{where}{detail}"


def refuse_not_eligible(ctx: Context, assessment: Mapping[str, Any]) -> JourneyError:
    return _refuse(
        ctx,
        f"the patient's facts are judged {why_not(ctx, assessment)} for "
        f"{ctx.state.indication_id}; signing that needs a signed off-label exception with the "
        "reason",
        "eligibility.not_eligible",
    )


def refuse_needless_exception(ctx: Context) -> JourneyError:
    return _refuse(
        ctx,
        f"the patient's facts meet the label for {ctx.state.indication_id}: sign eligibility, "
        "not an off-label exception",
        "eligibility.exception_not_needed",
    )
