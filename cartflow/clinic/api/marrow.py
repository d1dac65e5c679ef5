"""Bone-marrow blast counts: where a split dose's regimen depends on one (obecabtagene
autoleucel), lymphodepletion starts only with a count from a sample taken within the label's
days before it (:mod:`cartflow.domain.journey.split_dose`)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from cartflow.clinic.api.auth import access_to
from cartflow.clinic.api.common import record
from cartflow.clinic.api.schemas.common import StepOut
from cartflow.clinic.api.schemas.fields import CoiPath
from cartflow.clinic.api.schemas.marrow import MarrowBlastsIn
from cartflow.clinic.services import marrow
from cartflow.domain.roles import Action

router = Router(tags=["marrow"])


@router.post(
    "/cases/{coi}/marrow/blasts",
    response={201: StepOut},
    auth=access_to(Action.RECORD_MARROW_BLASTS),
    summary="Record a bone-marrow blast percentage (chooses a split dose's regimen)",
)
def record_marrow_blasts(request: HttpRequest, coi: CoiPath, payload: MarrowBlastsIn) -> Any:
    values = payload.dict()
    values.pop("occurred_at", None)
    return record(request, marrow.record_marrow_blasts, None, **values)
