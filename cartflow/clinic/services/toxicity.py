"""Toxicity grading after the infusion: CRS and ICANS by ASTCT 2019, on the case's chain.

A grade is the journey's ``GradeCrs`` or ``GradeIcans`` command: the domain grades what was
observed (:mod:`cartflow.domain.grading`), refuses a grade before the infusion or the same
grade sent twice within a minute (409, naming the first), and folds it into the case state.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User

from cartflow.clinic.models import TherapyCase
from cartflow.clinic.services.append import AppendResult
from cartflow.clinic.services.context import NO_REQUEST, RequestMeta
from cartflow.clinic.services.observations import record_observation
from cartflow.domain.journey import GradeCrs, GradeIcans
from cartflow.domain.journey import event_types as T

CRS_GRADED = T.CRS_GRADED
ICANS_GRADED = T.ICANS_GRADED


def record_crs_grade(
    case: TherapyCase | str,
    *,
    temperature_c: float,
    hypotension: str,
    oxygen: str,
    fever_masked: bool = False,
    occurred_at: datetime | None = None,
    acting_user: User,
    request_meta: RequestMeta = NO_REQUEST,
    expected_version: int | None = None,
) -> AppendResult:
    """Grade CRS from the observations and record the grade; only after an infusion."""
    command = GradeCrs(
        actor=acting_user.get_username(),
        occurred_at=occurred_at,
        temperature_c=temperature_c,
        hypotension=hypotension,
        oxygen=oxygen,
        fever_masked=fever_masked,
    )
    return record_observation(
        case,
        command,
        acting_user=acting_user,
        request_meta=request_meta,
        expected_version=expected_version,
        operation="record_crs_grade",
    )


def record_icans_grade(
    case: TherapyCase | str,
    *,
    consciousness: str,
    ice: int | None = None,
    capd: int | None = None,
    age_years: float | None = None,
    developmental_delay: bool = False,
    seizure: str = "none",
    motor: str = "none",
    edema: str = "none",
    occurred_at: datetime | None = None,
    acting_user: User,
    request_meta: RequestMeta = NO_REQUEST,
    expected_version: int | None = None,
) -> AppendResult:
    """Grade ICANS from the observations and record the grade; only after an infusion.

    ICE is the score from age 12, CAPD under 12 or with developmental delay (the domain
    refuses the other score, and a missing one unless the patient is unarousable).
    """
    command = GradeIcans(
        actor=acting_user.get_username(),
        occurred_at=occurred_at,
        consciousness=consciousness,
        ice=ice,
        capd=capd,
        age_years=age_years,
        developmental_delay=developmental_delay,
        seizure=seizure,
        motor=motor,
        edema=edema,
    )
    return record_observation(
        case,
        command,
        acting_user=acting_user,
        request_meta=request_meta,
        expected_version=expected_version,
        operation="record_icans_grade",
    )
