"""Capacity: apheresis chairs and manufacturing slots; booking the last place is a 409 for
whoever comes second."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from cartflow.clinic import services
from cartflow.clinic.api.auth import Scope, access_to, acting_user, case_of, meta, site_of
from cartflow.clinic.api.common import step_out
from cartflow.clinic.api.schemas.common import StepOut
from cartflow.clinic.api.schemas.fields import CoiPath
from cartflow.clinic.api.schemas.slots import (
    BookingIn,
    SlotFilter,
    SlotIn,
    SlotOut,
    SlotTotalOut,
    TotalsFilter,
)
from cartflow.clinic.models import Slot
from cartflow.clinic.services import manufacturing
from cartflow.clinic.services.errors import NotFound
from cartflow.clinic.services.slots import network_totals, slots_for_user
from cartflow.domain.roles import Action

router = Router(tags=["slots"])


def slot_out(slot: Slot) -> dict[str, Any]:
    return {
        "id": slot.public_id,
        "site": slot.site.slug,
        "kind": slot.kind,
        "day": slot.day,
        "capacity": slot.capacity,
        "booked": slot.booked,
    }


@router.get(
    "/slots",
    response=list[SlotOut],
    auth=access_to(Action.VIEW_SLOTS, Scope.NETWORK),
    summary="Your sites' slots (and the shared sites' of the kinds you book), places taken",
)
def list_slots(request: HttpRequest, filters: Query[SlotFilter]) -> Any:
    rows = (
        slots_for_user(acting_user(request))
        .select_related("site")
        .order_by("day", "site__slug", "kind")
    )
    if filters.site:
        rows = rows.filter(site__slug=filters.site)
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    if filters.start:
        rows = rows.filter(day__gte=filters.start)
    if filters.end:
        rows = rows.filter(day__lte=filters.end)
    return [slot_out(s) for s in rows[: filters.limit]]


@router.get(
    "/slots/totals",
    response=list[SlotTotalOut],
    auth=access_to(Action.VIEW_SLOTS, Scope.NETWORK),
    summary="The network's places offered and taken per kind and day (no site named)",
)
def slot_totals(request: HttpRequest, filters: Query[TotalsFilter]) -> Any:
    return network_totals(str(filters.kind) if filters.kind else None, filters.start, filters.end)


@router.post(
    "/sites/{site}/slots",
    response={201: SlotOut},
    auth=access_to(Action.OPEN_SLOT, Scope.SITE),
    summary="Offer places of one kind at your site on one day",
)
def open_slot(request: HttpRequest, site: str, payload: SlotIn) -> Any:
    slot = services.open_slot(
        site_of(request),
        str(payload.kind),
        payload.day,
        payload.capacity,
        acting_user=acting_user(request),
        request_meta=meta(request),
    )
    return Status(201, slot_out(slot))


@router.post(
    "/cases/{coi}/manufacturing-slot",
    response={201: StepOut},
    auth=access_to(Action.BOOK_MANUFACTURING_SLOT),
    summary="Book a manufacturing slot for the case (the manufacturer then holds the case)",
)
def book_manufacturing_slot(request: HttpRequest, coi: CoiPath, payload: BookingIn) -> Any:
    slot = Slot.objects.select_related("site").filter(public_id=payload.slot_id).first()
    if slot is None:
        raise NotFound(f"no slot {payload.slot_id}")
    result = manufacturing.book_manufacturing_slot(
        case_of(request),
        slot,
        acting_user=acting_user(request),
        request_meta=meta(request),
        expected_version=payload.expected_version,
        occurred_at=payload.occurred_at,
    )
    return Status(201, step_out(result))
