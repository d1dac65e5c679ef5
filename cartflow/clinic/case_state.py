"""The typed state of a case, read back from its stored projection.

Pages and reads ask :class:`~cartflow.domain.journey.CaseState` its questions (``waiting_for``,
``collection``, ``first_infusion_at``) rather than poking at the stored JSON: a renamed field
then fails the type check instead of showing an empty cell.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cartflow.clinic.services.machine import journey_machine
from cartflow.domain.journey import CaseState


def state_from(data: Mapping[str, Any]) -> CaseState:
    state: CaseState = journey_machine().load(data)
    return state


def case_state(case: Any) -> CaseState:
    """The state of ``case`` (a ``TherapyCase`` or its ``CaseProjection``), loaded once per
    object and version: a page asks it many questions."""
    projection = getattr(case, "projection", case)
    cached = getattr(projection, "_cartflow_state", None)
    if cached is not None and cached[0] == projection.version:
        return cached[1]  # type: ignore[no-any-return]
    state = state_from(projection.state)
    projection._cartflow_state = (projection.version, state)
    return state
