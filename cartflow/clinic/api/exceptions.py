"""Signed exceptions and quality decisions: out-of-specification product, quarantine,
lymphodepletion omitted, fludarabine reduced, a site's protocol value for a missing fact."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from cartflow.clinic.api.auth import access_to, case_of
from cartflow.clinic.api.common import record
from cartflow.clinic.api.schemas.common import StepOut
from cartflow.clinic.api.schemas.exceptions import (
    ExceptionsOut,
    FludarabineIn,
    OmissionIn,
    OutOfSpecificationDecisionIn,
    QuarantineDecisionIn,
    SiteProtocolValueIn,
)
from cartflow.clinic.api.schemas.fields import CoiPath
from cartflow.clinic.services import custody, manufacturing, treatment
from cartflow.domain.roles import Action

router = Router(tags=["exceptions"])
Created = {201: StepOut}


@router.get(
    "/cases/{coi}/exceptions",
    response=ExceptionsOut,
    auth=access_to(Action.VIEW_CASE),
    summary="The case's signed exceptions and quality decisions",
)
def list_exceptions(request: HttpRequest, coi: CoiPath) -> Any:
    state = case_of(request).projection.state
    return {
        "exceptions": list(state.get("exceptions") or []),
        "quality_decisions": list(state.get("quality_decisions") or []),
    }


@router.post(
    "/cases/{coi}/exceptions/out-of-specification-decision",
    response=Created,
    auth=access_to(Action.DECIDE_OUT_OF_SPECIFICATION),
    summary="Quality accepts out-of-specification product under an exception, or rejects it",
)
def decide_out_of_specification(
    request: HttpRequest, coi: CoiPath, payload: OutOfSpecificationDecisionIn
) -> Any:
    return record(request, manufacturing.decide_out_of_specification, payload)


@router.post(
    "/cases/{coi}/exceptions/quarantine-decision",
    response=Created,
    auth=access_to(Action.DECIDE_QUARANTINE),
    summary="Quality releases quarantined product after an excursion, or rejects it",
)
def decide_quarantine(request: HttpRequest, coi: CoiPath, payload: QuarantineDecisionIn) -> Any:
    return record(request, custody.decide_quarantine, payload)


@router.post(
    "/cases/{coi}/exceptions/lymphodepletion-omission",
    response=Created,
    auth=access_to(Action.OMIT_LYMPHODEPLETION),
    summary="Omit lymphodepletion for a low white-cell count (the label's exception)",
)
def omit_lymphodepletion(request: HttpRequest, coi: CoiPath, payload: OmissionIn) -> Any:
    return record(request, treatment.omit_lymphodepletion, payload)


@router.post(
    "/cases/{coi}/exceptions/fludarabine-dose",
    response=Created,
    auth=access_to(Action.MODIFY_FLUDARABINE_DOSE),
    summary="Reduce fludarabine for low creatinine clearance",
)
def modify_fludarabine(request: HttpRequest, coi: CoiPath, payload: FludarabineIn) -> Any:
    return record(request, treatment.modify_fludarabine_dose, payload)


@router.post(
    "/cases/{coi}/exceptions/site-protocol-values",
    response=Created,
    auth=access_to(Action.RECORD_SITE_PROTOCOL_VALUE),
    summary="Record the site's signed value for a fact the catalog does not give",
)
def site_protocol_value(request: HttpRequest, coi: CoiPath, payload: SiteProtocolValueIn) -> Any:
    return record(request, treatment.record_site_protocol_value, payload, fact=str(payload.fact))
