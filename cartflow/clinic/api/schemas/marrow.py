"""The request schema of the API's route for bone-marrow blast counts."""

from __future__ import annotations

from pydantic import Field

from cartflow.clinic.api.schemas.common import StepIn
from cartflow.clinic.api.schemas.fields import ClinicalTime


class MarrowBlastsIn(StepIn):
    blast_percent: float = Field(
        ge=0,
        le=100,
        allow_inf_nan=False,
        description="blasts among nucleated marrow cells, in percent (0 to 100)",
    )
    sampled_at: ClinicalTime | None = Field(
        None, description="when the marrow sample was taken, with a time zone (default: now)"
    )
