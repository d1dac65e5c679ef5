"""The request and response schemas of the API's routes for shipping, temperatures and receipt."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from cartflow.clinic.api.schemas.common import StepIn
from cartflow.clinic.api.schemas.fields import PRINTABLE, Scan, ShortText, Text

BagId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=PRINTABLE)
]

Celsius = Annotated[float, Field(ge=-273.15, le=100, allow_inf_nan=False)]


class ShipmentIn(StepIn):
    scanned_coi: Scan
    scanned_bag_ids: list[BagId] = Field(min_length=1, max_length=10)
    courier: ShortText = Field(description="the courier site's slug, who takes the shipper")


class TemperatureIn(StepIn):
    celsius: Celsius
    location: ShortText = Field(description="where: shipper, LN2 tank 2, ...")


class ReceiptIn(StepIn):
    scanned_coi: Scan
    scanned_bag_ids: list[BagId] = Field(min_length=1, max_length=10)
    celsius: Celsius
    storage_location: Text
