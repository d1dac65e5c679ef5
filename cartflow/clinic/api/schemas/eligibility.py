"""The request and response schemas of the eligibility routes: the patient's facts, antigen
tests and the signed eligibility."""

from __future__ import annotations

from typing import Literal

from ninja import Schema
from pydantic import Field

from cartflow.clinic.api.schemas.common import SignedStepIn, StepIn
from cartflow.clinic.api.schemas.fields import Day, ShortText, Text
from cartflow.domain.catalog import ANTIGENS, DISEASE_STATUSES, DISEASES, REGIONS, THERAPY_CLASSES
from cartflow.domain.patient_facts import (
    MAX_AGE_YEARS,
    MAX_MONTHS,
    MAX_PRIOR_LINES,
)

Antigen = Literal[ANTIGENS]  # type: ignore[valid-type]

Disease = Literal[DISEASES]  # type: ignore[valid-type]

DiseaseStatus = Literal[DISEASE_STATUSES]  # type: ignore[valid-type]

TherapyClass = Literal[THERAPY_CLASSES]  # type: ignore[valid-type]

Region = Literal[REGIONS]  # type: ignore[valid-type]


class PatientFactsIn(Schema):
    """What is known of the patient; a fact left out is *missing*, never guessed."""

    age_years: float | None = Field(None, ge=0, le=MAX_AGE_YEARS, allow_inf_nan=False)
    weight_kg: float | None = Field(None, gt=0.5, le=350, allow_inf_nan=False)
    diagnosis: Disease | None = None
    disease_status: DiseaseStatus | None = None
    relapsed_after_transplant: bool | None = None
    months_from_first_line_to_relapse: float | None = Field(
        None, ge=0, le=MAX_MONTHS, allow_inf_nan=False
    )
    prior_lines: int | None = Field(None, ge=0, le=MAX_PRIOR_LINES)
    prior_therapies: list[TherapyClass] | None = Field(None, max_length=20)
    refractory_to: list[ShortText] | None = Field(None, max_length=20)
    transplant_eligible: bool | None = None
    antigens: dict[Antigen, Literal["positive", "negative", "not_tested"]] | None = None
    region: Region | None = None


class AssessIn(Schema):
    facts: PatientFactsIn
    on: Day | None = Field(None, description="the decision date (default: today)")
    site: str | None = Field(
        None,
        max_length=64,
        description="a treatment site's slug: its signed protocol values in force on the "
        "date fill the facts the catalog does not know",
    )


class AntigenTestIn(StepIn):
    antigen: Antigen
    positive: bool
    method: ShortText | None = None


class EligibilitySignIn(SignedStepIn):
    facts: PatientFactsIn | None = Field(
        None, description="the facts judged; the judgment for the case's indication is kept"
    )


class OffLabelIn(EligibilitySignIn):
    reason: Text = Field(description="why the patient is treated outside the label's indication")
