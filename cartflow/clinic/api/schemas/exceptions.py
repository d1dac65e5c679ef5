"""The request and response schemas of the exception routes: quality decisions, omissions
and site protocol values."""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import Field

from cartflow.clinic.api.schemas.common import SignedStepIn
from cartflow.clinic.api.schemas.fields import ClinicalTime, Day, ShortText, Text
from cartflow.domain.catalog import FactName


class OutOfSpecificationDecisionIn(SignedStepIn):
    accept: bool = Field(description="accept the product under a signed exception, or reject it")
    reason: Text


class QuarantineDecisionIn(SignedStepIn):
    release: bool = Field(description="release the quarantined product, or reject it")
    reason: Text


class OmissionIn(SignedStepIn):
    wbc_per_l: float = Field(ge=0, le=1e12, allow_inf_nan=False)
    wbc_measured_at: ClinicalTime
    reason: Text


class FludarabineIn(SignedStepIn):
    creatinine_clearance_ml_min: float = Field(ge=0, le=500, allow_inf_nan=False)
    reduction_percent: float = Field(gt=0, lt=100, allow_inf_nan=False)
    reason: Text


class SiteProtocolValueIn(SignedStepIn):
    fact: FactName
    value: float | bool | ShortText = Field(description="the site's value for the fact")
    document_ref: ShortText = Field(description="the site's protocol document it comes from")
    effective_on: Day


class ExceptionsOut(Schema):
    exceptions: list[dict[str, Any]]
    quality_decisions: list[dict[str, Any]]
