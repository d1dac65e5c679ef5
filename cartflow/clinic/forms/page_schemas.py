"""The input schemas of the operations only the pages offer (the API validates its own)."""

from __future__ import annotations

import uuid

from pydantic import Field as PydanticField

from cartflow.clinic.api.schemas import steps as steps_schemas
from cartflow.clinic.api.schemas.common import SignedStepIn, StepIn


class ApheresisPageIn(steps_schemas.ApheresisIn):
    unit: str | None = None


class EligibilityFormIn(SignedStepIn):
    """The facts the case page asks for; the rest come from the record."""

    diagnosis: str = PydanticField(min_length=1, max_length=16)
    disease_status: str = PydanticField(min_length=1, max_length=64)
    prior_lines: int | None = PydanticField(None, ge=0, le=30)


ELIGIBILITY_FORM_FACTS = ("diagnosis", "disease_status", "prior_lines")


class ManufacturingSlotIn(StepIn):
    slot_id: uuid.UUID
