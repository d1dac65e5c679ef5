"""Cryogenic transport: shipping, temperatures, quarantine, receipt at the treatment center."""

from __future__ import annotations

from typing import Any

from cartflow.clinic.models import Site
from cartflow.clinic.services.append import AppendResult
from cartflow.clinic.services.cases import add_participant
from cartflow.clinic.services.operations import operation
from cartflow.domain import journey


def _courier_joins(result: AppendResult, command: Any, user: Any) -> None:
    courier = Site.objects.filter(slug=command.courier).first()
    if courier is not None:
        add_participant(result.case, courier, result.now)


ship_product = operation(journey.ShipProduct, _courier_joins)
record_temperature = operation(journey.RecordTemperature)
decide_quarantine = operation(journey.DecideQuarantine)
receive_product = operation(journey.ReceiveProduct)
confirm_product_availability = operation(journey.ConfirmProductAvailability)
