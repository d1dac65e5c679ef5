"""Transgene measurements after the infusion, recorded on the case's chain.

A measurement (qPCR transgene copies per microgram of genomic DNA) is a ``kinetics.measured``
event the store writes beside the journey (one transaction, one audit row), like a CRS grade.
Its day is counted from the case's first infusion: given as ``day``, or computed from the time
the sample was taken (``taken_at``). A value below the assay's limit (``lloq``), or no value
with a limit, is recorded as censored: known only to lie under the limit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from cartflow.clinic.models import TherapyCase
from cartflow.clinic.services.append import AppendResult, append, resolve_case
from cartflow.clinic.services.context import NO_REQUEST, RequestMeta
from cartflow.domain.errors import InvalidInput
from cartflow.domain.events import Event

KINETICS_MEASURED = "kinetics.measured"
MAX_DAY = 3660.0
"""Ten years of follow-up: a day later than this is a typing error, not a measurement."""
MAX_COPIES_PER_UG = 1.0e7
"""Far above any reported peak (the Stein 2019 typical Cmax is 24,000 copies/ug)."""
MAX_LLOQ = 1.0e5


def _number(value: float | None, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidInput(f"{name} must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise InvalidInput(f"{name} must be a finite number, got {value!r}")
    return number


def check_measurement(
    day: float | None, copies_per_ug: float | None, lloq: float | None
) -> tuple[float | None, float | None, float | None, bool]:
    """The values checked, and whether the measurement is censored; InvalidInput if not."""
    d = _number(day, "day")
    copies = _number(copies_per_ug, "copies_per_ug")
    limit = _number(lloq, "lloq")
    if d is not None and not 0.0 <= d <= MAX_DAY:
        raise InvalidInput(
            f"day {d:g} is out of range: days after the first infusion, 0 to {MAX_DAY:g}"
        )
    if copies is not None and not 0.0 <= copies <= MAX_COPIES_PER_UG:
        raise InvalidInput(
            f"copies_per_ug {copies:g} is out of range: 0 to {MAX_COPIES_PER_UG:g} copies/ug"
        )
    if limit is not None and not 0.0 < limit <= MAX_LLOQ:
        raise InvalidInput(
            f"lloq {limit:g} is out of range: above 0 and at most {MAX_LLOQ:g} copies/ug"
        )
    if copies is None and limit is None:
        raise InvalidInput(
            "give copies_per_ug, or the assay's lloq for a value below the limit of quantification"
        )
    if copies == 0.0 and limit is None:
        raise InvalidInput(
            "copies_per_ug 0 means below the limit of quantification: give the assay's lloq"
        )
    censored = copies is None or (limit is not None and copies < limit)
    return d, copies, limit, censored


def record_kinetics_measurement(
    case: TherapyCase | str,
    *,
    day: float | None = None,
    taken_at: datetime | None = None,
    copies_per_ug: float | None,
    lloq: float | None = None,
    acting_user: Any,
    request_meta: RequestMeta = NO_REQUEST,
    expected_version: int | None = None,
) -> AppendResult:
    """Record one transgene level (or a value below the LLOQ); only after an infusion."""
    case = resolve_case(case)
    if (day is None) == (taken_at is None):
        raise InvalidInput(
            "give either day (days after the first infusion) or taken_at (when the sample "
            "was taken), not both and not neither"
        )
    if taken_at is not None and taken_at.tzinfo is None:
        raise InvalidInput("taken_at needs a time zone")
    d, copies, limit, censored = check_measurement(day, copies_per_ug, lloq)

    def measured(state: Any, now: datetime) -> Sequence[Event]:
        infusions = getattr(state, "infusions", ())
        if not infusions:
            raise InvalidInput(
                "transgene levels are recorded after the infusion; this case has none recorded"
            )
        infused_at = min(i.at for i in infusions)
        if taken_at is not None:
            at = taken_at
            if at < infused_at:
                raise InvalidInput(
                    "taken_at lies before the first infusion "
                    f"({infused_at.isoformat()}); a level is measured after it"
                )
            days = (at - infused_at).total_seconds() / 86400.0
            if days > MAX_DAY:
                raise InvalidInput(f"taken_at lies more than {MAX_DAY:g} days after the infusion")
        else:
            assert d is not None
            days = d
            at = infused_at + timedelta(days=d)
        if at > now:
            raise InvalidInput(
                f"day {days:g} after the infusion lies in the future; a measurement is "
                "recorded once the sample was taken"
            )
        return [
            Event(
                type=KINETICS_MEASURED,
                occurred_at=at,
                actor=acting_user.get_username(),
                data={
                    "day": round(days, 6),
                    "copies_per_ug": copies,
                    "lloq": limit,
                    "censored": censored,
                    "unit": "copies/ug genomic DNA",
                    "infused_at": infused_at.isoformat(),
                },
            )
        ]

    return append(
        case,
        None,
        acting_user=acting_user,
        request_meta=request_meta,
        operation="record_kinetics_measurement",
        expected_version=expected_version,
        extra_events=measured,
        summary={"day": d, "censored": censored},
        now=timezone.now(),
    )
