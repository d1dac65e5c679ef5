"""Deviations: departures from procedure, recorded on the case's chain for quality.

A scan at the bedside that does not match the case is refused, and the refusal is recorded,
never dropped: :func:`open_scan_deviation` records the domain's ``OpenDeviation`` (a
``deviation.opened`` event with its audit row, in its own transaction) for the quality role
to review. A quality reviewer closes it with the domain's ``ReviewDeviation`` (a comment
and a signature meaning "review", :func:`review_deviation`). No deviation carries a
patient's name, birth date or record number.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Unpack

from django.contrib.auth.models import User

from cartflow.clinic.case_state import case_state
from cartflow.clinic.models import Event as EventRow
from cartflow.clinic.models import Signature, TherapyCase
from cartflow.clinic.services.append import AppendRequest, AppendResult, append
from cartflow.clinic.services.context import NO_REQUEST, RequestMeta
from cartflow.clinic.services.operations import Recording, perform
from cartflow.clinic.services.signatures import Meaning
from cartflow.domain.journey import OpenDeviation, ReviewDeviation, ScanMismatch
from cartflow.domain.journey import event_types as T
from cartflow.domain.journey.state import Deviation
from cartflow.domain.roles import Role

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


@dataclass(frozen=True)
class OpenDeviationRow:
    """A deviation not yet reviewed: its case, its number on the case (1-based, the order
    of ``CaseState.deviations``), the stored event and the folded record."""

    case: TherapyCase
    number: int
    event: EventRow
    deviation: Deviation


def open_deviations(cases: Any = None) -> list[OpenDeviationRow]:
    """Deviations no one has reviewed yet (narrowed to ``cases`` when given), oldest first.

    A review is the domain's ``deviation.reviewed`` (folded into the case's state); a
    deviation signed "review" the earlier way (a bare signature on its event) counts too.
    """
    rows = EventRow.objects.filter(type=DEVIATION_OPENED).select_related(
        "case__treating_site", "case__projection"
    )
    if cases is not None:
        rows = rows.filter(case__in=cases)
    signed = set(
        Signature.objects.filter(event__type=DEVIATION_OPENED, meaning=Meaning.REVIEW).values_list(
            "event_hash", flat=True
        )
    )
    found: list[OpenDeviationRow] = []
    by_case: dict[int, list[EventRow]] = {}
    for row in rows.order_by("case_id", "seq"):
        by_case.setdefault(row.case_id, []).append(row)
    for events in by_case.values():
        state = case_state(events[0].case)
        for number, (row, deviation) in enumerate(zip(events, state.deviations, strict=False), 1):
            if not deviation.reviewed and row.hash not in signed:
                found.append(OpenDeviationRow(row.case, number, row, deviation))
    return sorted(found, key=lambda d: d.event.recorded_at)


def review_deviation(
    case: TherapyCase | str,
    numbers: Iterable[int],
    *,
    acting_user: User,
    comment: str,
    occurred_at: datetime | None = None,
    **recording: Unpack[Recording],
) -> AppendResult:
    """Quality reviews deviations of the case (by number), with a comment, signing again
    with the password (meaning: review): the domain's ``ReviewDeviation``."""
    recording["role"] = recording.get("role") or Role.QUALITY.value
    return perform(
        case,
        ReviewDeviation,
        acting_user=acting_user,
        occurred_at=occurred_at,
        numbers=tuple(int(n) for n in numbers),
        comment=comment,
        **recording,
    )
