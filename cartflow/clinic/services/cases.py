"""Opening a therapy case: a new chain-of-identity identifier, its projection, its first event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from cartflow.clinic.models import CaseParticipant, Patient, Site, TherapyCase
from cartflow.clinic.services.append import (
    CONFLICT_BUSY,
    AppendRequest,
    AppendResult,
    append_in_transaction,
    create_projection,
)
from cartflow.clinic.services.context import NO_REQUEST, RequestMeta
from cartflow.clinic.services.errors import Conflict
from cartflow.clinic.services.identifiers import allocate_identifier
from cartflow.clinic.services.machine import CaseMachine, journey_machine
from cartflow.domain.errors import InvalidInput


def local_year(site: Site, now: datetime) -> int:
    """The year at the site, which names the identifier (a case opened on New Year's Eve)."""
    import zoneinfo

    return now.astimezone(zoneinfo.ZoneInfo(site.time_zone)).year


def open_case(
    patient: Patient,
    first_command: Any,
    *,
    acting_user: User,
    request_meta: RequestMeta = NO_REQUEST,
    product: str = "",
    machine: CaseMachine | None = None,
    now: datetime | None = None,
) -> AppendResult:
    """Open a case for ``patient`` at their treating site and record ``first_command``.

    ``first_command`` may be a function of the new identifier (the referral names it).

    The identifier is allocated, the case and its projection created and the first event
    appended in one transaction: a refused first command leaves no case and no gap.
    """
    machine = machine or journey_machine()
    now = now or timezone.now()
    site = patient.treating_site
    if not site.facility_code:
        raise InvalidInput(
            f"the site {site.slug} has no facility code (FIN): set one before opening cases"
        )
    try:
        with transaction.atomic():
            din = allocate_identifier(site.facility_code, local_year(site, now))
            case = TherapyCase.objects.create(
                coi=din.compact,
                patient=patient,
                treating_site=site,
                product=product,
                created_at=now,
            )
            create_projection(case, machine, now)
            CaseParticipant.objects.create(case=case, site=site, since=now)
            command = first_command(case.coi) if callable(first_command) else first_command
            return append_in_transaction(
                AppendRequest(
                    case=case,
                    command=command,
                    acting_user=acting_user,
                    request_meta=request_meta,
                    machine=machine,
                    now=now,
                    summary={"opened": True},
                )
            )
    except IntegrityError as exc:
        raise Conflict("another case was opened at the same moment: try again") from exc
    except OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise Conflict(CONFLICT_BUSY) from exc
        raise


def add_participant(case: TherapyCase, site: Site, now: datetime) -> None:
    """Let ``site`` see ``case`` (by identifier only, for a manufacturer or courier)."""
    CaseParticipant.objects.get_or_create(case=case, site=site, defaults={"since": now})
