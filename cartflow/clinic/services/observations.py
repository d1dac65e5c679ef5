"""The write path shared by observations (grades, transgene levels): the domain decides, and
a double submission the domain recognises is answered as a conflict (409), not bad input."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.utils import timezone

from cartflow.clinic.models import TherapyCase
from cartflow.clinic.services.append import AppendRequest, AppendResult, append
from cartflow.clinic.services.context import NO_REQUEST, RequestMeta
from cartflow.clinic.services.errors import Conflict
from cartflow.domain.journey import Command, DuplicateObservation


def record_observation(
    case: TherapyCase | str,
    command: Command,
    *,
    acting_user: User,
    operation: str,
    request_meta: RequestMeta = NO_REQUEST,
    expected_version: int | None = None,
) -> AppendResult:
    """Append one observation command (the domain's rules decide it)."""
    try:
        return append(
            AppendRequest(
                case=case,
                command=command,
                acting_user=acting_user,
                request_meta=request_meta,
                operation=operation,
                expected_version=expected_version,
                now=timezone.now(),
            )
        )
    except DuplicateObservation as exc:
        raise Conflict(exc.rule) from exc
