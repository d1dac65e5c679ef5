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
from pydantic import Field

from cartflow.clinic.api.auth import access_to
from cartflow.clinic.api.common import ClinicalTime, CoiPath, StepIn, StepOut, record
from cartflow.clinic.services import kinetics
from cartflow.domain.roles import Action

router = Router(tags=["kinetics"])


class KineticsMeasurementIn(StepIn):
    day: float | None = Field(
        None,
        ge=0,
        le=kinetics.MAX_DAY,
        allow_inf_nan=False,
        description="days after the first infusion (or give taken_at)",
    )
    taken_at: ClinicalTime | None = Field(
        None, description="when the sample was taken, with a time zone (or give day)"
    )
    copies_per_ug: float | None = Field(
        None,
        ge=0,
        le=kinetics.MAX_COPIES_PER_UG,
        allow_inf_nan=False,
        description="transgene copies per microgram of genomic DNA; empty or below lloq: censored",
    )
    lloq: float | None = Field(
        None,
        gt=0,
        le=kinetics.MAX_LLOQ,
        allow_inf_nan=False,
        description="the assay's lower limit of quantification (copies/ug)",
    )


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
