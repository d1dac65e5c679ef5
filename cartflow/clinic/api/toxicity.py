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

from cartflow.clinic.api.auth import access_to
from cartflow.clinic.api.common import record
from cartflow.clinic.api.schemas.common import StepOut
from cartflow.clinic.api.schemas.fields import CoiPath
from cartflow.clinic.api.schemas.toxicity import CrsIn, IcansIn
from cartflow.clinic.services import toxicity
from cartflow.domain.roles import Action

router = Router(tags=["toxicity"])


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
