"""Therapy cases: refer a patient (a new case), list the cases you may see, read one.

A manufacturing site or courier reads a case by its chain-of-identity identifier only:
``patient`` is ``null`` for them.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Prefetch
from django.http import HttpRequest
from ninja import Query, Router, Status

from cartflow.clinic import access
from cartflow.clinic.access_log import identity_shown
from cartflow.clinic.api.auth import Scope, access_to, acting_user, case_of, meta, patient_of
from cartflow.clinic.api.common import event_out, events_with_signatures, signature_out, step_out
from cartflow.clinic.api.schemas.cases import (
    CaseFilter,
    CaseOut,
    CaseSummary,
    ReferralIn,
)
from cartflow.clinic.api.schemas.common import EventOut, StepOut
from cartflow.clinic.api.schemas.fields import CoiPath
from cartflow.clinic.case_state import case_state
from cartflow.clinic.models import CaseParticipant, Signature, TherapyCase
from cartflow.clinic.services import referral
from cartflow.domain.roles import Action

router = Router(tags=["cases"])


def _patient(case: TherapyCase, identify: bool) -> dict[str, Any] | None:
    if not identify:
        return None
    p = case.patient
    identity_shown([p])
    return {
        "id": p.public_id,
        "record_number": p.record_number,
        "given_name": p.given_name,
        "family_name": p.family_name,
        "birth_date": p.birth_date,
    }


def case_summary(case: TherapyCase, identify: bool) -> dict[str, Any]:
    projection = case.projection
    return {
        "coi": case.coi,
        "product": case.product,
        "site": case.treating_site.slug,
        "step": projection.step,
        "version": projection.version,
        "active": projection.active,
        "waiting_for": case_state(projection).waiting_for,
        "updated_at": projection.updated_at,
        "patient": _patient(case, identify),
    }


def case_detail(user: Any, case: TherapyCase) -> dict[str, Any]:
    case = (
        TherapyCase.objects.select_related("projection", "treating_site", "patient")
        .prefetch_related("participants__site")
        .get(pk=case.pk)
    )
    identify = access.may_identify(user, case)
    signatures = Signature.objects.filter(event__case=case).order_by("signed_at", "pk")
    return {
        **case_summary(case, identify),
        "head": case.projection.head,
        "participants": sorted(p.site.slug for p in case.participants.all()),
        "next_actions": list(case_state(case).next_actions),
        "state": dict(case.projection.state),
        "signatures": [signature_out(s) for s in signatures],
    }


@router.get(
    "/cases",
    response=list[CaseSummary],
    auth=access_to(Action.VIEW_CASE, Scope.NETWORK),
    summary="The cases your sites take part in",
)
def list_cases(request: HttpRequest, filters: Query[CaseFilter]) -> Any:
    user = acting_user(request)
    rows = (
        access.cases_for_user(user)
        .select_related("projection", "treating_site", "patient")
        .prefetch_related(
            Prefetch("participants", queryset=CaseParticipant.objects.only("case_id", "site_id"))
        )
        .order_by("treating_site__slug", "coi")
    )
    if filters.step:
        rows = rows.filter(projection__step=filters.step)
    if filters.active is not None:
        rows = rows.filter(projection__active=filters.active)
    page = rows[filters.offset : filters.offset + filters.limit]
    return [
        case_summary(
            case,
            access.may_identify(user, case, [p.site_id for p in case.participants.all()]),
        )
        for case in page
    ]


@router.post(
    "/patients/{patient_id}/cases",
    response={201: StepOut},
    auth=access_to(Action.REFER_PATIENT, Scope.PATIENT),
    summary="Refer the patient: open a therapy case with a new chain-of-identity identifier",
)
def refer(request: HttpRequest, patient_id: uuid.UUID, payload: ReferralIn) -> Any:
    result = referral.refer_patient(
        patient_of(request),
        product_id=payload.product_id,
        indication_id=payload.indication_id,
        occurred_at=payload.occurred_at,
        acting_user=acting_user(request),
        request_meta=meta(request),
    )
    return Status(201, step_out(result))


@router.get(
    "/cases/{coi}",
    response=CaseOut,
    auth=access_to(Action.VIEW_CASE),
    summary="One case: its step, state, what it waits for, and its signatures",
)
def get_case(request: HttpRequest, coi: CoiPath) -> Any:
    return case_detail(acting_user(request), case_of(request))


@router.get(
    "/cases/{coi}/events",
    response=list[EventOut],
    auth=access_to(Action.VIEW_CASE),
    summary="The case's event log, each event with its signatures (name, time, meaning)",
)
def list_events(request: HttpRequest, coi: CoiPath) -> Any:
    return [event_out(e) for e in events_with_signatures(case_of(request))]
