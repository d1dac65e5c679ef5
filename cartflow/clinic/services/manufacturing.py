"""T-cell engineering: the manufacturing slot, the order, release or out of specification."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Unpack

from django.contrib.auth.models import User

from cartflow.clinic.models import ProductBag, Slot, SlotKind, TherapyCase
from cartflow.clinic.services.append import AppendResult, resolve_case
from cartflow.clinic.services.cases import add_participant
from cartflow.clinic.services.context import NO_REQUEST, RequestMeta
from cartflow.clinic.services.operations import Recording, perform, user_site
from cartflow.clinic.services.slots import require_slot_of_user, take_place
from cartflow.domain import journey
from cartflow.domain.errors import InvalidInput
from cartflow.domain.journey import BagSpec
from cartflow.domain.roles import SiteKind


def book_manufacturing_slot(
    case: TherapyCase | str,
    slot: Slot,
    *,
    acting_user: User,
    request_meta: RequestMeta = NO_REQUEST,
    expected_version: int | None = None,
    occurred_at: Any = None,
    now: Any = None,
) -> AppendResult:
    """Take a place of a manufacturing slot for the case; :class:`Conflict` when it is full.

    The booking is the journey's ``BookManufacturingSlot`` (its day checked against the
    collection and the day it is booked) and a place taken by one conditional UPDATE, in one
    transaction.
    """
    if slot.kind != SlotKind.MANUFACTURING:
        raise InvalidInput("slot: a manufacturing slot is needed")
    require_slot_of_user(acting_user, slot)

    def then(result: AppendResult, command: Any, user: User) -> None:
        take_place(slot, result.case, result.head, result.now)
        add_participant(result.case, slot.site, result.now)

    return perform(
        case,
        journey.BookManufacturingSlot,
        acting_user=acting_user,
        request_meta=request_meta,
        expected_version=expected_version,
        now=now,
        occurred_at=occurred_at,
        side_rows=then,
        slot_id=str(slot.public_id),
        site=slot.site.slug,
        day=slot.day,
    )


def _manufacturer_joins(result: AppendResult, command: Any, user: User) -> None:
    site = user_site(user, SiteKind.MANUFACTURING_SITE, result.case.treating_site)
    add_participant(result.case, site, result.now)


def _bag_rows(result: AppendResult, command: Any, user: User) -> None:
    site = user_site(user, SiteKind.MANUFACTURING_SITE, result.case.treating_site)
    event_hash = next(e.hash for e in result.events if e.type != "signature.applied")
    for bag in command.bags:
        ProductBag.objects.create(
            case=result.case,
            manufacturer_bag_id=bag.bag_id,
            lot=bag.lot,
            manufacturer=site,
            event_hash=event_hash,
        )


def start_manufacturing(
    case: TherapyCase | str, *, acting_user: User, **fields: Any
) -> AppendResult:
    """The manufacturing site accepts the order (``StartManufacturing``); the treating site's
    weight tolerance goes into the command, so the domain judges the order's weight by it."""
    case = resolve_case(case)
    fields["weight_tolerance_percent"] = float(case.treating_site.weight_tolerance_percent)
    return perform(
        case,
        journey.StartManufacturing,
        acting_user=acting_user,
        side_rows=_manufacturer_joins,
        **fields,
    )


def release_product(
    case: TherapyCase | str,
    *,
    acting_user: User,
    dose_cells: float,
    bags: tuple[BagSpec, ...],
    occurred_at: datetime | None = None,
    **recording: Unpack[Recording],
) -> AppendResult:
    """Release within specification: ``dose_cells`` is the total CAR+ viable T cells."""
    return perform(
        case,
        journey.ReleaseProduct,
        acting_user=acting_user,
        side_rows=_bag_rows,
        occurred_at=occurred_at,
        dose_cells=dose_cells,
        bags=bags,
        **recording,
    )


def record_out_of_specification(
    case: TherapyCase | str,
    *,
    acting_user: User,
    dose_cells: float,
    bags: tuple[BagSpec, ...],
    reason: str,
    occurred_at: datetime | None = None,
    **recording: Unpack[Recording],
) -> AppendResult:
    """A signed out-of-specification result, with its reason; quality decides on it."""
    return perform(
        case,
        journey.RecordOutOfSpecification,
        acting_user=acting_user,
        side_rows=_bag_rows,
        occurred_at=occurred_at,
        dose_cells=dose_cells,
        bags=bags,
        reason=reason,
        **recording,
    )


def decide_out_of_specification(
    case: TherapyCase | str,
    *,
    acting_user: User,
    accept: bool,
    reason: str,
    occurred_at: datetime | None = None,
    **recording: Unpack[Recording],
) -> AppendResult:
    """Quality accepts the product under a signed exception (``accept``) or rejects it."""
    return perform(
        case,
        journey.DecideOutOfSpecification,
        acting_user=acting_user,
        occurred_at=occurred_at,
        accept=accept,
        reason=reason,
        **recording,
    )
