"""Deviations and the bedside check: what the infusion pages record beside the journey.

A scan at the bedside that does not match the case is refused, and the refusal is recorded,
never dropped: :func:`open_deviation` appends a ``deviation.opened`` event to the case's chain
(with its audit row, in one transaction) for the quality role to review. A quality reviewer
closes it by signing that event with the meaning "review" (:func:`review_deviation`).

A bedside check that matched is recorded too (``bedside.verified``, by the nurse who scanned),
before the second person signs the infusion itself.

Neither event carries a patient's name, birth date or record number: a wristband that did not
match is recorded as "did not match", never as the number that was scanned.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cartflow.clinic.models import Event as EventRow
from cartflow.clinic.models import Signature, TherapyCase
from cartflow.clinic.services.append import AppendResult, append
from cartflow.clinic.services.context import NO_REQUEST, RequestMeta
from cartflow.clinic.services.errors import NotFound
from cartflow.clinic.services.signatures import Meaning, sign
from cartflow.domain.errors import InvalidInput
from cartflow.domain.events import Event

DEVIATION_OPENED = "deviation.opened"
BEDSIDE_VERIFIED = "bedside.verified"
DEVIATION_KINDS = frozenset({"bedside_scan_mismatch"})


def open_deviation(
    case: TherapyCase | str,
    *,
    kind: str,
    summary: str,
    details: dict[str, Any] | None = None,
    acting_user: Any,
    request_meta: RequestMeta = NO_REQUEST,
) -> AppendResult:
    """Record a deviation on the case's chain, for quality to review; one audit row."""
    if kind not in DEVIATION_KINDS:
        raise InvalidInput(f"kind: one of {', '.join(sorted(DEVIATION_KINDS))}")
    summary = (summary or "").strip()
    if not summary or len(summary) > 300:
        raise InvalidInput("summary: say what happened (1 to 300 characters)")
    data = {"kind": kind, "summary": summary, "details": dict(details or {})}

    def opened(state: Any, now: Any) -> Sequence[Event]:
        return [
            Event(
                type=DEVIATION_OPENED,
                occurred_at=now,
                actor=acting_user.get_username(),
                data=data,
            )
        ]

    return append(
        case,
        None,
        acting_user=acting_user,
        request_meta=request_meta,
        operation="open_deviation",
        extra_events=opened,
        summary={"deviation": kind},
    )


def record_bedside_verification(
    case: TherapyCase | str,
    *,
    scans: dict[str, str],
    acting_user: Any,
    request_meta: RequestMeta = NO_REQUEST,
) -> AppendResult:
    """Record that the nurse's bedside scans matched the case (``scans`` says which did)."""

    def verified(state: Any, now: Any) -> Sequence[Event]:
        return [
            Event(
                type=BEDSIDE_VERIFIED,
                occurred_at=now,
                actor=acting_user.get_username(),
                data={"matched": dict(scans)},
            )
        ]

    return append(
        case,
        None,
        acting_user=acting_user,
        request_meta=request_meta,
        operation="record_bedside_verification",
        extra_events=verified,
        summary={"bedside": "verified"},
    )


def open_deviations(cases: Any = None) -> list[EventRow]:
    """Deviation events without a review signature (narrowed to ``cases`` when given)."""
    rows = EventRow.objects.filter(type=DEVIATION_OPENED).select_related("case__treating_site")
    if cases is not None:
        rows = rows.filter(case__in=cases)
    reviewed = set(
        Signature.objects.filter(event__type=DEVIATION_OPENED, meaning=Meaning.REVIEW).values_list(
            "event_hash", flat=True
        )
    )
    return [row for row in rows.order_by("recorded_at") if row.hash not in reviewed]


def review_deviation(
    case: TherapyCase,
    event_hash: str,
    *,
    password: str,
    acting_user: Any,
    request_meta: RequestMeta = NO_REQUEST,
) -> Signature:
    """Quality signs the deviation as reviewed (re-entering the password)."""
    event = EventRow.objects.filter(case=case, hash=event_hash, type=DEVIATION_OPENED).first()
    if event is None:
        raise NotFound(f"no deviation {event_hash[:16]} on case {case.coi}")
    return sign(acting_user, password, Meaning.REVIEW, event, request_meta=request_meta)
