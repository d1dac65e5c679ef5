"""Transgene measurements after the infusion (qPCR copies per microgram of genomic DNA).

A measurement is a ``kinetics.measured`` event on the case's chain, recorded by
:func:`cartflow.clinic.services.kinetics.record_kinetics_measurement`: its day counted from
the first infusion (``day``, or the time the sample was taken, ``taken_at``), the value, and
the assay's limit of quantification; a value below the limit is recorded as censored.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from cartflow.clinic.api.auth import access_to
from cartflow.clinic.api.common import record
from cartflow.clinic.api.schemas.common import StepOut
from cartflow.clinic.api.schemas.fields import CoiPath
from cartflow.clinic.api.schemas.kinetics import KineticsMeasurementIn
from cartflow.clinic.services import kinetics
from cartflow.domain.roles import Action

router = Router(tags=["kinetics"])


def measurement_arguments(payload: KineticsMeasurementIn) -> dict[str, Any]:
    """The service's keyword arguments (the sample's own time replaces ``occurred_at``)."""
    values = payload.dict()
    values.pop("occurred_at", None)
    return values


@router.post(
    "/cases/{coi}/kinetics/measurements",
    response={201: StepOut},
    auth=access_to(Action.RECORD_KINETICS_MEASUREMENT),
    summary="Record a transgene level (or a value below the assay's LLOQ) after the infusion",
)
def record_measurement(request: HttpRequest, coi: CoiPath, payload: KineticsMeasurementIn) -> Any:
    return record(
        request, kinetics.record_kinetics_measurement, None, **measurement_arguments(payload)
    )
