"""The patient's weight recorded on the case: the weight a manufacturing order is checked
against (:mod:`cartflow.domain.journey.weights`)."""

from __future__ import annotations

from datetime import datetime
from typing import Unpack

from django.contrib.auth.models import User

from cartflow.clinic.models import TherapyCase
from cartflow.clinic.services.append import AppendResult
from cartflow.clinic.services.operations import Recording, perform
from cartflow.domain import journey


def record_weight(
    case: TherapyCase | str,
    *,
    acting_user: User,
    weight_kg: float,
    occurred_at: datetime | None = None,
    **recording: Unpack[Recording],
) -> AppendResult:
    """A weighing of the patient. It never reclassifies the dose: release is judged by the
    weight on the manufacturing order."""
    return perform(
        case,
        journey.RecordWeight,
        acting_user=acting_user,
        occurred_at=occurred_at,
        weight_kg=weight_kg,
        **recording,
    )
