"""The schemas every step route shares: what a recorded step may carry, and its answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema
from pydantic import Field

from cartflow.clinic.api.schemas.fields import ClinicalTime, Meaning, Password
from cartflow.domain.roles import Role


class StepIn(Schema):
    """What every recorded step may carry."""

    occurred_at: ClinicalTime | None = Field(
        None, description="clinical time, when it differs from the time of recording"
    )
    expected_version: int | None = Field(
        None,
        ge=0,
        le=1_000_000,
        description="the case's version you saw; 409 if it changed since",
    )


class SignedStepIn(StepIn):
    """A step that is signed: the signer enters the password again and states the meaning."""

    password: Password = Field(description="your password, entered again to sign")
    meaning: Meaning | None = Field(
        None, description="what the signature means (default: the operation's meaning)"
    )
    role: Role | None = Field(None, description="the role you sign in, when you hold several")


class SignatureOut(Schema):
    signer: str
    signed_at: datetime
    meaning: str
    method: str
    signs: str = Field(description="the hash of the event it signs")
    manifestation: str


class EventOut(Schema):
    seq: int
    type: str
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    site: str
    hash: str
    prev_hash: str
    data: dict[str, Any]
    signatures: list[SignatureOut]


class StepOut(Schema):
    coi: str
    step: str
    version: int
    head: str
    events: list[EventOut]
