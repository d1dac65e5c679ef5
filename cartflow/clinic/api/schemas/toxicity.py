"""The request and response schemas of the API's routes for CRS and ICANS grades."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from cartflow.clinic.api.schemas.common import StepIn
from cartflow.domain.grading import (
    CAPD_MAX,
    ICE_MAX,
    MAX_AGE_YEARS,
    MAX_BODY_TEMPERATURE_C,
    MIN_BODY_TEMPERATURE_C,
    Consciousness,
    Edema,
    Hypotension,
    Motor,
    Oxygen,
    Seizure,
)


class CrsIn(StepIn):
    """What was observed for a CRS grade; unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    temperature_c: float = Field(
        ge=MIN_BODY_TEMPERATURE_C,
        le=MAX_BODY_TEMPERATURE_C,
        allow_inf_nan=False,
        description="the highest body temperature (°C)",
    )
    hypotension: Hypotension = Field(description="hypotension and its treatment")
    oxygen: Oxygen = Field(description="oxygen support")
    fever_masked: bool = Field(
        False, description="fever masked by antipyretics, tocilizumab or steroids"
    )


class IcansIn(StepIn):
    """What was observed for an ICANS grade; unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    consciousness: Consciousness = Field(description="the level of consciousness")
    ice: int | None = Field(None, ge=0, le=ICE_MAX, description="ICE score, from age 12")
    capd: int | None = Field(
        None, ge=0, le=CAPD_MAX, description="CAPD score, under 12 or with developmental delay"
    )
    age_years: float | None = Field(
        None, ge=0, le=MAX_AGE_YEARS, allow_inf_nan=False, description="age in years"
    )
    developmental_delay: bool = False
    seizure: Seizure = Seizure.NONE
    motor: Motor = Motor.NONE
    edema: Edema = Field(Edema.NONE, description="raised intracranial pressure / cerebral oedema")
