"""Bone-marrow blast counts: the journey's ``RecordMarrowBlasts``, where a split dose's regimen
depends on one (obecabtagene autoleucel); its rules are the domain's
(:mod:`cartflow.domain.journey.split_dose`, :mod:`cartflow.domain.journey.observations`)."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User

from cartflow.clinic.models import TherapyCase
from cartflow.clinic.services.append import AppendResult
from cartflow.clinic.services.context import NO_REQUEST, RequestMeta
from cartflow.clinic.services.observations import record_observation
from cartflow.domain.errors import InvalidInput
from cartflow.domain.journey import RecordMarrowBlasts


def record_marrow_blasts(
    case: TherapyCase | str,
    *,
    blast_percent: float,
    sampled_at: datetime | None = None,
    acting_user: User,
    request_meta: RequestMeta = NO_REQUEST,
    expected_version: int | None = None,
) -> AppendResult:
    """Record a marrow blast percentage at the time its sample was taken (now if not given)."""
    if sampled_at is not None and sampled_at.tzinfo is None:
        raise InvalidInput("sampled_at needs a time zone")
    command = RecordMarrowBlasts(
        actor=acting_user.get_username(), occurred_at=sampled_at, blast_percent=blast_percent
    )
    return record_observation(
        case,
        command,
        acting_user=acting_user,
        request_meta=request_meta,
        expected_version=expected_version,
        operation="record_marrow_blasts",
    )
