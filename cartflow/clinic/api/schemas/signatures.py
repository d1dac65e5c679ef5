"""The request and response schemas of the API's routes for signatures."""

from __future__ import annotations

from typing import Annotated

from ninja import Path, Schema
from pydantic import Field

from cartflow.clinic.api.schemas.common import SignatureOut
from cartflow.clinic.api.schemas.fields import Meaning, Password

EventHash = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="the event's SHA-256")]


class SignIn(Schema):
    password: Password = Field(description="your password, entered again to sign")
    meaning: Meaning = Field(description="what the signature means, e.g. review, approval")


class VerifiedSignatureOut(SignatureOut):
    event_type: str
    event_seq: int
    valid: bool
    problem: str
