"""Request and response schemas of the site register's routes (api/register.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from ninja import Schema
from pydantic import Field

from cartflow.clinic.api.schemas.fields import Day, Password
from cartflow.domain.catalog import FactName


class RegisterEntryIn(Schema):
    indication: str = Field(
        max_length=100, description="the indication id, e.g. inaticabtagene-autoleucel/b-all"
    )
    fact: FactName = Field(description="the fact the catalog does not know")
    value: Any = Field(
        description="the site's value, in the shape docs/catalog.md gives for the fact "
        "(a number, [min, max], a dose rule, a list of regimens, a renal schedule)"
    )
    document_ref: str = Field(
        min_length=1, max_length=200, description="the site's protocol document it comes from"
    )
    effective_from: Day = Field(description="the first day the value is in force")
    effective_to: Day | None = Field(
        None, description="the day it stops being in force (exclusive); open when absent"
    )
    password: Password = Field(description="your password, entered again to sign")


class RegisterEntryOut(Schema):
    site: str
    seq: int
    indication: str
    fact: str
    document_ref: str
    effective_from: date
    effective_to: date | None
    signer: str
    role: str
    meaning: str
    hash: str
