"""What a page's form is made of: its fields, and the operation it records."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel

from cartflow.clinic.api.schemas.common import SignedStepIn
from cartflow.clinic.models import TherapyCase
from cartflow.clinic.services.operations import DEFAULT_MEANINGS
from cartflow.clinic.services.signatures import Meaning
from cartflow.domain.roles import Action

YES_NO = (("yes", _("Yes")), ("no", _("No")))

CHOICE_WORDS: dict[str, Any] = {
    # the grading instruments' findings (ASTCT 2019), as the forms offer them
    "none": _("none"),
    "no-vasopressors": _("hypotension without vasopressors"),
    "one-vasopressor": _("one vasopressor (with or without vasopressin)"),
    "multiple-vasopressors": _("several vasopressors (excluding vasopressin)"),
    "low-flow": _("low-flow nasal cannula (6 L/min or less)"),
    "high-flow": _("high-flow cannula, face mask or venturi mask"),
    "positive-pressure": _("positive pressure (CPAP, BiPAP, ventilation)"),
    "alert": _("alert"),
    "spontaneous": _("awakens spontaneously"),
    "voice": _("awakens to voice"),
    "touch": _("awakens only to touch"),
    "unarousable": _("unarousable, or needs vigorous stimuli"),
    "focal": _("focal or local oedema on imaging"),
    "diffuse": _("diffuse cerebral oedema, decerebrate or decorticate posturing"),
    "deep-focal-weakness": _("deep focal motor weakness"),
    "rapidly-resolving": _("resolves rapidly, or non-convulsive on EEG resolving with treatment"),
    "prolonged": _("life-threatening prolonged seizure, or repeated without return to baseline"),
    # disease status
    "newly_diagnosed": _("newly diagnosed"),
    "refractory": _("refractory"),
    "first_relapse": _("first relapse"),
    "second_or_later_relapse": _("second or later relapse"),
}
"""A code value offered in a choice, in words."""


def choice_words(value: str) -> Any:
    words = CHOICE_WORDS.get(value)
    # Lazy: the table is built at import, the words are read in the reader's language.
    return words if words is not None else value.replace("-", " ").replace("_", " ")


@dataclass(frozen=True)
class Field:
    """One input of a form. ``kind``: text, scan, number, choice, yesno, datetime, date, list,
    multi (several of the choices, as checkboxes)."""

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
    button: str = _("Record")
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
