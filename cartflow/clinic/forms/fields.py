"""What a page's form is made of: its fields, and the operation it records."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel

from cartflow.clinic.api.schemas.common import SignedStepIn
from cartflow.clinic.models import TherapyCase
from cartflow.clinic.services.operations import DEFAULT_MEANINGS
from cartflow.clinic.services.signatures import Meaning
from cartflow.domain.roles import Action

YES_NO = (("yes", "Yes"), ("no", "No"))


@dataclass(frozen=True)
class Field:
    """One input of a form. ``kind``: text, scan, number, choice, yesno, datetime, list."""

    name: str
    label: str
    kind: str = "text"
    required: bool = True
    help: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    step: str = "any"


@dataclass(frozen=True)
class Operation:
    """What a page needs to offer one operation and record it through its service."""

    name: str
    title: str
    action: Action
    schema: type[BaseModel]
    service: Callable[..., Any]
    fields: tuple[Field, ...] = ()
    button: str = "Record"
    kind: str = "step"  # step | exception | quality | other
    extra: Callable[[BaseModel, TherapyCase], dict[str, Any]] | None = None
    choices: Callable[[TherapyCase], dict[str, tuple[tuple[str, str], ...]]] | None = None
    case_fields: Callable[[TherapyCase], Mapping[str, Field]] | None = None
    help: str = ""
    clinical_time: bool = True
    drop: tuple[str, ...] = field(default=())

    @property
    def signed(self) -> bool:
        return issubclass(self.schema, SignedStepIn)

    @property
    def meaning(self) -> str:
        return DEFAULT_MEANINGS.get(self.name, Meaning.RESPONSIBILITY)

    def fields_for(self, case: TherapyCase) -> tuple[Field, ...]:
        """The fields, with choices that depend on the case (slots, couriers) filled in, and
        any field the case reshapes (the lymphodepleting regimen) replaced."""
        dynamic = self.choices(case) if self.choices is not None else {}
        reshaped = self.case_fields(case) if self.case_fields is not None else {}
        return tuple(
            reshaped[f.name]
            if f.name in reshaped
            else replace(f, choices=dynamic[f.name])
            if f.name in dynamic
            else f
            for f in self.fields
        )
