"""A small stand-in for the journey, so the store is tested on its own.

A case takes notes until it is closed; a closed case refuses more notes, the way a journey
guard refuses a step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cartflow.domain.errors import DomainError
from cartflow.domain.events import Event


class ToyRefusal(DomainError):
    pass


@dataclass(frozen=True)
class AddNote:
    text: str
    count: int = 1


@dataclass(frozen=True)
class CloseCase:
    reason: str = "completed"


@dataclass(frozen=True)
class BookSlot:
    slot: str


class ToyMachine:
    def start(self, coi: str) -> dict[str, Any]:
        return {"coi": coi, "step": "open", "notes": 0, "closed": False, "slots": []}

    def decide(self, state: Any, command: Any, now: datetime) -> Sequence[Event]:
        if state["closed"]:
            raise ToyRefusal(f"the case is closed: {type(command).__name__} is not accepted")
        if isinstance(command, AddNote):
            if not command.text.strip():
                raise ToyRefusal("text: a note needs some text")
            return [
                Event("note.added", now, "", {"text": command.text, "n": i})
                for i in range(command.count)
            ]
        if isinstance(command, CloseCase):
            return [Event("case.closed", now, "", {"reason": command.reason})]
        if isinstance(command, BookSlot):
            return [Event("slot.booked", now, "", {"slot": command.slot})]
        raise ToyRefusal(f"unknown command {command!r}")

    def apply(self, state: Any, event: Event) -> Any:
        state = dict(state)
        if event.type == "note.added":
            state["notes"] += 1
            state["step"] = "noted"
        elif event.type == "case.closed":
            state["closed"] = True
            state["step"] = "closed"
        elif event.type == "slot.booked":
            state["slots"] = [*state["slots"], event.data["slot"]]
        return state

    def dump(self, state: Any) -> dict[str, Any]:
        return dict(state)

    def load(self, data: Mapping[str, Any]) -> Any:
        return dict(data)

    def step(self, state: Any) -> str:
        return str(state["step"])

    def active(self, state: Any) -> bool:
        return not state["closed"]


TOY = ToyMachine()
