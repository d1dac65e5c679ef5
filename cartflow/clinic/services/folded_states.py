"""Each case's state as this process last folded it from its verified bytes.

An append decides on the case's stored events, replayed under its lock. Folding every event
again is what made an append's cost grow with the length of its case (about 44 µs an event
on the journey): a case with a shipper logger's few hundred temperatures paid for all of
them on every write. Here the process keeps, per case, the state it folded at some version
and the hash of the event that version ends on; the next append still reads and checks every
stored event (its hash, its links, its place: the same checks, so an edited event still
refuses every write to its case), but folds only those after that version, and only when the
stored event at that version still has the remembered hash. Since each event's bytes carry
the hash of the one before, that one hash stands for the whole history the state was folded
from: a history rolled back, cut or rewritten misses, and the case is folded from its first
event as before.

The states live in this process's memory, never in the database: nobody who can edit a table
can edit them. They are bounded (least recently used go first) and shared by a worker's
threads behind a lock; a state is immutable (the journey's is a frozen dataclass), so handing
the same one to two threads is safe.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from django.db import connection

CASES_KEPT = 1024
"""How many cases' states a process keeps: a worker's busy cases, with room to spare."""


@dataclass(frozen=True)
class Folded:
    """A case's state folded from its first ``version`` events, the last of which is ``head``."""

    machine: Any
    version: int
    head: str
    state: Any


class FoldedStates:
    def __init__(self, size: int = CASES_KEPT) -> None:
        self.size = size
        self._states: OrderedDict[tuple[str, str], Folded] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, coi: str, machine: Any) -> Folded | None:
        """The state kept for ``coi`` in this database, if it was folded by ``machine``."""
        key = (_database(), coi)
        with self._lock:
            folded = self._states.get(key)
            if folded is None or folded.machine is not machine:
                return None
            self._states.move_to_end(key)
            return folded

    def put(self, coi: str, folded: Folded) -> None:
        key = (_database(), coi)
        with self._lock:
            self._states[key] = folded
            self._states.move_to_end(key)
            while len(self._states) > self.size:
                self._states.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._states.clear()


def _database() -> str:
    """Which database a state belongs to (tests and benchmarks open more than one)."""
    settings = connection.settings_dict
    return f"{connection.vendor}:{settings.get('HOST') or ''}:{settings['NAME']}"


FOLDED = FoldedStates()
