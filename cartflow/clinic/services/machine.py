"""The state machine the store folds events with: the journey, behind a small protocol.

The store needs only six things of it (start, decide, apply, dump, load, step); keeping them
behind :class:`CaseMachine` lets the store be tested on its own, and lets an old log replay
through whatever version of the journey is current.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import enum
import functools
import types
import typing
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol

from cartflow.domain.events import Event

STORE_EVENT_TYPES = frozenset({"signature.applied"})
"""Events the store itself writes into a case's chain; the journey does not fold them."""


class CaseMachine(Protocol):
    def start(self, coi: str) -> Any:
        """The state of a case before its first event."""

    def decide(self, state: Any, command: Any, now: datetime) -> Sequence[Event]:
        """The events ``command`` produces, or a domain error when a guard refuses."""

    def apply(self, state: Any, event: Event) -> Any:
        """The state after ``event``; never raises on a recorded event."""

    def dump(self, state: Any) -> dict[str, Any]:
        """The state as JSON for the projection."""

    def load(self, data: Mapping[str, Any]) -> Any:
        """The state back from the projection's JSON."""

    def step(self, state: Any) -> str:
        """The journey step the board shows."""

    def active(self, state: Any) -> bool:
        """Whether the case is still on the board."""


def fold(machine: CaseMachine, state: Any, event: Event) -> Any:
    """``machine.apply``, except for the store's own events, which leave the state as it is."""
    if event.type in STORE_EVENT_TYPES:
        return state
    return machine.apply(state, event)


@functools.cache
def catalog() -> Any:
    """The product catalog, loaded once per process."""
    from cartflow.catalog_file import load_catalog

    return load_catalog()


class JourneyMachine:
    """:mod:`cartflow.domain.journey` as a :class:`CaseMachine`."""

    def __init__(self) -> None:
        from cartflow.domain import journey

        self.journey = journey

    def start(self, coi: str) -> Any:
        # The journey's empty state is step NEW; the referral event carries the identifier.
        return self.journey.CaseState()

    def decide(self, state: Any, command: Any, now: datetime) -> Sequence[Event]:
        # The site's register of signed protocol values is read afresh for every decision,
        # so a value signed today is used by the next command at that site. Imported here:
        # the register's rows are models, and the store's own tests run this module bare.
        from cartflow.clinic.services.register_chain import register_of

        register = register_of(state.site) if getattr(state, "site", "") else ()
        return list(self.journey.decide(state, command, catalog(), now, register))

    def apply(self, state: Any, event: Event) -> Any:
        return self.journey.apply(state, event)

    def dump(self, state: Any) -> dict[str, Any]:
        return dict(state.to_dict())

    def load(self, data: Mapping[str, Any]) -> Any:
        from_dict = getattr(self.journey.CaseState, "from_dict", None)
        if from_dict is not None:
            return from_dict(data)
        return from_jsonable(self.journey.CaseState, data)

    def step(self, state: Any) -> str:
        return str(state.step)

    def active(self, state: Any) -> bool:
        return not bool(getattr(state, "is_closed", False))


@functools.cache
def journey_machine() -> CaseMachine:
    return JourneyMachine()


def from_jsonable(tp: Any, value: Any) -> Any:
    """Rebuild a value of type ``tp`` (a frozen dataclass, its fields' types) from its JSON.

    The inverse of the journey's ``to_dict`` for the types a state holds: dataclasses, enums,
    dates and times, tuples, frozensets, dicts and optional values. Keys a dataclass does not
    declare (``waiting_for``, ``next_actions``: derived, not stored) are ignored.
    """
    if value is None or tp is Any:
        return value
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        last_error: Exception | None = None
        for option in options:
            try:
                return from_jsonable(option, value)
            except (TypeError, ValueError, KeyError) as exc:
                last_error = exc
        raise ValueError(f"{value!r} fits none of {tp}") from last_error
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(from_jsonable(args[0], item) for item in value)
        return tuple(from_jsonable(a, item) for a, item in zip(args, value, strict=True))
    if origin in (frozenset, set, list):
        items = [from_jsonable(args[0] if args else Any, item) for item in value]
        return origin(items)
    if origin in (dict, Mapping, collections.abc.Mapping):
        value_type = args[1] if len(args) == 2 else Any
        return {key: from_jsonable(value_type, item) for key, item in value.items()}
    if isinstance(tp, type):
        if dataclasses.is_dataclass(tp):
            hints = typing.get_type_hints(tp)
            kwargs = {
                f.name: from_jsonable(hints[f.name], value[f.name])
                for f in dataclasses.fields(tp)
                if f.init and f.name in value
            }
            return tp(**kwargs)
        if issubclass(tp, enum.Enum):
            return tp(value)
        if tp is datetime:
            return datetime.fromisoformat(value)
        if tp is date:
            if isinstance(value, str) and "T" in value:
                raise ValueError(f"{value!r} is a date and time, not a date")
            return date.fromisoformat(value)
        if tp is float and isinstance(value, int | float):
            return float(value)
        if tp in (int, str, bool) and not isinstance(value, tp):
            raise TypeError(f"{value!r} is not a {tp.__name__}")
    return value
