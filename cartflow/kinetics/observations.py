"""A patient's measured transgene levels, with values below the assay's limit as censored.

The CSV has the columns ``day,copies_per_ug`` and optionally ``lloq``. A row is censored when
it has an ``lloq`` and its value is empty, a below-limit marker (``BLQ``, ``<LLOQ``, ``<``...)
or below that ``lloq``: the value is then only known to lie under the limit, never used as a
number.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cartflow.kinetics.errors import KineticsError

REQUIRED_COLUMNS = ("day", "copies_per_ug")
BELOW_LIMIT_MARKERS = {"", "blq", "bql", "<lloq", "<loq", "nd", "below lloq"}


@dataclass(frozen=True)
class Observations:
    """Days after infusion, values in copies/ug, and which values are censored at ``lloq``."""

    days: NDArray[np.float64]
    values: NDArray[np.float64]  # for censored rows: the limit (the value lies below it)
    censored: NDArray[np.bool_]

    def __post_init__(self) -> None:
        if not (len(self.days) == len(self.values) == len(self.censored)):
            raise KineticsError("days, values and censoring flags must have the same length")
        if len(self.days) < 2:
            raise KineticsError(
                f"a fit needs measurements at two time points at least, got {len(self.days)}"
            )
        if len(np.unique(self.days)) < 2:
            raise KineticsError("a fit needs measurements at two different days at least")
        if np.any(~np.isfinite(self.days)) or np.any(self.days < 0):
            raise KineticsError("days must be numbers, zero or later (days after infusion)")
        if np.any(~np.isfinite(self.values)) or np.any(self.values <= 0):
            raise KineticsError("copies_per_ug and lloq must be positive numbers")

    @classmethod
    def from_arrays(cls, days: list[float] | NDArray[np.float64],
                    values: list[float] | NDArray[np.float64],
                    lloq: list[float | None] | NDArray[np.float64] | None = None) -> Observations:
        d = np.asarray(days, dtype=float)
        v = np.asarray(values, dtype=float)
        if lloq is None:
            return cls(d, v, np.zeros(len(d), dtype=bool))
        limit = np.array([np.nan if x is None else float(x) for x in lloq])
        censored = np.isfinite(limit) & (~np.isfinite(v) | (v < limit))
        return cls(d, np.where(censored, limit, v), censored)


def _number(text: str, column: str, line: int) -> float:
    try:
        value = float(text)
    except ValueError:
        raise KineticsError(
            f"line {line}: {column} must be a number, got {text!r}"
        ) from None
    if not math.isfinite(value):
        raise KineticsError(f"line {line}: {column} must be a finite number, got {text!r}")
    return value


def parse_csv(text: str) -> Observations:
    """Read ``day,copies_per_ug[,lloq]`` rows; a clear KineticsError for anything else."""
    if not text.strip():
        raise KineticsError("the observations file is empty; expected a CSV with the columns "
                            "day,copies_per_ug and optionally lloq")
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip() for c in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise KineticsError(f"the observations file lacks the column(s) {missing}; expected "
                            "day,copies_per_ug and optionally lloq")
    days: list[float] = []
    values: list[float] = []
    censored: list[bool] = []
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        if not any(row.values()):
            continue
        day = _number(row["day"], "day", line)
        if day < 0:
            raise KineticsError(f"line {line}: day must be zero or later, got {day}")
        lloq_text = row.get("lloq", "")
        lloq = _number(lloq_text, "lloq", line) if lloq_text else None
        if lloq is not None and lloq <= 0:
            raise KineticsError(f"line {line}: lloq must be positive, got {lloq}")
        value_text = row["copies_per_ug"]
        if value_text.lower() in BELOW_LIMIT_MARKERS or value_text.startswith("<"):
            if lloq is None:
                raise KineticsError(f"line {line}: a value below the limit of quantification "
                                    "needs its lloq column")
            days.append(day)
            values.append(lloq)
            censored.append(True)
            continue
        value = _number(value_text, "copies_per_ug", line)
        if value <= 0 and lloq is None:
            raise KineticsError(f"line {line}: copies_per_ug must be positive, got {value}; give "
                                "values below the assay's limit with an lloq column")
        below = lloq is not None and value < lloq
        days.append(day)
        values.append(lloq if below and lloq is not None else value)
        censored.append(below)
    if not days:
        raise KineticsError("the observations file has no rows; expected day,copies_per_ug")
    return Observations(np.array(days), np.array(values), np.array(censored, dtype=bool))
