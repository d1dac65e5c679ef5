"""The bounded input types of the API: texts without control characters, scans, plausible
times and days, the case identifier in a path."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from django.utils import timezone
from ninja import Path
from pydantic import AfterValidator, AwareDatetime, StringConstraints

PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
"""No control characters in any text: a NUL byte is refused by PostgreSQL, a newline by a label."""


def bounded_text(max_length: int, min_length: int = 1) -> Any:
    return Annotated[
        str,
        StringConstraints(
            strip_whitespace=True, min_length=min_length, max_length=max_length, pattern=PRINTABLE
        ),
    ]


ShortText = bounded_text(64)
Text = bounded_text(300)
OptionalText = bounded_text(300, min_length=0)
Password = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Meaning = bounded_text(64)

COI_PATTERN = r"^=?[A-Za-z0-9*]{14,16}$"
CoiPath = Annotated[
    str,
    Path(
        description="the chain-of-identity identifier, compact (W123426000001X) or as scanned",
        pattern=COI_PATTERN,
        max_length=17,
    ),
]
Scan = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=40, pattern=PRINTABLE),
]
"""A scanned identifier (chain of identity, DIN): eye-readable, compact or barcode."""

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def _plausible_time(value: datetime) -> datetime:
    if value < EARLIEST:
        raise ValueError("must be in the year 2000 or later")
    if value > timezone.now() + timedelta(days=1):
        raise ValueError("a clinical time cannot lie in the future")
    return value


def _plausible_future(value: datetime) -> datetime:
    if value < EARLIEST or value > timezone.now() + timedelta(days=3 * 366):
        raise ValueError("must lie between the year 2000 and three years from now")
    return value


def _plausible_date(value: date) -> date:
    if not date(2000, 1, 1) <= value <= date(2100, 12, 31):
        raise ValueError("must lie between 2000-01-01 and 2100-12-31")
    return value


def _plausible_birth_date(value: date) -> date:
    if not date(1900, 1, 1) <= value <= timezone.localdate():
        raise ValueError("must lie between 1900-01-01 and today")
    return value


BirthDate = Annotated[date, AfterValidator(_plausible_birth_date)]
ClinicalTime = Annotated[AwareDatetime, AfterValidator(_plausible_time)]
"""When it happened (with a time zone); not in the future."""
PlannedTime = Annotated[AwareDatetime, AfterValidator(_plausible_future)]
"""A planned date and time (with a time zone), up to three years ahead."""
Day = Annotated[date, AfterValidator(_plausible_date)]
