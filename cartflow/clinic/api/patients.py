"""Patients of a treatment center: register, list, read. Never shown to a manufacturer or
courier (they hold no ``view_patient``)."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from cartflow.clinic import access, services
from cartflow.clinic.access_log import identity_shown
from cartflow.clinic.api.auth import Scope, access_to, acting_user, meta, patient_of, site_of
from cartflow.clinic.api.schemas.patients import (
    AntigenTestOut,
    PatientFilter,
    PatientIn,
    PatientOut,
)
from cartflow.clinic.models import AntigenTest
from cartflow.domain.roles import Action

router = Router(tags=["patients"])


def patient_out(patient: Any) -> dict[str, Any]:
    identity_shown([patient])
    return {
        "id": patient.public_id,
        "site": patient.treating_site.slug,
        "record_number": patient.record_number,
        "given_name": patient.given_name,
        "family_name": patient.family_name,
        "birth_date": patient.birth_date,
        "sex": patient.sex,
        "cases": [case.coi for case in patient.cases.all()],
    }


@router.get(
    "/patients",
    response=list[PatientOut],
    auth=access_to(Action.VIEW_PATIENT, Scope.NETWORK),
    summary="The patients of your treatment centers",
)
def list_patients(request: HttpRequest, filters: Query[PatientFilter]) -> Any:
    rows = (
        access.patients_for_user(acting_user(request))
        .select_related("treating_site")
        .prefetch_related("cases")
        .order_by("treating_site__slug", "record_number")
    )
    if filters.site:
        rows = rows.filter(treating_site__slug=filters.site)
    if filters.record_number:
        rows = rows.filter(record_number=filters.record_number)
    return [patient_out(p) for p in rows[filters.offset : filters.offset + filters.limit]]


@router.post(
    "/sites/{site}/patients",
    response={201: PatientOut},
    auth=access_to(Action.REGISTER_PATIENT, Scope.SITE),
    summary="Register a patient at a treatment center",
)
def register_patient(request: HttpRequest, site: str, payload: PatientIn) -> Any:
    patient = services.register_patient(
        site_of(request),
        record_number=payload.record_number,
        given_name=payload.given_name,
        family_name=payload.family_name,
        birth_date=payload.birth_date,
        sex=payload.sex,
        acting_user=acting_user(request),
        request_meta=meta(request),
    )
    return Status(201, patient_out(patient))


@router.get(
    "/patients/{patient_id}",
    response=PatientOut,
    auth=access_to(Action.VIEW_PATIENT, Scope.PATIENT),
    summary="One patient",
)
def get_patient(request: HttpRequest, patient_id: uuid.UUID) -> Any:
    return patient_out(patient_of(request))


@router.get(
    "/patients/{patient_id}/antigen-tests",
    response=list[AntigenTestOut],
    auth=access_to(Action.VIEW_PATIENT, Scope.PATIENT),
    tags=["antigen tests"],
    summary="The patient's antigen tests",
)
def list_antigen_tests(request: HttpRequest, patient_id: uuid.UUID) -> Any:
    rows = AntigenTest.objects.filter(patient=patient_of(request)).order_by("tested_on", "pk")
    return [
        {"antigen": t.antigen, "result": t.result, "method": t.method, "tested_on": t.tested_on}
        for t in rows
    ]
