"""Toxicity grading after the infusion: CRS and ICANS by ASTCT 2019, on the case's chain.

The journey has no grading command yet, so a grade is a ``toxicity.crs_graded`` or
``toxicity.icans_graded`` event the store writes beside the journey (one transaction, one
audit row), computed by the domain's :func:`cartflow.domain.grading.grade_crs` or
:func:`~cartflow.domain.grading.grade_icans` from what was observed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.utils import timezone

from cartflow.clinic.models import TherapyCase
from cartflow.clinic.services.append import AppendResult, append, resolve_case
from cartflow.clinic.services.context import NO_REQUEST, RequestMeta
from cartflow.domain.errors import InvalidInput
from cartflow.domain.events import Event
from cartflow.domain.grading import grade_crs, grade_icans

CRS_GRADED = "toxicity.crs_graded"
ICANS_GRADED = "toxicity.icans_graded"


def record_crs_grade(
    case: TherapyCase | str,
    *,
    temperature_c: float,
    hypotension: str,
    oxygen: str,
    fever_masked: bool = False,
    occurred_at: datetime | None = None,
    acting_user: Any,
    request_meta: RequestMeta = NO_REQUEST,
    expected_version: int | None = None,
) -> AppendResult:
    """Grade CRS from the observations and record the grade; only after an infusion."""
    grade = grade_crs(temperature_c, hypotension, oxygen, fever_masked=fever_masked)
    observed = {
        "temperature_c": float(temperature_c),
        "hypotension": str(hypotension),
        "oxygen": str(oxygen),
        "fever_masked": bool(fever_masked),
    }
    return _record_grade(
        case,
        CRS_GRADED,
        "CRS",
        observed,
        grade.to_dict(),
        occurred_at=occurred_at,
        acting_user=acting_user,
        request_meta=request_meta,
        expected_version=expected_version,
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
    acting_user: Any,
    request_meta: RequestMeta = NO_REQUEST,
    expected_version: int | None = None,
) -> AppendResult:
    """Grade ICANS from the observations and record the grade; only after an infusion.

    ICE is the score from age 12, CAPD under 12 or with developmental delay (the domain
    refuses the other score, and a missing one unless the patient is unarousable).
    """
    grade = grade_icans(
        consciousness=consciousness,
        seizure=seizure,
        motor=motor,
        edema=edema,
        ice=ice,
        capd=capd,
        age_years=age_years,
        developmental_delay=developmental_delay,
    )
    observed = {
        "consciousness": str(consciousness),
        "ice": ice,
        "capd": capd,
        "age_years": None if age_years is None else float(age_years),
        "developmental_delay": bool(developmental_delay),
        "seizure": str(seizure),
        "motor": str(motor),
        "edema": str(edema),
    }
    return _record_grade(
        case,
        ICANS_GRADED,
        "ICANS",
        observed,
        grade.to_dict(),
        occurred_at=occurred_at,
        acting_user=acting_user,
        request_meta=request_meta,
        expected_version=expected_version,
    )


def _record_grade(
    case: TherapyCase | str,
    event_type: str,
    syndrome: str,
    observed: dict[str, Any],
    grade: dict[str, Any],
    *,
    occurred_at: datetime | None,
    acting_user: Any,
    request_meta: RequestMeta,
    expected_version: int | None,
) -> AppendResult:
    """Record a grade as an event of the case's chain, refused before the first infusion."""
    case = resolve_case(case)

    def graded(state: Any, now: datetime) -> Sequence[Event]:
        if not getattr(state, "infusions", ()):
            raise InvalidInput(
                f"{syndrome} is graded after the infusion; this case has none recorded"
            )
        at = occurred_at or now
        if at > now:
            raise InvalidInput("occurred_at: a clinical time cannot lie in the future")
        return [
            Event(
                type=event_type,
                occurred_at=at,
                actor=acting_user.get_username(),
                data={"observed": observed, **grade},
            )
        ]

    return append(
        case,
        None,
        acting_user=acting_user,
        request_meta=request_meta,
        operation=f"record_{syndrome.lower()}_grade",
        expected_version=expected_version,
        extra_events=graded,
        summary={f"{syndrome.lower()}_grade": grade["grade"]},
        now=timezone.now(),
    )
