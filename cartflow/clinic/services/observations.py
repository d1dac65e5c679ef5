"""The write path shared by observations (grades, transgene levels): the domain decides, and
a double submission the domain recognises is answered as a conflict (409), not bad input."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from django.contrib.auth.models import User
from django.utils import timezone

from cartflow.clinic.models import TherapyCase
from cartflow.clinic.services.append import AppendRequest, AppendResult, append
from cartflow.clinic.services.context import NO_REQUEST, RequestMeta
from cartflow.clinic.services.errors import Conflict
from cartflow.domain import journey
from cartflow.domain.journey import Command, DuplicateObservation
from cartflow.domain.journey.outcomes import Method, Response, Syndrome, Treatment


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


def _value(choice: str) -> str:
    """A choice's code: an enumeration's value, or the code itself."""
    return str(getattr(choice, "value", choice))


def record_response_assessment(
    case: TherapyCase | str,
    *,
    response: Response | str,
    method: Method | str,
    assessed_on: date,
    acting_user: User,
    occurred_at: datetime | None = None,
    expected_version: int | None = None,
    request_meta: RequestMeta = NO_REQUEST,
) -> AppendResult:
    """The disease's response after the infusion, with how and when it was assessed (the
    domain refuses it before the first infusion)."""
    command = journey.RecordResponseAssessment(
        actor=acting_user.get_username(),
        occurred_at=occurred_at,
        response=_value(response),
        method=_value(method),
        assessed_on=assessed_on,
    )
    return record_observation(
        case,
        command,
        acting_user=acting_user,
        operation="record_response_assessment",
        request_meta=request_meta,
        expected_version=expected_version,
    )


def resolve_toxicity(
    case: TherapyCase | str,
    *,
    syndrome: Syndrome | str,
    treatments: Iterable[Treatment | str] = (),
    acting_user: User,
    occurred_at: datetime | None = None,
    expected_version: int | None = None,
    request_meta: RequestMeta = NO_REQUEST,
) -> AppendResult:
    """The end of an open CRS or ICANS episode, with what was given for it (the domain refuses
    it while no episode is open)."""
    command = journey.ResolveToxicity(
        actor=acting_user.get_username(),
        occurred_at=occurred_at,
        syndrome=_value(syndrome),
        treatments=tuple(_value(t) for t in treatments),
    )
    return record_observation(
        case,
        command,
        acting_user=acting_user,
        operation="resolve_toxicity",
        request_meta=request_meta,
        expected_version=expected_version,
    )
