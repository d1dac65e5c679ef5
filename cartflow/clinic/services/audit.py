"""Proving the record: verify each case's chain and the network ledger; rebuild projections.

The ledger is the authority on how long each case's chain is and where it ends: an intact
but shortened chain (a cut tail) and a case whose rows were deleted altogether are found by
comparing with it, and the ledger head row catches a cut ledger.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from cartflow.clinic.models import CaseProjection, Event, LedgerEntry, LedgerHead, TherapyCase
from cartflow.clinic.services.append import CONFLICT_BROKEN, RecordBroken, resolve_case
from cartflow.clinic.services.chain_screen import iso_text, screen_cases, screen_ledger
from cartflow.clinic.services.entry_head import (
    HEAD_DECODER,
    LEDGER_DECODER,
    NOT_AN_ENTRY,
    NOT_BYTES,
    EntryHead,
    LedgerBody,
    stored_bytes,
)
from cartflow.clinic.services.generated_columns import columns_generated
from cartflow.clinic.services.machine import CaseMachine, fold, journey_machine
from cartflow.domain.events import Event as DomainEvent
from cartflow.domain.hashchain import GENESIS, ChainReport


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


def _last_ledger_entry(coi: str) -> LedgerEntry | None:
    return LedgerEntry.objects.filter(case_coi=coi).order_by("-seq").first()


def verify_case(case: TherapyCase | str) -> CaseReport:
    """Check every link of the case's chain against its bytes and the ledger (the checks of
    :func:`verify_ledger`, for one case)."""
    coi = case.coi if isinstance(case, TherapyCase) else case
    count, head, row_bad, link_bad = _check_rows(coi, _case_rows(coi))
    ledger = _last_ledger_entry(coi)
    recorded = (ledger.case_head, ledger.case_version) if ledger is not None else None
    return _case_report(coi, count, row_bad, link_bad, head, recorded)


EventVisitor = Callable[[str, tuple[Any, ...], EntryHead], None]
"""Called with an event row (case row id, seq, body, hash, prev_hash, type, actor, site,
occurred_at, recorded_at, schema_version: ``EVENT_SCAN_COLUMNS``) whose bytes parse, its
case's identifier first and the bytes' top-level fields last."""

EVENT_SCAN_COLUMNS = (
    "case_id, seq, body, hash, prev_hash, type, actor, site, occurred_at, recorded_at, "
    "schema_version"
)
SCAN_CHUNK = 5000


@contextmanager
def snapshot() -> Iterator[None]:
    """Every pass of a verification sees the same moment: an append between the ledger's pass
    and the events' would otherwise look like a cut chain.

    On PostgreSQL, one read-only REPEATABLE READ transaction (a streaming cursor then need not
    be held past a commit: outside a transaction it is declared WITH HOLD, which makes the
    server copy the whole result first). On SQLite a deferred read transaction, begun by hand:
    Django's would take the write lock (``BEGIN IMMEDIATE``), and in WAL mode a reader's
    snapshot blocks no writer."""
    if connection.in_atomic_block:
        yield
        return
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        if connection.connection.in_transaction:  # a snapshot already (nested)
            yield
            return
        with connection.cursor() as cursor:
            cursor.execute("BEGIN DEFERRED")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("COMMIT")
        return
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


def _stream(sql: str, params: Sequence[Any] | None = None) -> Iterator[tuple[Any, ...]]:
    """Rows of ``sql`` streamed: a server-side cursor on PostgreSQL, stepped on SQLite."""
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(SCAN_CHUNK):
            yield from rows


def _scan_ledger(
    last: dict[str, tuple[str, int]],
) -> tuple[int, int | None, str]:
    """The ledger streamed in order: its entries, the first broken one and why.

    Fills ``last`` with each case's last recorded head and event count (from the bytes).
    """
    sha256, decode = hashlib.sha256, LEDGER_DECODER.decode
    prev = GENESIS
    broken_at: int | None = None
    reason = ""
    index = -1
    sql = (
        f"SELECT seq, case_coi, case_head, case_version, body, hash, prev_hash "
        f"FROM {LedgerEntry._meta.db_table} ORDER BY seq"
    )
    for index, (seq, coi, case_head, version, body, digest, prev_hash) in enumerate(_stream(sql)):
        data = stored_bytes(body)
        try:
            entry = decode(data) if data is not None else NO_LEDGER_BODY
        except NOT_AN_ENTRY:
            entry = NO_LEDGER_BODY
        if broken_at is None:
            consistent = (
                data is not None
                and sha256(data).hexdigest() == digest
                and entry.prev == prev_hash
                and entry.seq == seq == index + 1
                and entry.case == coi
                and entry.head == case_head
                and entry.version == version
            )
            if not consistent:
                broken_at, reason = (
                    index,
                    "a ledger entry's columns contradict its own bytes (edited)",
                )
            elif prev_hash != prev:
                broken_at, reason = (
                    index,
                    "ledger: the entry does not carry the hash of the entry before it "
                    "(an entry was edited, removed or moved)",
                )
            prev = digest
        version_read = entry.version if type(entry.version) is int else 0
        last[str(entry.case)] = (str(entry.head), version_read)
    entries = index + 1
    if broken_at is None:
        return _ledger_end(entries, prev)
    return entries, broken_at, reason


NO_LEDGER_BODY = LedgerBody()


def linked_in_order(
    sql: str, accept: Callable[[tuple[Any, ...]], bool]
) -> tuple[int, str] | None:
    """Rows of ``sql`` (position, hash, previous hash, bytes, then anything ``accept`` reads),
    in order: how many and the last hash when every row's bytes hash to its hash, at its
    position, after the row before it, and ``accept`` takes the rest of it; ``None`` at the
    first row that does not. The fast path of a chain whose columns the database generates
    from the bytes (the ledger; the audit trail)."""
    sha256 = hashlib.sha256
    rows, prev = 0, GENESIS
    for row in _stream(sql):
        seq, digest, prev_hash, body = row[:4]
        rows += 1
        data = body if type(body) is bytes else stored_bytes(body)
        if (
            seq != rows
            or prev_hash != prev
            or data is None
            or sha256(data).hexdigest() != digest
            or not accept(row[4:])
        ):
            return None
        prev = digest
    return rows, prev


def _linked_ledger(last: dict[str, tuple[str, int]]) -> tuple[int, str] | None:
    """:func:`linked_in_order` over the ledger, filling ``last`` from the columns the
    database generated from the bytes."""

    def recorded(rest: tuple[Any, ...]) -> bool:
        coi, head, version = rest
        last[coi] = (head, version)
        return True

    sql = (
        f"SELECT seq, hash, prev_hash, body, case_coi, case_head, case_version "
        f"FROM {LedgerEntry._meta.db_table} ORDER BY seq"
    )
    return linked_in_order(sql, recorded)


def _ledger_end(entries: int, last_hash: str) -> tuple[int, int | None, str]:
    """An intact ledger's entries and last hash against the head row (a cut ledger)."""
    head = LedgerHead.objects.filter(pk=1).first()
    if head is not None:
        if entries != head.seq:
            reason = f"ledger: the chain holds {entries} entries, the ledger recorded {head.seq}"
            return entries, min(entries, head.seq), reason
        if head.seq and last_hash != head.hash:
            reason = "ledger: the last entry's hash differs from the head recorded in the ledger"
            return entries, entries, reason
    return entries, None, ""


NOT_JSON = "the stored bytes are not JSON (the event was overwritten)"
EDITED = "the event's bytes do not hash to its recorded hash (edited)"
PREV_COLUMN = "the event's previous-hash column differs from its bytes"
OUT_OF_PLACE = (
    "the event is out of place: its bytes name another case or position "
    "(moved, reordered, or an event before it was removed)"
)
LINK = (
    "the entry does not carry the hash of the entry before it "
    "(an entry was edited, removed or moved)"
)


def _case_report(
    coi: str,
    count: int,
    row_bad: tuple[int, str] | None,
    link_bad: int | None,
    head: str,
    recorded: tuple[str, int] | None,
) -> CaseReport:
    """A case's verdict from its streamed rows, in the order the checks always had."""
    if row_bad is not None:
        return CaseReport.broken(coi, count, row_bad[0], row_bad[1])
    if recorded is None and count:
        reason = "the case has events but no ledger entry records them"
        return CaseReport.broken(coi, count, 0, reason)
    if link_bad is not None:
        return CaseReport(False, count, "", link_bad, LINK, coi=coi)
    if recorded is not None:
        if count != recorded[1]:
            reason = f"the chain holds {count} entries, the ledger recorded {recorded[1]}"
            return CaseReport(False, count, head, min(count, recorded[1]), reason, coi=coi)
        if head != recorded[0]:
            reason = "the last entry's hash differs from the head recorded in the ledger"
            return CaseReport(False, count, head, count, reason, coi=coi)
    return CaseReport(True, count, head, coi=coi)


def verify_ledger(*, screened: bool = False) -> NetworkReport:
    """Check the ledger's own chain, its head row, and every case against its last entry.

    One streamed pass over the ledger, then one over every event in (case, position) order:
    each row's bytes hashed once and parsed once, never a whole case list or the whole log in
    memory (:mod:`verification` runs the same passes, :func:`check_ledger` and
    :func:`check_cases`, with its own checks beside them).

    On PostgreSQL the ledger passes :mod:`chain_screen`'s screen first, and is checked entry
    by entry only when an entry is suspect. ``screened``: the events' pass is the screen's
    too, which compares each row in the database and parses nothing; only the cases it finds
    suspect are read and checked here row by row. The verdicts are the same
    (``tests/trust/test_chain_screen.py``).
    """
    with snapshot():
        return assemble(check_ledger(), check_cases(screened=screened))


CaseRows: TypeAlias = tuple[int, str, "tuple[int, str] | None", "int | None"]
"""A case's rows checked: how many, the last one's hash, the first row that contradicts its
own bytes (and why), the first row that does not link to the one before it."""

CaseRange: TypeAlias = "tuple[int, int] | None"
"""The cases a pass reads, by row id (first and last, both included); ``None`` for all."""


def _check_rows(
    coi: str,
    rows: list[tuple[Any, ...]],
    on_event: EventVisitor | None = None,
    on_columns: EventVisitor | None = None,
) -> CaseRows:
    """One case's stored rows (``_event_sql``'s columns), in position order, checked."""
    for _, checked in _check_chunks([rows], lambda case_id: coi, on_event, on_columns):
        return checked
    return 0, GENESIS, None, None


def _check_chunks(
    chunks: Iterable[list[tuple[Any, ...]]],
    coi_of: Callable[[int], str],
    on_event: EventVisitor | None = None,
    on_columns: EventVisitor | None = None,
) -> Iterator[tuple[str, CaseRows]]:
    """Event rows (``_event_sql``'s columns) in (case, position) order, fetched in chunks:
    each case's rows checked, yielded with its identifier when its last row is passed.

    One flat loop over every row, the hot path of verification: each row's bytes hashed
    once and decoded once (only their top-level fields). ``on_event`` sees every row whose
    bytes parse; ``on_columns`` only those whose shown columns are not written exactly as
    their bytes write them (it then compares them precisely): one tuple comparison a row
    instead of a call."""
    sha256, decode = hashlib.sha256, HEAD_DECODER.decode
    current: int | None = None
    coi = ""
    count = 0
    prev = GENESIS
    row_bad: tuple[int, str] | None = None
    link_bad: int | None = None
    for chunk in chunks:
        for row in chunk:
            case_id, seq, body, digest, prev_hash = row[:5]
            if case_id != current:
                if current is not None:
                    yield coi, (count, prev, row_bad, link_bad)
                current, coi = case_id, coi_of(case_id)
                count, prev, row_bad, link_bad = 0, GENESIS, None, None
            count += 1
            data = body if type(body) is bytes else stored_bytes(body)
            try:
                entry = decode(data) if data is not None else None
            except NOT_AN_ENTRY:
                entry = None
            if entry is None or data is None:
                if row_bad is None:
                    row_bad = (count - 1, NOT_JSON if data is not None else NOT_BYTES)
                continue
            if row_bad is None:
                if sha256(data).hexdigest() != digest:
                    row_bad = (count - 1, EDITED)
                elif entry.prev != prev_hash:
                    row_bad = (count - 1, PREV_COLUMN)
                elif entry.case != coi or entry.seq != seq or seq != count:
                    row_bad = (count - 1, OUT_OF_PLACE)
                elif link_bad is None and prev_hash != prev:
                    link_bad = count - 1
                prev = digest
            if on_columns is not None and row[5:] != (
                entry.type,
                entry.actor,
                entry.site,
                entry.occurred_at,
                entry.recorded_at or entry.occurred_at,
                entry.schema_version,
            ):
                on_columns(coi, row, entry)
            if on_event is not None:
                on_event(coi, row, entry)
    if current is not None:
        yield coi, (count, prev, row_bad, link_bad)


def _event_sql(where: str = "") -> str:
    """Event rows as the checks read them, ``where`` chooses which."""
    columns = [f"e.{name.strip()}" for name in EVENT_SCAN_COLUMNS.split(",")]
    # The times as the text isoformat() writes, not the drivers' converters (Django's
    # PostgreSQL one parses in Python): verification compares it with the bytes' text and
    # parses only when the two are written differently.
    columns = [iso_text(c) if c.endswith("_at") else c for c in columns]
    return (
        f"SELECT {', '.join(columns)} FROM {Event._meta.db_table} e "
        f"{where} ORDER BY e.case_id, e.seq"
    )


def _case_rows(coi: str) -> list[tuple[Any, ...]]:
    where = f"WHERE e.case_id = (SELECT id FROM {TherapyCase._meta.db_table} WHERE coi = %s)"
    with connection.cursor() as cursor:
        cursor.execute(_event_sql(where), [coi])
        return list(cursor.fetchall())


def case_identifiers(cases: CaseRange = None) -> dict[int, str]:
    """Each case's identifier by its row id (the events name their case by row id)."""
    query = TherapyCase.objects.all()
    if cases is not None:
        query = query.filter(pk__gte=cases[0], pk__lte=cases[1])
    return dict(query.values_list("pk", "coi").iterator(chunk_size=SCAN_CHUNK))


def check_cases(
    on_event: EventVisitor | None = None,
    on_columns: EventVisitor | None = None,
    *,
    screened: bool = False,
    cases: CaseRange = None,
) -> Iterator[tuple[str, CaseRows]]:
    """Every case that has events (of ``cases``), with its rows checked (or screened as
    sound).

    While the database generates each event's columns from its bytes as the schema defines
    (:func:`columns_generated`) and nothing else needs each row (no ``on_event``), a row is
    checked by its hash, position and link alone (:func:`_linked_cases`): its bytes need no
    decoding and its columns no comparing. A case that fails is read again and checked row by
    row, so the findings are those of the full checks
    (``tests/trust/test_generated_columns.py``)."""
    generated = on_event is None and columns_generated()
    sound_cases: Iterator[tuple[str, int, str, bool]]
    if screened:
        sound_cases = (
            (screen.coi, screen.events, screen.head, not screen.suspect)
            for screen in screen_cases(cases, generated)
        )
    elif generated:
        sound_cases = _linked_cases(cases)
    else:
        cois = case_identifiers(cases)
        where = "" if cases is None else "WHERE e.case_id BETWEEN %s AND %s"
        with connection.chunked_cursor() as cursor:
            cursor.execute(_event_sql(where), cases)
            chunks = iter(lambda: cursor.fetchmany(SCAN_CHUNK), [])
            yield from _check_chunks(chunks, cois.__getitem__, on_event, on_columns)
        return
    for coi, events, head, sound in sound_cases:
        if sound:
            yield coi, (events, head, None, None)
        else:
            yield coi, _check_rows(coi, _case_rows(coi), on_event, on_columns)


def _linked_cases(cases: CaseRange) -> Iterator[tuple[str, int, str, bool]]:
    """Each case's identifier, event count, last hash and whether every row's bytes hash to
    its hash, at its position, after the row before it: read from the bytes, the hash and the
    two columns the database generated from the bytes (``seq``, ``prev_hash``)."""
    sha256 = hashlib.sha256
    cois = case_identifiers(cases)
    where = "" if cases is None else "WHERE e.case_id BETWEEN %s AND %s"
    sql = (
        f"SELECT e.case_id, e.seq, e.body, e.hash, e.prev_hash FROM {Event._meta.db_table} e "
        f"{where} ORDER BY e.case_id, e.seq"
    )
    current: int | None = None
    count, prev, sound = 0, GENESIS, True
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, cases)
        while chunk := cursor.fetchmany(SCAN_CHUNK):
            for case_id, seq, body, digest, prev_hash in chunk:
                if case_id != current:
                    if current is not None:
                        yield cois[current], count, prev, sound
                    current, count, prev, sound = case_id, 0, GENESIS, True
                count += 1
                if sound and (
                    seq != count
                    or prev_hash != prev
                    or type(body) is not bytes
                    or sha256(body).hexdigest() != digest
                ):
                    sound = False
                prev = digest
    if current is not None:
        yield cois[current], count, prev, sound


LedgerChecked: TypeAlias = tuple[int, "int | None", str, dict[str, tuple[str, int]]]
"""The ledger checked: its entries, the first broken one and why, and each case's last
recorded head and event count."""


def check_ledger() -> LedgerChecked:
    """The ledger's chain and its head row (:func:`verify_ledger`'s first pass)."""
    last: dict[str, tuple[str, int]] = {}
    # On PostgreSQL the ledger's screen pays (the database hashes the entries itself); on
    # SQLite, while the database generates the columns from the bytes, each entry is checked
    # by its hash, position and link alone. A suspect entry sends the whole ledger to the
    # entry-by-entry check, which names it (and which, on SQLite, is faster than SQLite's
    # building the text of each entry's columns for a screen).
    generated = columns_generated(LedgerEntry)
    if connection.vendor == "postgresql":
        screened = screen_ledger(last, generated)
    else:
        screened = _linked_ledger(last) if generated else None
    if screened is None:
        last.clear()
        return (*_scan_ledger(last), last)
    return (*_ledger_end(*screened), last)


def assemble(ledger: LedgerChecked, cases: Iterable[tuple[str, CaseRows]]) -> NetworkReport:
    """The network's verdict: the ledger checked, and each case's rows against its last
    ledger entry (a case the ledger records whose events are gone is named too)."""
    ledger_entries, broken_at, reason, last = ledger
    broken_cases: list[CaseReport] = []
    seen: set[str] = set()
    for coi, (count, head, row_bad, link_bad) in cases:
        seen.add(coi)
        report = _case_report(coi, count, row_bad, link_bad, head, last.get(coi))
        if not report.ok:
            broken_cases.append(report)
    for coi in sorted(set(last) - seen):
        broken_cases.append(
            CaseReport.broken(
                coi,
                0,
                0,
                "the ledger records this case but its events are gone (the case was deleted)",
            )
        )
    broken_cases.sort(key=lambda report: report.coi)
    ok = broken_at is None and not broken_cases
    return NetworkReport(ok, ledger_entries, broken_at, reason, len(set(last) | seen), broken_cases)


def replay(case: TherapyCase | str, machine: CaseMachine | None = None) -> Any:
    """The case's state folded from its stored events (the projection is only a cache)."""
    machine = machine or journey_machine()
    case = resolve_case(case)
    state = machine.start(case.coi)
    for body in Event.objects.filter(case=case).order_by("seq").values_list("body", flat=True):
        data = stored_bytes(body)
        if data is None:
            raise RecordBroken(CONFLICT_BROKEN.format(coi=case.coi, reason=NOT_BYTES))
        state = fold(machine, state, DomainEvent.from_body(json.loads(data)))
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
