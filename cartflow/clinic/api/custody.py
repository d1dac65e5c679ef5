"""Chain of custody: hand-offs of the shipper with their scans, and its temperatures.

Each hand-off scans the chain-of-identity identifier and the bags; a scan that does not match
the case is refused (422, naming the scans) and nothing is recorded.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from cartflow.clinic.api.auth import access_to, case_of
from cartflow.clinic.api.common import event_out, events_with_signatures, record
from cartflow.clinic.api.schemas.common import EventOut, StepIn, StepOut
from cartflow.clinic.api.schemas.custody import ReceiptIn, ShipmentIn, TemperatureIn
from cartflow.clinic.api.schemas.fields import CoiPath
from cartflow.clinic.services import custody
from cartflow.domain.roles import Action

router = Router(tags=["custody"])


CUSTODY_EVENTS = (
    "product.released",
    "product.shipped",
    "product.temperature_recorded",
    "quality.quarantine_released",
    "quality.quarantine_rejected",
    "product.received",
    "product.availability_confirmed",
    "product.thawed",
    "product.infused",
    "product.expired",
    "product.disposed",
)


@router.get(
    "/cases/{coi}/custody",
    response=list[EventOut],
    auth=access_to(Action.VIEW_CASE),
    summary="The chain of custody: release, hand-offs, temperatures, receipt, thaw, infusion",
)
def custody_chain(request: HttpRequest, coi: CoiPath) -> Any:
    events = events_with_signatures(case_of(request)).filter(type__in=CUSTODY_EVENTS)
    return [event_out(e) for e in events]


@router.post(
    "/cases/{coi}/custody/shipments",
    response={201: StepOut},
    auth=access_to(Action.SHIP_PRODUCT),
    summary="Hand the shipper to the courier (scans the case and every bag)",
)
def ship(request: HttpRequest, coi: CoiPath, payload: ShipmentIn) -> Any:
    return record(
        request, custody.ship_product, payload, scanned_bag_ids=tuple(payload.scanned_bag_ids)
    )


@router.post(
    "/cases/{coi}/custody/temperatures",
    response={201: StepOut},
    auth=access_to(Action.RECORD_TEMPERATURE),
    summary="Record a temperature of the shipper or storage (an excursion quarantines)",
)
def temperature(request: HttpRequest, coi: CoiPath, payload: TemperatureIn) -> Any:
    return record(request, custody.record_temperature, payload)


@router.post(
    "/cases/{coi}/custody/receipts",
    response={201: StepOut},
    auth=access_to(Action.RECEIVE_PRODUCT),
    summary="Receive the shipper at the treatment center (scans, temperature, storage)",
)
def receive(request: HttpRequest, coi: CoiPath, payload: ReceiptIn) -> Any:
    return record(
        request, custody.receive_product, payload, scanned_bag_ids=tuple(payload.scanned_bag_ids)
    )


@router.post(
    "/cases/{coi}/custody/availability",
    response={201: StepOut},
    auth=access_to(Action.CONFIRM_PRODUCT_AVAILABILITY),
    summary="Confirm the product is available for infusion",
)
def availability(request: HttpRequest, coi: CoiPath, payload: StepIn) -> Any:
    return record(request, custody.confirm_product_availability, payload)
