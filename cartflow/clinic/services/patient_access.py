"""Patient and family access, and the team's planned dates: one write each, on the chain.

The coordinator issues access (:func:`issue_patient_access`): a link with a long random token,
shown once; only its hash is kept. The holder turns it into their own login with a user name
and a password they choose (:func:`set_up_patient_access`), once, before the link expires.
The coordinator may revoke it (:func:`revoke_patient_access`). Each is an event of the case's
chain (the domain's ``patient_access`` rules decide it) with its audit row, in one
transaction with the row beside it.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cartflow.clinic.models import PatientAccess, TherapyCase
from cartflow.clinic.services.append import AppendRequest, AppendResult, append, resolve_case
from cartflow.clinic.services.context import NO_REQUEST, RequestMeta
from cartflow.clinic.services.errors import NotFound
from cartflow.clinic.services.machine import journey_machine
from cartflow.domain.errors import InvalidInput
from cartflow.domain.journey import patient_access as rules

LINK_DAYS = 7
"""How long a set-up link lives unless the coordinator says otherwise (at most 30)."""
TOKEN_BYTES = 32


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def age_on(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def site_today(case: TherapyCase, now: datetime) -> date:
    return now.astimezone(ZoneInfo(case.treating_site.time_zone)).date()


@dataclass(frozen=True)
class Issued:
    access: PatientAccess
    token: str  # shown to the coordinator once; never stored


def issue_patient_access(
    case: TherapyCase | str,
    *,
    holder: str,
    holder_name: str = "",
    language: str = "",
    days: int = LINK_DAYS,
    acting_user: User,
    request_meta: RequestMeta = NO_REQUEST,
    now: datetime | None = None,
) -> Issued:
    """Issue a set-up link for the case's patient or a named parent or guardian."""
    case = resolve_case(case)
    now = now or timezone.now()
    holder_name = holder_name.strip()[:200]
    if holder == rules.GUARDIAN and not holder_name:
        raise InvalidInput("name the parent or guardian who receives the access")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    access_id = uuid.uuid4()
    site = case.treating_site
    command = rules.IssuePatientAccess(
        actor=acting_user.get_username(),
        access_id=str(access_id),
        holder=holder,
        patient_age=age_on(case.patient.birth_date, site_today(case, now)),
        own_access_age=site.own_access_age,
        expires_at=now + timedelta(days=days),
    )
    created: list[PatientAccess] = []

    def keep(result: AppendResult) -> None:
        created.append(
            PatientAccess.objects.create(
                public_id=access_id,
                case=case,
                holder=holder,
                holder_name=holder_name if holder == rules.GUARDIAN else "",
                language=language if language in dict(settings.LANGUAGES) else "",
                token_hash=token_hash(token),
                issued_at=now,
                issued_by=acting_user,
                expires_at=command.expires_at,
            )
        )

    append(
        AppendRequest(
            case=case,
            command=command,
            acting_user=acting_user,
            request_meta=request_meta,
            operation="issue_patient_access",
            summary={"holder": holder, "access": str(access_id)},
            then=keep,
            now=now,
        )
    )
    return Issued(created[0], token)


def access_for_token(token: str) -> PatientAccess:
    access = (
        PatientAccess.objects.select_related("case", "case__treating_site")
        .filter(token_hash=token_hash(token or ""))
        .first()
    )
    if access is None:
        raise NotFound("no such link")
    return access


def set_up_patient_access(
    token: str,
    *,
    username: str,
    password: str,
    request_meta: RequestMeta = NO_REQUEST,
    now: datetime | None = None,
) -> Any:
    """Turn the link into the holder's own login; the domain refuses a used, revoked or
    expired link. Returns the new user (no site membership: the patient view only)."""
    access = access_for_token(token)
    now = now or timezone.now()
    users = get_user_model()
    username = username.strip()
    if not username or len(username) > 150:
        raise InvalidInput("choose a user name of up to 150 characters")
    if users.objects.filter(username__iexact=username).exists():
        raise InvalidInput("this user name is taken: choose another")
    candidate = users(username=username)
    try:
        validate_password(password, candidate)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages)) from None
    with transaction.atomic():
        user = users.objects.create_user(username=username, password=password)

        def keep(result: AppendResult) -> None:
            updated = PatientAccess.objects.filter(
                pk=access.pk, used_at__isnull=True, revoked_at__isnull=True
            ).update(used_at=now, user=user)
            if updated != 1:
                raise NotFound("no such link")

        append(
            AppendRequest(
                case=access.case,
                command=rules.UsePatientAccess(actor=username, access_id=str(access.public_id)),
                acting_user=user,
                request_meta=request_meta,
                operation="use_patient_access",
                summary={"access": str(access.public_id)},
                then=keep,
                now=now,
            )
        )
    return user


def revoke_patient_access(
    case: TherapyCase | str,
    access_id: Any,
    *,
    reason: str = "",
    acting_user: User,
    request_meta: RequestMeta = NO_REQUEST,
    now: datetime | None = None,
) -> AppendResult:
    case = resolve_case(case)
    access = PatientAccess.objects.filter(case=case, public_id=access_id).first()
    if access is None:
        raise NotFound(f"no access {access_id} on this case")
    now = now or timezone.now()

    def keep(result: AppendResult) -> None:
        PatientAccess.objects.filter(pk=access.pk).update(revoked_at=now)

    return append(
        AppendRequest(
            case=case,
            command=rules.RevokePatientAccess(
                actor=acting_user.get_username(), access_id=str(access.public_id), reason=reason
            ),
            acting_user=acting_user,
            request_meta=request_meta,
            operation="revoke_patient_access",
            summary={"access": str(access.public_id)},
            then=keep,
            now=now,
        )
    )


def record_planned_dates(
    case: TherapyCase | str,
    *,
    apheresis_on: date | None = None,
    lymphodepletion_on: date | None = None,
    infusion_on: date | None = None,
    acting_user: User,
    request_meta: RequestMeta = NO_REQUEST,
) -> AppendResult:
    """The team's planned dates, where no planner has recorded them."""
    return append(
        AppendRequest(
            case=case,
            command=rules.RecordPlannedDates(
                actor=acting_user.get_username(),
                apheresis_on=apheresis_on,
                lymphodepletion_on=lymphodepletion_on,
                infusion_on=infusion_on,
            ),
            acting_user=acting_user,
            request_meta=request_meta,
            operation="record_planned_dates",
        )
    )


@dataclass(frozen=True)
class PatientCase:
    """What a patient or family login may see: its access, the case and the case's state."""

    access: PatientAccess
    case: TherapyCase
    state: Any


def case_for_patient(user: User) -> PatientCase | None:
    """The one case a patient or family login opens, or None: no access, revoked, or the
    case closed (withdrawn, deceased, follow-up completed)."""
    if not (getattr(user, "is_authenticated", False) and getattr(user, "is_active", False)):
        return None
    access = (
        PatientAccess.objects.select_related(
            "case", "case__projection", "case__treating_site", "case__patient"
        )
        .filter(user=user, revoked_at__isnull=True, used_at__isnull=False)
        .first()
    )
    if access is None:
        return None
    state = journey_machine().load(access.case.projection.state)
    if not rules.is_open(state, str(access.public_id)):
        return None
    return PatientCase(access, access.case, state)


def language_of(user: User) -> str:
    """The language the holder's access was issued in ("" when none was chosen)."""
    if not getattr(user, "is_authenticated", False):
        return ""
    found = PatientAccess.objects.filter(user=user).values_list("language", flat=True).first()
    return found or ""


def is_patient_login(user: User) -> bool:
    """Whether the user is a patient or family login (closed or not): never a staff page."""
    return (
        bool(getattr(user, "is_authenticated", False))
        and PatientAccess.objects.filter(user=user).exists()
    )
