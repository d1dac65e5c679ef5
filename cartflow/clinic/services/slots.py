"""Capacity: opening slots and booking them, so two users never take the same last place."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet, Sum

from cartflow.clinic.models import Site, Slot, SlotBooking, SlotKind, TherapyCase
from cartflow.clinic.services.append import AppendRequest, AppendResult, append
from cartflow.clinic.services.context import NO_REQUEST, RequestMeta
from cartflow.clinic.services.errors import Conflict, NotFound
from cartflow.clinic.services.machine import CaseMachine
from cartflow.clinic.services.records import write_audit
from cartflow.domain.errors import InvalidInput
from cartflow.domain.roles import Action, SiteKind

SLOT = Slot._meta.db_table

SHARED_SITE_KINDS = frozenset({SiteKind.APHERESIS_UNIT.value, SiteKind.MANUFACTURING_SITE.value})
"""Sites whose slots serve the whole network: any center may send cells to them."""
BOOKING_ACTIONS = {
    SlotKind.APHERESIS_CHAIR.value: Action.SCHEDULE_APHERESIS,
    SlotKind.MANUFACTURING.value: Action.BOOK_MANUFACTURING_SLOT,
}
SLOT_NOT_YOURS = "no slot {slot}: choose one of your sites' slots"


def own_sites(user: Any) -> set[int]:
    from cartflow.clinic import access

    return {site for site, _kind, _role in access.memberships(user)}


def bookable_kinds(user: Any) -> set[str]:
    """The slot kinds the user may book somewhere (for a case of their sites)."""
    from cartflow.clinic import access

    return {kind for kind, action in BOOKING_ACTIONS.items() if access.can_anywhere(user, action)}


def slots_for_user(user: Any) -> QuerySet[Slot]:
    """The slots a user sees and may book: every slot of their own sites, and the slots of
    the shared sites (apheresis units, manufacturing sites) of the kinds they may book.

    Another treatment center's slots, and a shared site's slots to someone who may not book
    them, are not theirs to see; the network's totals are (:func:`network_totals`).
    """
    shared = Q(site__kind__in=SHARED_SITE_KINDS, kind__in=bookable_kinds(user))
    return Slot.objects.filter(Q(site_id__in=own_sites(user)) | shared)


def require_slot_of_user(user: Any, slot: Slot) -> None:
    """:class:`NotFound` for a slot outside :func:`slots_for_user` (answered as absent)."""
    if user is None or not slots_for_user(user).filter(pk=slot.pk).exists():
        raise NotFound(SLOT_NOT_YOURS.format(slot=slot.public_id))


def network_totals(
    kind: str | None = None, start: date | None = None, end: date | None = None
) -> list[dict[str, Any]]:
    """Places offered and taken per kind and day across the network, no site named."""
    rows = Slot.objects.all()
    if kind:
        rows = rows.filter(kind=kind)
    if start:
        rows = rows.filter(day__gte=start)
    if end:
        rows = rows.filter(day__lte=end)
    totals = (
        rows.values("kind", "day")
        .annotate(
            capacity=Sum("capacity"), booked=Sum("booked"), sites=Count("site", distinct=True)
        )
        .order_by("day", "kind")
    )
    return [dict(row) for row in totals]


def open_slot(
    site: Site,
    kind: str,
    day: date,
    capacity: int,
    *,
    acting_user: User,
    request_meta: RequestMeta = NO_REQUEST,
) -> Slot:
    """Offer ``capacity`` places of ``kind`` at ``site`` on ``day``."""
    if kind not in SlotKind.values:
        raise InvalidInput(f"kind: one of {', '.join(SlotKind.values)}")
    if capacity < 1 or capacity > 1000:
        raise InvalidInput("capacity: a whole number from 1 to 1000")
    with transaction.atomic():
        slot = Slot.objects.create(site=site, kind=kind, day=day, capacity=capacity)
        write_audit(
            "open_slot",
            acting_user=acting_user,
            request_meta=request_meta,
            summary={
                "slot": str(slot.public_id),
                "site": site.slug,
                "kind": kind,
                "day": day.isoformat(),
                "capacity": capacity,
            },
        )
    return slot


def take_place(slot: Slot, case: TherapyCase, event_hash: str, now: Any) -> None:
    """Take one place of ``slot`` for ``case``; :class:`Conflict` when none is left.

    One conditional UPDATE: it locks the slot's row (PostgreSQL) or runs under the write lock
    (SQLite), and changes nothing when the slot is full, so of two users taking the last place
    exactly one gets a row back.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {SLOT} SET booked = booked + 1 WHERE id = %s AND booked < capacity",
            [slot.pk],
        )
        taken = cursor.rowcount == 1
    if not taken:
        raise Conflict(
            f"the {slot.kind.replace('_', ' ')} slot at {slot.site.slug} on {slot.day} is fully "
            f"booked ({slot.capacity} of {slot.capacity}): choose another day"
        )
    SlotBooking.objects.create(slot=slot, case=case, booked_at=now, event_hash=event_hash)


def book_slot(
    case: TherapyCase | str,
    slot: Slot,
    command: Any,
    *,
    acting_user: User,
    request_meta: RequestMeta = NO_REQUEST,
    expected_version: int | None = None,
    machine: CaseMachine | None = None,
) -> AppendResult:
    """Record ``command`` (the journey's booking event) and take a place of ``slot``, at once."""

    def then(result: AppendResult) -> None:
        take_place(slot, result.case, result.head, result.now)

    return append(
        AppendRequest(
            case=case,
            command=command,
            acting_user=acting_user,
            request_meta=request_meta,
            expected_version=expected_version,
            machine=machine,
            then=then,
            summary={"slot": str(slot.public_id)},
        )
    )
