"""Toxicity grading after the infusion: CRS by ASTCT 2019, recorded on the case's chain.

The journey has no grading command yet, so the grade is a ``toxicity.crs_graded`` event the
store writes beside the journey (one transaction, one audit row), computed by the domain's
:func:`cartflow.domain.grading.grade_crs` from what was observed.
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
from cartflow.domain.grading import grade_crs

CRS_GRADED = "toxicity.crs_graded"


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
    case = resolve_case(case)
    grade = grade_crs(temperature_c, hypotension, oxygen, fever_masked=fever_masked)

    def graded(state: Any, now: datetime) -> Sequence[Event]:
        if not getattr(state, "infusions", ()):
            raise InvalidInput("CRS is graded after the infusion; this case has none recorded")
        at = occurred_at or now
        if at > now:
            raise InvalidInput("occurred_at: a clinical time cannot lie in the future")
        return [
            Event(
                type=CRS_GRADED,
                occurred_at=at,
                actor=acting_user.get_username(),
                data={
                    "observed": {
                        "temperature_c": float(temperature_c),
                        "hypotension": str(hypotension),
                        "oxygen": str(oxygen),
                        "fever_masked": bool(fever_masked),
                    },
                    **grade.to_dict(),
                },
            )
        ]

    return append(
        case,
        None,
        acting_user=acting_user,
        request_meta=request_meta,
        operation="record_crs_grade",
        expected_version=expected_version,
        extra_events=graded,
        summary={"crs_grade": grade.grade},
        now=timezone.now(),
    )
