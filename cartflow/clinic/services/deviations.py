"""Deviations: departures from procedure, recorded on the case's chain for quality.

A scan at the bedside that does not match the case is refused, and the refusal is recorded,
never dropped: :func:`open_scan_deviation` records the domain's ``OpenDeviation`` (a
``deviation.opened`` event with its audit row, in its own transaction) for the quality role
to review. A quality reviewer closes it by signing that event with the meaning "review"
(:func:`review_deviation`). No deviation carries a patient's name, birth date or record
number.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User

from cartflow.clinic.models import Event as EventRow
from cartflow.clinic.models import Signature, TherapyCase
from cartflow.clinic.services.append import AppendRequest, AppendResult, append
from cartflow.clinic.services.context import NO_REQUEST, RequestMeta
from cartflow.clinic.services.errors import NotFound
from cartflow.clinic.services.signatures import Meaning, sign
from cartflow.domain.journey import OpenDeviation, ScanMismatch
from cartflow.domain.journey import event_types as T

DEVIATION_OPENED = T.DEVIATION_OPENED
BEDSIDE_SCAN_MISMATCH = "bedside_scan_mismatch"


def open_deviation(
    case: TherapyCase | str,
    *,
    kind: str,
    summary: str,
    details: dict[str, Any] | None = None,
    acting_user: User,
    request_meta: RequestMeta = NO_REQUEST,
) -> AppendResult:
    """Record a deviation on the case's chain, for quality to review; one audit row."""
    command = OpenDeviation(
        actor=acting_user.get_username(),
        kind=kind,
        summary=summary,
        details=tuple(sorted((str(k), str(v)) for k, v in (details or {}).items())),
    )
    return append(
        AppendRequest(
            case=case,
            command=command,
            acting_user=acting_user,
            request_meta=request_meta,
            operation="open_deviation",
            summary={"deviation": kind},
        )
    )


def open_scan_deviation(
    case: TherapyCase | str,
    refused: ScanMismatch,
    scanned: dict[str, str],
    *,
    acting_user: User,
    request_meta: RequestMeta = NO_REQUEST,
) -> AppendResult:
    """The deviation for a bedside scan the domain refused, in its own transaction.

    A bag's label or number names a case, never a person, and is kept as scanned (cut to 40
    characters); a wristband that did not match is kept as "did not match", never the number.
    """
    which = refused.which[0] if refused.which else "scan"
    details = {"scan": which, "rule": refused.rule_id}
    if which in ("bag_label", "bag_id") and which in scanned:
        details["scanned"] = str(scanned[which]).strip()[:40]
    return open_deviation(
        case,
        kind=BEDSIDE_SCAN_MISMATCH,
        summary=f"bedside check refused: {refused.rule}; nothing was infused",
        details=details,
        acting_user=acting_user,
        request_meta=request_meta,
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
    acting_user: User,
    request_meta: RequestMeta = NO_REQUEST,
) -> Signature:
    """Quality signs the deviation as reviewed (re-entering the password)."""
    event = EventRow.objects.filter(case=case, hash=event_hash, type=DEVIATION_OPENED).first()
    if event is None:
        raise NotFound(f"no deviation {event_hash[:16]} on case {case.coi}")
    return sign(acting_user, password, Meaning.REVIEW, event, request_meta=request_meta)
