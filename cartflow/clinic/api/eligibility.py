"""Antigen tests and eligibility: judge the facts, record the test, sign the decision."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema
from pydantic import Field

from cartflow.clinic.api.auth import Scope, access_to
from cartflow.clinic.api.common import (
    CoiPath,
    Day,
    ShortText,
    SignedStepIn,
    StepIn,
    StepOut,
    Text,
    record,
)
from cartflow.clinic.services import eligibility, referral, site_register
from cartflow.clinic.services.machine import catalog
from cartflow.clinic.services.signatures import Meaning
from cartflow.domain.catalog import ANTIGENS, DISEASE_STATUSES, DISEASES, REGIONS, THERAPY_CLASSES
from cartflow.domain.eligibility import evaluate
from cartflow.domain.patient_facts import (
    MAX_AGE_YEARS,
    MAX_MONTHS,
    MAX_PRIOR_LINES,
    parse_patient_facts,
)
from cartflow.domain.roles import Action

router = Router(tags=["eligibility"])

Antigen = Literal[ANTIGENS]  # type: ignore[valid-type]
Disease = Literal[DISEASES]  # type: ignore[valid-type]
DiseaseStatus = Literal[DISEASE_STATUSES]  # type: ignore[valid-type]
TherapyClass = Literal[THERAPY_CLASSES]  # type: ignore[valid-type]
Region = Literal[REGIONS]  # type: ignore[valid-type]


class PatientFactsIn(Schema):
    """What is known of the patient; a fact left out is *missing*, never guessed."""

    age_years: float | None = Field(None, ge=0, le=MAX_AGE_YEARS, allow_inf_nan=False)
    weight_kg: float | None = Field(None, gt=0.5, le=350, allow_inf_nan=False)
    diagnosis: Disease | None = None
    disease_status: DiseaseStatus | None = None
    relapsed_after_transplant: bool | None = None
    months_from_first_line_to_relapse: float | None = Field(
        None, ge=0, le=MAX_MONTHS, allow_inf_nan=False
    )
    prior_lines: int | None = Field(None, ge=0, le=MAX_PRIOR_LINES)
    prior_therapies: list[TherapyClass] | None = Field(None, max_length=20)
    refractory_to: list[ShortText] | None = Field(None, max_length=20)
    transplant_eligible: bool | None = None
    antigens: dict[Antigen, Literal["positive", "negative", "not_tested"]] | None = None
    region: Region | None = None


class AssessIn(Schema):
    facts: PatientFactsIn
    on: Day | None = Field(None, description="the decision date (default: today)")
    site: str | None = Field(
        None,
        max_length=64,
        description="a treatment site's slug: its signed protocol values in force on the "
        "date fill the facts the catalog does not know",
    )


class AntigenTestIn(StepIn):
    antigen: Antigen
    positive: bool
    method: ShortText | None = None


class EligibilitySignIn(SignedStepIn):
    facts: PatientFactsIn | None = Field(
        None, description="the facts judged; the judgment for the case's indication is kept"
    )


def _facts(payload: PatientFactsIn) -> Any:
    return parse_patient_facts(payload.dict(exclude_none=True))


@router.post(
    "/eligibility/assessment",
    auth=access_to(Action.ASSESS_ELIGIBILITY, Scope.NETWORK),
    summary="Judge patient facts against every product and indication (records nothing)",
)
def assess(request: HttpRequest, payload: AssessIn) -> dict[str, Any]:
    on: date = payload.on or timezone.localdate()
    cat = catalog()
    values = (
        site_register.site_values(site_register.get_site(payload.site), on) if payload.site else ()
    )
    results = evaluate(_facts(payload.facts), cat, on, values)
    return {
        "on": on.isoformat(),
        "site": payload.site,
        "catalog_version": cat.version,
        "results": [r.to_dict() for r in results],
    }


@router.post(
    "/cases/{coi}/antigen-tests",
    response={201: StepOut},
    auth=access_to(Action.RECORD_ANTIGEN_TEST),
    tags=["antigen tests"],
    summary="Record the test of the product's target antigen",
)
def record_antigen_test(request: HttpRequest, coi: CoiPath, payload: AntigenTestIn) -> Any:
    return record(request, referral.record_antigen_test, payload, method=payload.method or "")


@router.post(
    "/cases/{coi}/eligibility",
    response={201: StepOut},
    auth=access_to(Action.SIGN_ELIGIBILITY),
    summary="Sign that the patient is eligible (re-enter the password)",
)
def sign_eligibility(request: HttpRequest, coi: CoiPath, payload: EligibilitySignIn) -> Any:
    facts = payload.facts.dict(exclude_none=True) if payload.facts is not None else {}
    values = payload.dict()
    values.pop("facts")
    return record(request, eligibility.sign_eligibility, None, facts=facts, **values)


class OffLabelIn(EligibilitySignIn):
    reason: Text = Field(description="why the patient is treated outside the label's indication")


@router.post(
    "/cases/{coi}/eligibility/off-label",
    response={201: StepOut},
    auth=access_to(Action.SIGN_ELIGIBILITY),
    summary="Sign an off-label exception: the patient's facts are not judged eligible and the "
    "physician treats with the reason (re-enter the password)",
)
def sign_off_label(request: HttpRequest, coi: CoiPath, payload: OffLabelIn) -> Any:
    facts = payload.facts.dict(exclude_none=True) if payload.facts is not None else {}
    values = payload.dict()
    values.pop("facts")
    values["meaning"] = values.get("meaning") or Meaning.EXCEPTION
    return record(request, eligibility.sign_off_label, None, facts=facts, **values)
