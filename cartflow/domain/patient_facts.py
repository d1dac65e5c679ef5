"""The patient facts eligibility is judged on: parsed and validated from JSON.

Every key is optional: a fact not given is *missing*, and a rule that needs it answers
"needs information" rather than guessing. Unknown keys are refused, so a misspelt key is never
silently ignored. Messages name the key and what is accepted, never a patient's value beyond
the number or word that was wrong.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from cartflow.domain.catalog import (
    ANTIGENS,
    DISEASE_STATUSES,
    DISEASES,
    REGIONS,
    THERAPY_CLASSES,
)
from cartflow.domain.errors import InvalidInput

ANTIGEN_RESULTS: Final = ("positive", "negative", "not_tested")

MAX_AGE_YEARS: Final = 120.0
MIN_WEIGHT_KG: Final = 0.5
"""Weights at or below 0.5 kg are refused (no patient weighs less)."""
MAX_WEIGHT_KG: Final = 350.0
MAX_PRIOR_LINES: Final = 30
MAX_MONTHS: Final = 1200.0

KEYS: Final = (
    "age_years",
    "weight_kg",
    "diagnosis",
    "disease_status",
    "relapsed_after_transplant",
    "months_from_first_line_to_relapse",
    "prior_lines",
    "prior_therapies",
    "refractory_to",
    "transplant_eligible",
    "antigens",
    "region",
)


@dataclass(frozen=True)
class PatientFacts:
    """What is known about a patient for eligibility; ``None`` means not given (missing)."""

    age_years: float | None = None
    weight_kg: float | None = None
    diagnosis: str | None = None
    disease_status: str | None = None
    relapsed_after_transplant: bool | None = None
    months_from_first_line_to_relapse: float | None = None
    prior_lines: int | None = None
    prior_therapies: frozenset[str] | None = None
    refractory_to: frozenset[str] | None = None
    transplant_eligible: bool | None = None
    antigens: Mapping[str, str] = field(default_factory=dict)
    region: str | None = None


def _number(raw: object, key: str, low: float, high: float, *, low_open: bool = False) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise InvalidInput(f"{key} must be a number; got {type(raw).__name__}")
    too_low = raw <= low if low_open else raw < low
    if too_low or raw > high:
        bound = f"above {low:g}" if low_open else f"at least {low:g}"
        raise InvalidInput(f"{key} must be {bound} and at most {high:g}; got {raw:g}")
    return float(raw)


def _choice(raw: object, key: str, choices: tuple[str, ...]) -> str:
    if not isinstance(raw, str) or raw not in choices:
        shown = raw if isinstance(raw, str) else type(raw).__name__
        raise InvalidInput(f"{key} must be one of {', '.join(choices)}; got {shown!r}")
    return raw


def _boolean(raw: object, key: str) -> bool:
    if not isinstance(raw, bool):
        raise InvalidInput(f"{key} must be true or false; got {type(raw).__name__}")
    return raw


def _list(raw: object, key: str) -> list[Any]:
    if not isinstance(raw, list):
        raise InvalidInput(f"{key} must be a list; got {type(raw).__name__}")
    return raw


def parse_patient_facts(raw: object) -> PatientFacts:
    """Validate a patient-facts object (the parsed JSON) and return :class:`PatientFacts`.

    A key set to ``null`` counts as not given. Raises :class:`InvalidInput` naming the key and
    what is accepted.
    """
    if not isinstance(raw, Mapping):
        raise InvalidInput(
            f"the patient facts must be a JSON object with keys {', '.join(KEYS)}; "
            f"got {type(raw).__name__}"
        )
    unknown = sorted(str(k) for k in raw if k not in KEYS)
    if unknown:
        raise InvalidInput(
            f"unknown key(s) in the patient facts: {', '.join(unknown)}; "
            f"accepted keys: {', '.join(KEYS)}"
        )
    given = {k: v for k, v in raw.items() if v is not None}
    values: dict[str, Any] = {}
    if "age_years" in given:
        values["age_years"] = _number(given["age_years"], "age_years", 0, MAX_AGE_YEARS)
    if "weight_kg" in given:
        values["weight_kg"] = _number(
            given["weight_kg"], "weight_kg", MIN_WEIGHT_KG, MAX_WEIGHT_KG, low_open=True
        )
    if "diagnosis" in given:
        values["diagnosis"] = _choice(given["diagnosis"], "diagnosis", DISEASES)
    if "disease_status" in given:
        values["disease_status"] = _choice(
            given["disease_status"], "disease_status", DISEASE_STATUSES
        )
    for key in ("relapsed_after_transplant", "transplant_eligible"):
        if key in given:
            values[key] = _boolean(given[key], key)
    if "months_from_first_line_to_relapse" in given:
        key = "months_from_first_line_to_relapse"
        values[key] = _number(given[key], key, 0, MAX_MONTHS)
    if "prior_lines" in given:
        lines = given["prior_lines"]
        if isinstance(lines, bool) or not isinstance(lines, int):
            raise InvalidInput(f"prior_lines must be a whole number; got {type(lines).__name__}")
        if not 0 <= lines <= MAX_PRIOR_LINES:
            raise InvalidInput(f"prior_lines must be between 0 and {MAX_PRIOR_LINES}; got {lines}")
        values["prior_lines"] = lines
    if "prior_therapies" in given:
        items = _list(given["prior_therapies"], "prior_therapies")
        values["prior_therapies"] = frozenset(
            _choice(item, "prior_therapies", THERAPY_CLASSES) for item in items
        )
    if "refractory_to" in given:
        drugs = []
        for item in _list(given["refractory_to"], "refractory_to"):
            if not isinstance(item, str) or not item.strip() or len(item) > 60:
                raise InvalidInput(
                    'refractory_to must list drug names (e.g. "lenalidomide"), 1 to 60 letters'
                )
            drugs.append(item.strip().lower())
        values["refractory_to"] = frozenset(drugs)
    if "antigens" in given:
        antigens = given["antigens"]
        if not isinstance(antigens, Mapping):
            raise InvalidInput(
                'antigens must be an object such as {"CD19": "positive"}; '
                f"got {type(antigens).__name__}"
            )
        parsed: dict[str, str] = {}
        for name, result in antigens.items():
            antigen = _choice(name, "antigen", ANTIGENS)
            parsed[antigen] = _choice(result, f"antigens.{antigen}", ANTIGEN_RESULTS)
        values["antigens"] = parsed
    if "region" in given:
        values["region"] = _choice(given["region"], "region", REGIONS)
    return PatientFacts(**values)


def parse_patient_json(text: str) -> PatientFacts:
    """Parse patient facts from JSON text; malformed JSON raises :class:`InvalidInput`."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"the patient facts are not valid JSON (line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg}); expected an object with keys {', '.join(KEYS)}"
        ) from None
    return parse_patient_facts(raw)
