"""Transgene measurements after the infusion, recorded on the case's chain.

A measurement (qPCR transgene copies per microgram of genomic DNA) is the journey's
``RecordKineticsMeasurement`` command; its rules (the day counted from the first infusion,
given as ``day`` or from ``taken_at``; the plausible ranges; censoring below ``lloq``; a
double submission) are the domain's (:mod:`cartflow.domain.journey.observations`).
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User

from cartflow.clinic.models import TherapyCase
from cartflow.clinic.services.append import AppendResult
from cartflow.clinic.services.context import NO_REQUEST, RequestMeta
from cartflow.clinic.services.observations import record_observation
from cartflow.domain.errors import InvalidInput
from cartflow.domain.journey import RecordKineticsMeasurement, observations
from cartflow.domain.journey import event_types as T

KINETICS_MEASURED = T.KINETICS_MEASURED
MAX_DAY = observations.MAX_DAY
MAX_COPIES_PER_UG = observations.MAX_COPIES_PER_UG
MAX_LLOQ = observations.MAX_LLOQ


def record_kinetics_measurement(
    case: TherapyCase | str,
    *,
    day: float | None = None,
    taken_at: datetime | None = None,
    copies_per_ug: float | None,
    lloq: float | None = None,
    acting_user: User,
    request_meta: RequestMeta = NO_REQUEST,
    expected_version: int | None = None,
) -> AppendResult:
    """Record one transgene level (or a value below the LLOQ); only after an infusion."""
    if taken_at is not None and taken_at.tzinfo is None:
        raise InvalidInput("taken_at needs a time zone")
    command = RecordKineticsMeasurement(
        actor=acting_user.get_username(),
        occurred_at=taken_at,
        day=day,
        copies_per_ug=copies_per_ug,
        lloq=lloq,
    )
    return record_observation(
        case,
        command,
        acting_user=acting_user,
        request_meta=request_meta,
        expected_version=expected_version,
        operation="record_kinetics_measurement",
    )
