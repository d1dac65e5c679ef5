"""The request and response schemas of the API's routes for capacity slots and bookings."""

from __future__ import annotations

import uuid
from datetime import date

from ninja import Schema
from pydantic import Field

from cartflow.clinic.api.schemas.common import StepIn
from cartflow.clinic.api.schemas.fields import Day, ShortText
from cartflow.clinic.models import SlotKind


class SlotIn(Schema):
    kind: SlotKind
    day: Day
    capacity: int = Field(ge=1, le=1000)


class SlotOut(Schema):
    id: uuid.UUID
    site: str
    kind: str
    day: date
    capacity: int
    booked: int


class SlotFilter(Schema):
    site: ShortText | None = None
    kind: SlotKind | None = None
    start: Day | None = Field(None, description="first day (inclusive)")
    end: Day | None = Field(None, description="last day (inclusive)")
    limit: int = Field(200, ge=1, le=1000)


class BookingIn(StepIn):
    slot_id: uuid.UUID


class SlotTotalOut(Schema):
    kind: str
    day: date
    capacity: int
    booked: int
    sites: int


class TotalsFilter(Schema):
    kind: SlotKind | None = None
    start: Day | None = Field(None, description="first day (inclusive)")
    end: Day | None = Field(None, description="last day (inclusive)")
