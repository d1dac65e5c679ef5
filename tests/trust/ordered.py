"""A toy case that keeps the journey's order rule: nothing recorded before the last event."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cartflow.domain.errors import InvalidInput
from cartflow.domain.events import Event
from tests.clinic.toy import AddNote, ToyMachine


class OrderedToy(ToyMachine):
    def start(self, coi: str) -> dict[str, Any]:
        return {**super().start(coi), "last": ""}

    def decide(self, state: Any, command: Any, now: datetime) -> Sequence[Event]:
        last = state["last"]
        if isinstance(command, AddNote) and last and now < datetime.fromisoformat(last):
            raise InvalidInput("occurred_at is before the case's last recorded event")
        return super().decide(state, command, now)

    def apply(self, state: Any, event: Event) -> Any:
        return {**super().apply(state, event), "last": event.occurred_at.isoformat()}


ORDERED = OrderedToy()
