"""Labels, outcomes and exports: printing and reconciling a case's labels, the response and
the end of a CRS or ICANS episode, the case's FHIR Bundle and a site's registry export.

A print or a reprint answers 201 with the labels' PDF (a page per label, 100 x 100 mm); the
events are in the case's log (``GET /api/cases/{coi}/events``).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from cartflow.clinic.api.auth import Scope, access_to, acting_user, case_of, meta, site_of
from cartflow.clinic.api.common import record, step_out
from cartflow.clinic.api.schemas.common import StepIn, StepOut
from cartflow.clinic.api.schemas.fields import CoiPath
from cartflow.clinic.api.schemas.records_out import (
    LabelsIn,
    Period,
    PrintIn,
    ReprintIn,
    ResolutionIn,
    ResponseIn,
    VoidIn,
)
from cartflow.clinic.services import labels
from cartflow.clinic.services.fhir_export import export_fhir
from cartflow.clinic.services.observations import record_observation
from cartflow.clinic.services.registry_export import registry_csv
from cartflow.domain import journey
from cartflow.domain.roles import Action

router = Router(tags=["labels, outcomes and exports"])


def _pdf(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf", status=201)
    response["Content-Disposition"] = f'inline; filename="{name}.pdf"'
    return response


@router.post(
    "/cases/{coi}/labels",
    auth=access_to(Action.PRINT_LABELS),
    response={201: None},
    summary="Print labels (collection bag, product bags, shipper): the print is recorded",
)
def print_labels(request: HttpRequest, coi: CoiPath, payload: PrintIn) -> Any:
    case = case_of(request)
    _result, data = labels.print_labels(
        case,
        kind=payload.kind.value,
        count=payload.count,
        occurred_at=payload.occurred_at,
        expected_version=payload.expected_version,
        acting_user=acting_user(request),
        request_meta=meta(request),
    )
    return _pdf(data, f"{case.coi}-{payload.kind.value}")


@router.post(
    "/cases/{coi}/labels/reprints",
    auth=access_to(Action.PRINT_LABELS),
    response={201: None},
    summary="Reprint a label, with the reason: the original is replaced",
)
def reprint_label(request: HttpRequest, coi: CoiPath, payload: ReprintIn) -> Any:
    case = case_of(request)
    _result, data = labels.reprint_label(
        case,
        label_id=payload.label_id,
        reason=payload.reason,
        occurred_at=payload.occurred_at,
        expected_version=payload.expected_version,
        acting_user=acting_user(request),
        request_meta=meta(request),
    )
    return _pdf(data, f"{case.coi}-reprint")


@router.post(
    "/cases/{coi}/labels/applied",
    response={201: StepOut},
    auth=access_to(Action.RECONCILE_LABELS),
    summary="Record printed labels as applied",
)
def apply_labels(request: HttpRequest, coi: CoiPath, payload: LabelsIn) -> Any:
    return record(
        request,
        labels.apply_labels,
        None,
        label_ids=tuple(payload.label_ids),
        occurred_at=payload.occurred_at,
        expected_version=payload.expected_version,
    )


@router.post(
    "/cases/{coi}/labels/voided",
    response={201: StepOut},
    auth=access_to(Action.RECONCILE_LABELS),
    summary="Void printed labels, with the reason",
)
def void_labels(request: HttpRequest, coi: CoiPath, payload: VoidIn) -> Any:
    return record(
        request,
        labels.void_labels,
        None,
        label_ids=tuple(payload.label_ids),
        reason=payload.reason,
        occurred_at=payload.occurred_at,
        expected_version=payload.expected_version,
    )


def _observe(request: HttpRequest, command: Any, payload: StepIn, operation: str) -> Any:
    result = record_observation(
        case_of(request),
        command,
        acting_user=acting_user(request),
        request_meta=meta(request),
        expected_version=payload.expected_version,
        operation=operation,
    )
    return Status(201, step_out(result))


@router.post(
    "/cases/{coi}/response-assessments",
    response={201: StepOut},
    auth=access_to(Action.RECORD_RESPONSE_ASSESSMENT),
    summary="Record the disease's response after the infusion (method and date)",
)
def record_response(request: HttpRequest, coi: CoiPath, payload: ResponseIn) -> Any:
    command = journey.RecordResponseAssessment(
        actor=acting_user(request).get_username(),
        occurred_at=payload.occurred_at,
        response=payload.response.value,
        method=payload.method.value,
        assessed_on=payload.assessed_on,
    )
    return _observe(request, command, payload, "record_response_assessment")


@router.post(
    "/cases/{coi}/toxicity/resolution",
    response={201: StepOut},
    auth=access_to(Action.RESOLVE_TOXICITY),
    summary="Record that a CRS or ICANS episode resolved, with what was given for it",
)
def resolve_toxicity(request: HttpRequest, coi: CoiPath, payload: ResolutionIn) -> Any:
    command = journey.ResolveToxicity(
        actor=acting_user(request).get_username(),
        occurred_at=payload.occurred_at,
        syndrome=payload.syndrome.value,
        treatments=tuple(t.value for t in payload.treatments),
    )
    return _observe(request, command, payload, "resolve_toxicity")


@router.get(
    "/cases/{coi}/fhir",
    auth=access_to(Action.EXPORT_FHIR),
    response={200: None},
    summary="The case as a FHIR R4 Bundle (pseudonymised unless you may see the patient)",
)
def case_fhir(request: HttpRequest, coi: CoiPath) -> Any:
    text = export_fhir(case_of(request), reader=acting_user(request))
    return HttpResponse(text, content_type="application/fhir+json")


@router.get(
    "/sites/{site}/registry-export",
    auth=access_to(Action.EXPORT_REGISTRY, Scope.SITE),
    response={200: None},
    summary="The registry export (CSV) of the site's infused cases, by first infusion date",
)
def registry_export(request: HttpRequest, site: str, period: Query[Period]) -> Any:
    text = registry_csv(site_of(request), period.start, period.end)
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="registry.csv"'
    return response
