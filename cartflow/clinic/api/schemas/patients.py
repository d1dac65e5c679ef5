"""The request and response schemas of the API's routes for patients and their antigen tests."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from ninja import Schema
from pydantic import Field

from cartflow.clinic.api.schemas.fields import BirthDate, ShortText, bounded_text

Name = bounded_text(100)


class PatientIn(Schema):
    record_number: ShortText = Field(description="the hospital's own record number")
    given_name: Name
    family_name: Name
    birth_date: BirthDate
    sex: Literal["", "female", "male", "other", "unknown"] = ""


class PatientOut(Schema):
    id: uuid.UUID
    site: str
    record_number: str
    given_name: str
    family_name: str
    birth_date: date
    sex: str
    cases: list[str]


class AntigenTestOut(Schema):
    antigen: str
    result: str
    method: str
    tested_on: date


class PatientFilter(Schema):
    site: ShortText | None = None
    record_number: ShortText | None = None
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000)
