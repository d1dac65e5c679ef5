"""The request and response schemas of the API's routes for referrals and the case lists."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from ninja import Schema
from pydantic import Field

from cartflow.clinic.api.schemas.common import SignatureOut
from cartflow.clinic.api.schemas.fields import ClinicalTime, ShortText


class ReferralIn(Schema):
    product_id: ShortText = Field(description="the catalog's product id, e.g. tisagenlecleucel")
    indication_id: ShortText = Field(
        description="the catalog's indication, e.g. tisagenlecleucel/lbcl"
    )
    occurred_at: ClinicalTime | None = None


class PatientRef(Schema):
    id: uuid.UUID
    record_number: str
    given_name: str
    family_name: str
    birth_date: date


class CaseSummary(Schema):
    coi: str
    product: str
    site: str
    step: str
    version: int
    active: bool
    waiting_for: str
    updated_at: datetime
    patient: PatientRef | None = Field(
        description="who the patient is; null for a site that knows the case by identifier only"
    )


class CaseOut(CaseSummary):
    head: str
    participants: list[str]
    next_actions: list[str]
    state: dict[str, Any]
    signatures: list[SignatureOut]


class CaseFilter(Schema):
    step: ShortText | None = None
    active: bool | None = None
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000)
