"""Leukapheresis: booking the chair, recording the collection, bridging therapy."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Unpack

from django.contrib.auth.models import User

from cartflow.clinic.models import Collection, Site, Slot, SlotKind, TherapyCase
from cartflow.clinic.services.append import AppendResult
from cartflow.clinic.services.cases import add_participant
from cartflow.clinic.services.operations import Recording, perform, user_site
from cartflow.clinic.services.slots import require_slot_of_user, take_place
from cartflow.domain import journey
from cartflow.domain.errors import InvalidInput
from cartflow.domain.identifiers import parse_identifier
from cartflow.domain.roles import SiteKind


def schedule_apheresis(
    case: TherapyCase | str,
    *,
    slot: Slot | None = None,
    unit: Site | None = None,
    acting_user: User,
    **kwargs: Any,
) -> AppendResult:
    """Book an apheresis chair (``slot``, when capacity is managed) and record the schedule.

    Taking the place and recording the event are one transaction: of two coordinators taking
    the last chair, one gets :class:`~cartflow.clinic.services.errors.Conflict`. Without a
    slot, ``unit`` names the apheresis unit that collects: it joins the case as a slot's site
    would, or its nurses could not open the case they are to collect from.
    """

    def side_rows(result: AppendResult, command: Any, user: User) -> None:
        if slot is not None:
            take_place(slot, result.case, result.head, result.now)
            add_participant(result.case, slot.site, result.now)
        elif unit is not None:
            add_participant(result.case, unit, result.now)

    if slot is not None:
        if slot.kind != SlotKind.APHERESIS_CHAIR:
            raise InvalidInput("slot: an apheresis chair slot is needed")
        require_slot_of_user(acting_user, slot)
        kwargs["chair_day"] = slot.day
    return perform(
        case, journey.ScheduleApheresis, acting_user=acting_user, side_rows=side_rows, **kwargs
    )


def _collection_row(result: AppendResult, command: Any, user: User) -> None:
    if not command.succeeded:
        return
    site = user_site(user, SiteKind.APHERESIS_UNIT, result.case.treating_site)
    add_participant(result.case, site, result.now)
    Collection.objects.create(
        din=parse_identifier(command.collection_din).compact,
        case=result.case,
        site=site,
        collected_at=command.occurred_at or result.now,
        event_hash=result.last().hash,
    )


def record_collection(
    case: TherapyCase | str,
    *,
    acting_user: User,
    scanned_coi: str,
    collection_din: str,
    occurred_at: datetime | None = None,
    succeeded: bool = True,
    reason: str = "",
    **recording: Unpack[Recording],
) -> AppendResult:
    """The apheresis unit records a collection: its DIN label, the case scan, and the outcome."""
    return perform(
        case,
        journey.RecordCollection,
        acting_user=acting_user,
        side_rows=_collection_row,
        occurred_at=occurred_at,
        scanned_coi=scanned_coi,
        collection_din=collection_din,
        succeeded=succeeded,
        reason=reason,
        **recording,
    )


def record_bridging_therapy(
    case: TherapyCase | str,
    *,
    acting_user: User,
    regimen: str,
    occurred_at: datetime | None = None,
    **recording: Unpack[Recording],
) -> AppendResult:
    """Bridging therapy given while the product is made."""
    return perform(
        case,
        journey.RecordBridgingTherapy,
        acting_user=acting_user,
        occurred_at=occurred_at,
        regimen=regimen,
        **recording,
    )
