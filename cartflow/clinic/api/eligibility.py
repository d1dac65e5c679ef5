"""Antigen tests and eligibility: judge the facts, record the test, sign the decision."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router

from cartflow.clinic.api.auth import Scope, access_to
from cartflow.clinic.api.common import record
from cartflow.clinic.api.schemas.common import StepOut
from cartflow.clinic.api.schemas.eligibility import (
    AntigenTestIn,
    AssessIn,
    EligibilitySignIn,
    OffLabelIn,
    PatientFactsIn,
)
from cartflow.clinic.api.schemas.fields import CoiPath
from cartflow.clinic.services import eligibility, referral, site_register
from cartflow.clinic.services.machine import catalog
from cartflow.clinic.services.signatures import Meaning
from cartflow.domain.eligibility import evaluate
from cartflow.domain.patient_facts import parse_patient_facts
from cartflow.domain.roles import Action

router = Router(tags=["eligibility"])


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
