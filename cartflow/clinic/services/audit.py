"""Proving the record: verify each case's chain and the network ledger; rebuild projections.

The ledger is the authority on how long each case's chain is and where it ends: an intact
but shortened chain (a cut tail) and a case whose rows were deleted altogether are found by
comparing with it, and the ledger head row catches a cut ledger.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from cartflow.clinic.models import CaseProjection, Event, LedgerEntry, LedgerHead, TherapyCase
from cartflow.clinic.services.append import resolve_case
from cartflow.clinic.services.machine import CaseMachine, fold, journey_machine
from cartflow.domain.events import Event as DomainEvent
from cartflow.domain.hashchain import GENESIS, PREV_KEY, ChainReport, verify_chain

StoredRow: TypeAlias = tuple[int, bytes | memoryview, str, str]
"""An event row as read for verification: seq, body, hash, previous hash. PostgreSQL answers
a binary column as a memoryview, SQLite as bytes; the checks read ``bytes(body)``."""


@dataclass(frozen=True)
class CaseReport(ChainReport):
    """A case's chain: the domain's chain report, naming the case it is about."""

    coi: str = ""

    @classmethod
    def broken(cls, coi: str, entries: int, at: int, reason: str) -> CaseReport:
        return cls(ok=False, entries=entries, head="", broken_at=at, reason=reason, coi=coi)

    def to_dict(self) -> dict[str, Any]:
        return {"case": self.coi, **super().to_dict()}


@dataclass(frozen=True)
class NetworkReport:
    """The ledger and every case: ``ok``, or the first problem found in each."""

    ok: bool
    ledger_entries: int
    ledger_broken_at: int | None
    ledger_reason: str
    cases_checked: int
    broken_cases: list[CaseReport] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "ledger": {
                "entries": self.ledger_entries,
                "broken_at": self.ledger_broken_at,
                "reason": self.ledger_reason,
            },
            "cases_checked": self.cases_checked,
            "broken_cases": [report.to_dict() for report in self.broken_cases],
        }


def _rows_as_entries(
    coi: str, rows: Iterable[StoredRow]
) -> tuple[list[dict[str, Any]], int | None, str]:
    """The parsed bodies, and the first row whose columns contradict its own bytes."""
    entries: list[dict[str, Any]] = []
    for index, (seq, body, digest, prev_hash) in enumerate(rows):
        data = bytes(body)
        try:
            entry = json.loads(data)
        except ValueError:
            return entries, index, "the stored bytes are not JSON (the event was overwritten)"
        entries.append(entry)
        if hashlib.sha256(data).hexdigest() != digest:
            return entries, index, "the event's bytes do not hash to its recorded hash (edited)"
        if entry.get(PREV_KEY) != prev_hash:
            return entries, index, "the event's previous-hash column differs from its bytes"
        if entry.get("case") != coi or entry.get("seq") != seq or seq != index + 1:
            return (
                entries,
                index,
                (
                    "the event is out of place: its bytes name another case or position "
                    "(moved, reordered, or an event before it was removed)"
                ),
            )
    return entries, None, ""


def _last_ledger_entry(coi: str) -> LedgerEntry | None:
    return LedgerEntry.objects.filter(case_coi=coi).order_by("-seq").first()


def verify_case(case: TherapyCase | str) -> CaseReport:
    """Check every link of the case's chain against its bytes and the ledger."""
    coi = case.coi if isinstance(case, TherapyCase) else case
    rows = list(
        Event.objects.filter(case__coi=coi)
        .order_by("seq")
        .values_list("seq", "body", "hash", "prev_hash")
    )
    ledger = _last_ledger_entry(coi)
    return _verify_rows(coi, rows, ledger)


def _verify_rows(coi: str, rows: list[StoredRow], ledger: LedgerEntry | None) -> CaseReport:
    entries, bad, reason = _rows_as_entries(coi, rows)
    if bad is not None:
        return CaseReport.broken(coi, len(rows), bad, reason)
    if ledger is None and rows:
        return CaseReport.broken(
            coi, len(rows), 0, "the case has events but no ledger entry records them"
        )
    report = verify_chain(
        entries,
        start=GENESIS,
        expected_head=ledger.case_head if ledger else None,
        expected_length=ledger.case_version if ledger else None,
    )
    return CaseReport(**vars(report), coi=coi)


def verify_ledger() -> NetworkReport:
    """Check the ledger's own chain, its head row, and every case against its last entry."""
    ledger_rows = list(
        LedgerEntry.objects.order_by("seq").values_list(
            "seq", "case_coi", "case_head", "case_version", "body", "hash", "prev_hash"
        )
    )
    head = LedgerHead.objects.filter(pk=1).first()
    entries: list[dict[str, Any]] = []
    broken_at: int | None = None
    reason = ""
    last: dict[str, tuple[str, int]] = {}
    for index, (seq, coi, case_head, version, body, digest, prev_hash) in enumerate(ledger_rows):
        data = bytes(body)
        entry = json.loads(data)
        entries.append(entry)
        consistent = (
            hashlib.sha256(data).hexdigest() == digest
            and entry.get(PREV_KEY) == prev_hash
            and entry.get("seq") == seq == index + 1
            and entry.get("case") == coi
            and entry.get("head") == case_head
            and entry.get("version") == version
        )
        if not consistent and broken_at is None:
            broken_at, reason = index, "a ledger entry's columns contradict its own bytes (edited)"
        last[str(entry.get("case"))] = (str(entry.get("head")), int(entry.get("version", 0)))
    if broken_at is None:
        chain = verify_chain(
            entries,
            expected_head=head.hash if head and head.seq else None,
            expected_length=head.seq if head else None,
        )
        if not chain.ok:
            broken_at, reason = chain.broken_at, "ledger: " + chain.reason

    broken_cases: list[CaseReport] = []
    events_by_case: dict[str, list[StoredRow]] = {}
    for coi, seq, body, digest, prev_hash in (
        Event.objects.order_by("case_id", "seq")
        .values_list("case__coi", "seq", "body", "hash", "prev_hash")
        .iterator(chunk_size=2000)
    ):
        events_by_case.setdefault(coi, []).append((seq, body, digest, prev_hash))
    for coi in sorted(set(last) | set(events_by_case)):
        rows = events_by_case.get(coi, [])
        if coi in last and not rows:
            broken_cases.append(
                CaseReport.broken(
                    coi,
                    0,
                    0,
                    "the ledger records this case but its events are gone (the case was deleted)",
                )
            )
            continue
        recorded = last.get(coi)
        entry = (
            LedgerEntry(case_coi=coi, case_head=recorded[0], case_version=recorded[1])
            if recorded
            else None
        )
        report = _verify_rows(coi, rows, entry)
        if not report.ok:
            broken_cases.append(report)
    ok = broken_at is None and not broken_cases
    return NetworkReport(
        ok, len(ledger_rows), broken_at, reason, len(set(last) | set(events_by_case)), broken_cases
    )


def replay(case: TherapyCase | str, machine: CaseMachine | None = None) -> Any:
    """The case's state folded from its stored events (the projection is only a cache)."""
    machine = machine or journey_machine()
    case = resolve_case(case)
    state = machine.start(case.coi)
    for body in Event.objects.filter(case=case).order_by("seq").values_list("body", flat=True):
        state = fold(machine, state, DomainEvent.from_body(json.loads(bytes(body))))
    return state


def rebuild_projection(case: TherapyCase | str, machine: CaseMachine | None = None) -> bool:
    """Fold the case's events again into its projection; ``True`` if the projection changed."""
    return bool(repair_projection(case, machine))


def repair_projection(
    case: TherapyCase | str, machine: CaseMachine | None = None, *, acting_user: User | None = None
) -> dict[str, Any]:
    """Fold the case's events again into its projection; what differed, ``{}`` if nothing.

    Each repaired field maps to ``[cached, folded]`` (for the state, the names of the parts
    that differed), and the repair writes an audit row that says the same: a cache is never
    reset in silence.
    """
    from cartflow.clinic.services.records import write_audit

    machine = machine or journey_machine()
    case = resolve_case(case)
    with transaction.atomic():
        # The ledger head first, then the projection: the order every append locks them in.
        LedgerHead.objects.select_for_update().get(pk=1)
        projection = CaseProjection.objects.select_for_update().get(case=case)
        state = replay(case, machine)
        events = Event.objects.filter(case=case).order_by("-seq").values_list("seq", "hash")
        last = events.first()
        new = {
            "step": machine.step(state),
            "state": json.loads(json.dumps(machine.dump(state), default=str)),
            "version": last[0] if last else 0,
            "head": last[1] if last else GENESIS,
            "active": machine.active(state),
        }
        old = {name: getattr(projection, name) for name in new}
        differences: dict[str, Any] = {}
        for name, value in new.items():
            if old[name] == value:
                continue
            if name == "state":
                cached = old[name] if isinstance(old[name], dict) else {}
                differences[name] = sorted(
                    key for key in set(cached) | set(value) if cached.get(key) != value.get(key)
                )
            else:
                differences[name] = [old[name], value]
        if not differences:
            return {}
        for name, value in new.items():
            setattr(projection, name, value)
        projection.updated_at = timezone.now()
        projection.save()
        write_audit(
            "rebuild_projection",
            acting_user=acting_user,
            case_coi=case.coi,
            summary={"repaired": differences},
        )
        return differences


def rebuild_all(machine: CaseMachine | None = None) -> int:
    """Rebuild every case's projection; the number that changed."""
    return len(repair_all(machine))


def repair_all(
    machine: CaseMachine | None = None, *, acting_user: User | None = None
) -> dict[str, dict[str, Any]]:
    """Repair every case's projection; what differed, by case."""
    repaired: dict[str, dict[str, Any]] = {}
    for case in TherapyCase.objects.order_by("pk").iterator():
        differences = repair_projection(case, machine, acting_user=acting_user)
        if differences:
            repaired[case.coi] = differences
    return repaired
