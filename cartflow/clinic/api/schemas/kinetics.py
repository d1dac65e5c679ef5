"""The request and response schemas of the API's routes for transgene measurements."""

from __future__ import annotations

from pydantic import Field

from cartflow.clinic.api.schemas.common import StepIn
from cartflow.clinic.api.schemas.fields import ClinicalTime
from cartflow.clinic.services import kinetics


class KineticsMeasurementIn(StepIn):
    day: float | None = Field(
        None,
        ge=0,
        le=kinetics.MAX_DAY,
        allow_inf_nan=False,
        description="days after the first infusion (or give taken_at)",
    )
    taken_at: ClinicalTime | None = Field(
        None, description="when the sample was taken, with a time zone (or give day)"
    )
    copies_per_ug: float | None = Field(
        None,
        ge=0,
        le=kinetics.MAX_COPIES_PER_UG,
        allow_inf_nan=False,
        description="transgene copies per microgram of genomic DNA; empty or below lloq: censored",
    )
    lloq: float | None = Field(
        None,
        gt=0,
        le=kinetics.MAX_LLOQ,
        allow_inf_nan=False,
        description="the assay's lower limit of quantification (copies/ug)",
    )
