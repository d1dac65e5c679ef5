"""The request and response schemas of the API's routes for the step events of the six steps."""

from __future__ import annotations

import uuid
from typing import Annotated

from ninja import Schema
from pydantic import Field, StringConstraints

from cartflow.clinic.api.schemas.common import SignedStepIn, StepIn
from cartflow.clinic.api.schemas.fields import (
    PRINTABLE,
    OptionalText,
    Password,
    PlannedTime,
    Scan,
    ShortText,
    Text,
)

BagId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=PRINTABLE)
]


class ScreeningIn(StepIn):
    cleared: bool
    tests: list[ShortText] = Field(default_factory=list, max_length=20)


class ApheresisIn(StepIn):
    slot_at: PlannedTime = Field(description="when the collection is planned (with a time zone)")
    slot_id: uuid.UUID | None = Field(
        None, description="an apheresis chair slot to book with it (capacity is then managed)"
    )


class CollectionIn(StepIn):
    scanned_coi: Scan = Field(description="the case's chain-of-identity identifier, scanned")
    collection_din: Scan = Field(description="the collection's own DIN label")
    succeeded: bool = True
    reason: Text | None = Field(None, description="why the collection failed")


class WeightIn(StepIn):
    weight_kg: float = Field(gt=0.5, le=350, allow_inf_nan=False)


class BridgingIn(StepIn):
    regimen: Text


class StartManufacturingIn(StepIn):
    scanned_coi: Scan
    scanned_din: Scan = Field(description="the collection's DIN, scanned at the manufacturer")
    weight_kg: float = Field(gt=0.5, le=350, allow_inf_nan=False)
    order_ref: ShortText


class BagIn(Schema):
    bag_id: BagId
    lot: BagId
    part: int = Field(1, ge=1, le=10)
    expires_at: PlannedTime | None = Field(
        None,
        description="the lot's expiry as the release states it (certificate of analysis); "
        "printed on the product's labels",
    )


class ReleaseIn(SignedStepIn):
    dose_cells: float = Field(gt=0, le=1e12, allow_inf_nan=False, description="CAR+ viable T cells")
    bags: list[BagIn] = Field(min_length=1, max_length=10)


class OutOfSpecificationIn(ReleaseIn):
    reason: Text


class RegimenIn(StepIn):
    regimen: Text


class ThawIn(StepIn):
    scanned_coi: Scan
    scanned_bag_id: BagId


class WitnessIn(Schema):
    """The second person at the bedside, who signs the infusion with their own login."""

    username: ShortText = Field(description="the witness's user name")
    password: Password = Field(description="the witness's password, entered for this signature")


class InfuseIn(StepIn):
    scanned_wristband: Scan = Field(
        description="the patient's wristband, scanned: hospital record number or the case's "
        "chain-of-identity identifier"
    )
    identity_confirmed: bool = Field(
        description="the patient's name and birth date were confirmed with the patient"
    )
    scanned_bag_label: Scan = Field(
        description="the bag's identity label, scanned: the case's chain-of-identity "
        "identifier or its collection's DIN"
    )
    scanned_bag_id: BagId
    witness: WitnessIn


class FollowUpVisitIn(StepIn):
    note_ref: OptionalText = ""


class ReasonIn(StepIn):
    reason: Text


class SignedReasonIn(SignedStepIn):
    reason: Text


class DeviationReviewIn(SignedStepIn):
    numbers: list[Annotated[int, Field(ge=1, le=10_000)]] = Field(
        min_length=1,
        max_length=50,
        description="the deviations reviewed, by their number on the case (1 = the first)",
    )
    comment: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)
    ] = Field(description="what the reviewer found and what was done")
