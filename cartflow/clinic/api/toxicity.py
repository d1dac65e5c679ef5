"""CRS and ICANS grading after the infusion (ASTCT 2019), by a physician of the case.

The route takes what was observed; the grade is computed by the domain
(:func:`cartflow.domain.grading.grade_crs`, :func:`~cartflow.domain.grading.grade_icans`) and
recorded by :mod:`cartflow.clinic.services.toxicity` as ``toxicity.crs_graded`` or
``toxicity.icans_graded`` on the case's chain. The same schemas validate the case page's forms.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router
from pydantic import ConfigDict, Field

from cartflow.clinic.api.auth import access_to
from cartflow.clinic.api.common import CoiPath, StepIn, StepOut, record
from cartflow.clinic.services import toxicity
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
from cartflow.domain.roles import Action

router = Router(tags=["toxicity"])


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


def crs_arguments(payload: Any) -> dict[str, Any]:
    """The choices as the service takes them (their values)."""
    return {"hypotension": str(payload.hypotension), "oxygen": str(payload.oxygen)}


def icans_arguments(payload: Any) -> dict[str, Any]:
    return {
        name: str(getattr(payload, name)) for name in ("consciousness", "seizure", "motor", "edema")
    }


@router.post(
    "/cases/{coi}/toxicity/crs",
    response={201: StepOut},
    auth=access_to(Action.GRADE_TOXICITY),
    summary="Grade cytokine release syndrome (ASTCT 2019) after the infusion",
)
def grade_crs(request: HttpRequest, coi: CoiPath, payload: CrsIn) -> Any:
    return record(request, toxicity.record_crs_grade, payload, **crs_arguments(payload))


@router.post(
    "/cases/{coi}/toxicity/icans",
    response={201: StepOut},
    auth=access_to(Action.GRADE_TOXICITY),
    summary="Grade immune effector cell-associated neurotoxicity (ASTCT 2019) after the infusion",
)
def grade_icans(request: HttpRequest, coi: CoiPath, payload: IcansIn) -> Any:
    return record(request, toxicity.record_icans_grade, payload, **icans_arguments(payload))
