"""Cryogenic transport: shipping, temperatures, quarantine, receipt at the treatment center."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Unpack

from django.contrib.auth.models import User

from cartflow.clinic.models import Site, TherapyCase
from cartflow.clinic.services.append import AppendResult
from cartflow.clinic.services.cases import add_participant
from cartflow.clinic.services.operations import Recording, perform
from cartflow.domain import journey


def _courier_joins(result: AppendResult, command: Any, user: User) -> None:
    courier = Site.objects.filter(slug=command.courier).first()
    if courier is not None:
        add_participant(result.case, courier, result.now)


def ship_product(
    case: TherapyCase | str,
    *,
    acting_user: User,
    scanned_coi: str,
    scanned_bag_ids: tuple[str, ...],
    courier: str,
    occurred_at: datetime | None = None,
    **recording: Unpack[Recording],
) -> AppendResult:
    """Hand the shipper to the courier, the case and every bag scanned; the courier joins."""
    return perform(
        case,
        journey.ShipProduct,
        acting_user=acting_user,
        side_rows=_courier_joins,
        occurred_at=occurred_at,
        scanned_coi=scanned_coi,
        scanned_bag_ids=scanned_bag_ids,
        courier=courier,
        **recording,
    )


def record_temperature(
    case: TherapyCase | str,
    *,
    acting_user: User,
    celsius: float,
    location: str,
    occurred_at: datetime | None = None,
    **recording: Unpack[Recording],
) -> AppendResult:
    """A temperature reading of the shipper or the storage; above the label's storage limit
    it quarantines the product until a quality decision."""
    return perform(
        case,
        journey.RecordTemperature,
        acting_user=acting_user,
        occurred_at=occurred_at,
        celsius=celsius,
        location=location,
        **recording,
    )


def decide_quarantine(
    case: TherapyCase | str,
    *,
    acting_user: User,
    release: bool,
    reason: str,
    occurred_at: datetime | None = None,
    **recording: Unpack[Recording],
) -> AppendResult:
    """Quality releases the quarantined product (``release``) or rejects it."""
    return perform(
        case,
        journey.DecideQuarantine,
        acting_user=acting_user,
        occurred_at=occurred_at,
        release=release,
        reason=reason,
        **recording,
    )


def receive_product(
    case: TherapyCase | str,
    *,
    acting_user: User,
    scanned_coi: str,
    scanned_bag_ids: tuple[str, ...],
    celsius: float,
    storage_location: str,
    occurred_at: datetime | None = None,
    **recording: Unpack[Recording],
) -> AppendResult:
    """Receive the shipper at the treatment center: scans, temperature and storage place."""
    return perform(
        case,
        journey.ReceiveProduct,
        acting_user=acting_user,
        occurred_at=occurred_at,
        scanned_coi=scanned_coi,
        scanned_bag_ids=scanned_bag_ids,
        celsius=celsius,
        storage_location=storage_location,
        **recording,
    )


def confirm_product_availability(
    case: TherapyCase | str,
    *,
    acting_user: User,
    occurred_at: datetime | None = None,
    **recording: Unpack[Recording],
) -> AppendResult:
    """Confirm the received product available for infusion."""
    return perform(
        case,
        journey.ConfirmProductAvailability,
        acting_user=acting_user,
        occurred_at=occurred_at,
        **recording,
    )
