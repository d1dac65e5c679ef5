"""Signing eligibility with the facts it judged: one path for the eligibility page, the case
page's form and the API.

The patient's facts start from what the record holds (age from the birth date, the region,
the antigen tests, the latest weight) and take what the physician gives on top; the domain's
eligibility module judges them for the case's indication on the site's date, and the journey
keeps the facts and the judgment with the signature (``SignEligibility``), or with a signed
off-label exception when they are not judged eligible (``SignOffLabelEligibility``).
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.utils import timezone

from cartflow.clinic.models import AntigenTest, CaseProjection, TherapyCase
from cartflow.clinic.services.append import AppendResult, resolve_case
from cartflow.clinic.services.machine import catalog, journey_machine
from cartflow.clinic.services.operations import perform
from cartflow.clinic.services.site_register import site_values
from cartflow.domain import journey
from cartflow.domain.eligibility import evaluate_indication
from cartflow.domain.patient_facts import parse_patient_facts


def _age(birth: date, on: date) -> float:
    return float(on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day)))


def site_today(case: TherapyCase) -> date:
    return timezone.now().astimezone(ZoneInfo(case.treating_site.time_zone)).date()


def _state(case: TherapyCase) -> Any:
    # Read afresh: the case object may carry the projection as it was when it was loaded.
    return journey_machine().load(CaseProjection.objects.get(case=case).state)


def known_facts(case: TherapyCase) -> dict[str, Any]:
    """What the record holds of the patient's facts; a fact it does not hold is left out."""
    state = _state(case)
    antigens: dict[str, str] = {}
    for test in AntigenTest.objects.filter(patient=case.patient).order_by("tested_on", "pk"):
        antigens[test.antigen.upper()] = "positive" if test.result == "positive" else "negative"
    facts: dict[str, Any] = {"age_years": _age(case.patient.birth_date, site_today(case))}
    if state.region:
        facts["region"] = state.region
    weight = state.latest_weight_kg or state.order_weight_kg
    if weight:
        facts["weight_kg"] = weight
    if antigens:
        facts["antigens"] = antigens
    return facts


def judge(case: TherapyCase, given: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The patient's facts (the record's, then ``given``) and their judgment for the case's
    indication on the site's date; InvalidInput names a fact that is not valid."""
    facts = {**known_facts(case), **{k: v for k, v in given.items() if v is not None}}
    parsed = parse_patient_facts(facts)
    state = _state(case)
    indication = catalog().indication(state.indication_id)
    on = site_today(case)
    values = site_values(case.treating_site, on, state.site_values)
    judged = evaluate_indication(parsed, catalog(), indication, on, values)
    return facts, judged.to_dict()


def sign_eligibility(
    case: TherapyCase | str, *, facts: dict[str, Any], acting_user: User, **kwargs: Any
) -> AppendResult:
    """Sign eligibility with the judgment of ``facts`` (refused unless judged eligible)."""
    case = resolve_case(case)
    judged_facts, assessment = judge(case, facts)
    return perform(
        case,
        journey.SignEligibility,
        acting_user=acting_user,
        facts=judged_facts,
        assessment=assessment,
        **kwargs,
    )


def sign_off_label(
    case: TherapyCase | str, *, facts: dict[str, Any], reason: str, acting_user: User, **kwargs: Any
) -> AppendResult:
    """A physician's signed off-label exception, with the facts judged and the reason."""
    case = resolve_case(case)
    judged_facts, assessment = judge(case, facts)
    return perform(
        case,
        journey.SignOffLabelEligibility,
        acting_user=acting_user,
        facts=judged_facts,
        assessment=assessment,
        reason=reason,
        **kwargs,
    )
