"""The request and response schemas of the API's routes for labels, outcomes and exports."""

from __future__ import annotations

from typing import Annotated

from ninja import Schema
from pydantic import Field, StringConstraints

from cartflow.clinic.api.schemas.common import StepIn
from cartflow.clinic.api.schemas.fields import PRINTABLE, Day, Text
from cartflow.domain.journey.labels import MAX_LABELS
from cartflow.domain.journey.outcomes import Method, Response, Syndrome, Treatment
from cartflow.domain.journey.records import LabelKind

LabelId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20, pattern=PRINTABLE)
]


class PrintIn(StepIn):
    kind: LabelKind
    count: int = Field(1, ge=1, le=MAX_LABELS, description="a product's bag labels, 1 to N")


class ReprintIn(StepIn):
    label_id: LabelId
    reason: Text


class LabelsIn(StepIn):
    label_ids: list[LabelId] = Field(min_length=1, max_length=MAX_LABELS)


class VoidIn(LabelsIn):
    reason: Text


class ResponseIn(StepIn):
    response: Response
    method: Method
    assessed_on: Day


class ResolutionIn(StepIn):
    syndrome: Syndrome
    treatments: list[Treatment] = Field(default_factory=list, max_length=10)


class Period(Schema):
    start: Day | None = Field(None, description="first infusion on or after this date")
    end: Day | None = Field(None, description="first infusion on or before this date")
