"""The few SQL statements of an append, per database, with as few round trips as possible.

An append is, on PostgreSQL, four round trips: BEGIN; one SELECT that locks the ledger head
and the case's projection row and reads both; one statement whose data-modifying CTEs insert
the events, update the projection, insert the ledger entry, move the ledger head and insert
the audit row; COMMIT. On SQLite the statements run one by one (it is in-process: a statement
costs no round trip) inside a BEGIN IMMEDIATE transaction, which holds the write lock that
SQLite's missing row locks cannot.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection

from cartflow.clinic.models import AuditRow, CaseProjection, Event, LedgerEntry, LedgerHead
from cartflow.clinic.services.entry_head import stored_bytes

EVENT = Event._meta.db_table
PROJECTION = CaseProjection._meta.db_table
LEDGER = LedgerEntry._meta.db_table
HEAD = LedgerHead._meta.db_table
AUDIT = AuditRow._meta.db_table

EVENT_COLUMNS = (
    "case_id, seq, type, schema_version, occurred_at, recorded_at, actor, site, body, hash, "
    "prev_hash"
)
LEDGER_COLUMNS = "seq, case_coi, case_head, case_version, body, hash, prev_hash"
AUDIT_COLUMNS = (
    "at, user_id, username, operation, case_coi, request_id, ip, user_agent, summary, "
    "seq, hash, prev_hash"
)


@dataclass(frozen=True)
class Locked:
    """What an append reads under its lock: the ledger head and the case's projection."""

    ledger_seq: int
    ledger_hash: str
    state: dict[str, Any]
    version: int
    head: str
    step: str
    audit_seq: int = 0
    audit_hash: str = ""


@dataclass(frozen=True)
class EventRow:
    seq: int
    type: str
    schema_version: int
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    site: str
    body: bytes
    hash: str
    prev_hash: str


@dataclass(frozen=True)
class LedgerRow:
    seq: int
    case_coi: str
    case_head: str
    case_version: int
    body: bytes
    hash: str
    prev_hash: str


@dataclass(frozen=True)
class AuditValues:
    at: datetime
    user_id: int | None
    username: str
    operation: str
    case_coi: str
    request_id: str
    ip: str
    user_agent: str
    summary: dict[str, Any]
    seq: int | None = None
    hash: str = ""
    prev_hash: str = ""


@dataclass(frozen=True)
class ProjectionValues:
    step: str
    state: dict[str, Any]
    version: int
    head: str
    active: bool
    updated_at: datetime


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _dt(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def lock_case(case_id: int) -> Locked | None:
    """Lock the ledger head and the case's projection; ``None`` if the case does not exist.

    On PostgreSQL, ``FOR UPDATE`` locks the rows in the order of the FROM list: every append
    takes the ledger head first, so two appends never wait on each other crosswise, and a
    writer that waited reads the rows as the winner left them. On SQLite the transaction
    already holds the database's write lock.
    """
    postgres = _postgres()
    sql = (
        f"SELECT h.seq, h.hash, p.state, p.version, p.head, p.step, h.audit_seq, h.audit_hash "
        f"FROM {HEAD} h, {PROJECTION} p WHERE h.id = 1 AND p.case_id = %s"
        + (" FOR UPDATE" if postgres else "")
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [case_id])
        row = cursor.fetchone()
    if row is None:
        return None
    return Locked(
        int(row[0]),
        str(row[1]),
        _json(row[2]),
        int(row[3]),
        str(row[4]),
        str(row[5]),
        int(row[6]),
        str(row[7]),
    )


@dataclass(frozen=True)
class Chain:
    """A case's stored events in order, and where the ledger last recorded it to end."""

    rows: list[tuple[int, bytes, str, str]]
    ledger_head: tuple[str, int] | None


def case_chain(case_id: int, coi: str) -> Chain:
    """The case's events (seq, bytes, hash, previous hash) and its last ledger entry.

    Call it after :func:`lock_case`: it is a statement of its own, so on PostgreSQL it sees
    everything the writer before us committed (a statement that waited on a row lock keeps
    its older view of the other tables). One round trip: the one-row left join yields the
    ledger's entry even for a case whose events are all gone.
    """
    sql = (
        f"SELECT l.case_head, l.case_version, e.seq, e.body, e.hash, e.prev_hash "
        f"FROM (SELECT 1 AS one) o "
        f"LEFT JOIN (SELECT case_head, case_version FROM {LEDGER} WHERE case_coi = %s "
        f"ORDER BY seq DESC LIMIT 1) l ON 1 = 1 "
        f"LEFT JOIN {EVENT} e ON e.case_id = %s ORDER BY e.seq"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [coi, case_id])
        found = cursor.fetchall()
    ledger_head = (str(found[0][0]), int(found[0][1])) if found and found[0][0] else None
    # A body that is not bytes (text written over it by hand, on SQLite) is read as no bytes
    # at all: its hash then differs, and the append refuses the broken record.
    rows = [
        (int(r[2]), stored_bytes(r[3]) or b"", str(r[4]), str(r[5]))
        for r in found
        if r[2] is not None
    ]
    return Chain(rows, ledger_head)


def _event_params(case_id: int, event: EventRow) -> list[Any]:
    return [
        case_id,
        event.seq,
        event.type,
        event.schema_version,
        _dt(event.occurred_at),
        _dt(event.recorded_at),
        event.actor,
        event.site,
        event.body,
        event.hash,
        event.prev_hash,
    ]


def _ledger_params(entry: LedgerRow) -> list[Any]:
    return [
        entry.seq,
        entry.case_coi,
        entry.case_head,
        entry.case_version,
        entry.body,
        entry.hash,
        entry.prev_hash,
    ]


def _audit_params(audit: AuditValues) -> list[Any]:
    return [
        _dt(audit.at),
        audit.user_id,
        audit.username,
        audit.operation,
        audit.case_coi,
        audit.request_id,
        audit.ip,
        audit.user_agent,
        json.dumps(audit.summary, default=str),
        audit.seq,
        audit.hash,
        audit.prev_hash,
    ]


def _projection_params(case_id: int, projection: ProjectionValues) -> list[Any]:
    return [
        projection.step,
        json.dumps(projection.state),
        projection.version,
        projection.head,
        projection.active,
        _dt(projection.updated_at),
        case_id,
    ]


def write_append(
    case_id: int,
    events: Sequence[EventRow],
    projection: ProjectionValues,
    ledger: LedgerRow,
    audit: AuditValues,
) -> list[int]:
    """Write one append; return the new events' row ids in order."""
    if _postgres():
        return _write_postgres(case_id, events, projection, ledger, audit)
    return _write_sqlite(case_id, events, projection, ledger, audit)


def _write_postgres(
    case_id: int,
    events: Sequence[EventRow],
    projection: ProjectionValues,
    ledger: LedgerRow,
    audit: AuditValues,
) -> list[int]:
    # One statement: the data-modifying CTEs all run to completion whether or not the final
    # SELECT reads them, and the statement is one round trip instead of five.
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(events))
    params: list[Any] = []
    for event in events:
        params.extend(_event_params(case_id, event))
    params.extend(_projection_params(case_id, projection))
    params.extend(_ledger_params(ledger))
    params.extend([ledger.seq, ledger.hash, audit.seq, audit.hash])
    params.extend(_audit_params(audit))
    sql = (
        f"WITH ev AS (INSERT INTO {EVENT} ({EVENT_COLUMNS}) VALUES {values} RETURNING id, seq), "
        f"pr AS (UPDATE {PROJECTION} SET step = %s, state = %s::jsonb, version = %s, head = %s, "
        f"active = %s, updated_at = %s WHERE case_id = %s), "
        f"le AS (INSERT INTO {LEDGER} ({LEDGER_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s)), "
        f"lh AS (UPDATE {HEAD} SET seq = %s, hash = %s, audit_seq = %s, audit_hash = %s "
        f"WHERE id = 1), "
        f"au AS (INSERT INTO {AUDIT} ({AUDIT_COLUMNS}) "
        f"VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s)) "
        f"SELECT id FROM ev ORDER BY seq"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [int(row[0]) for row in cursor.fetchall()]


def _write_sqlite(
    case_id: int,
    events: Sequence[EventRow],
    projection: ProjectionValues,
    ledger: LedgerRow,
    audit: AuditValues,
) -> list[int]:
    ids: list[int] = []
    with connection.cursor() as cursor:
        for event in events:
            cursor.execute(
                f"INSERT INTO {EVENT} ({EVENT_COLUMNS}) "
                f"VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                _event_params(case_id, event),
            )
            ids.append(int(cursor.fetchone()[0]))
        cursor.execute(
            f"UPDATE {PROJECTION} SET step = %s, state = %s, version = %s, head = %s, "
            f"active = %s, updated_at = %s WHERE case_id = %s",
            _projection_params(case_id, projection),
        )
        cursor.execute(
            f"INSERT INTO {LEDGER} ({LEDGER_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            _ledger_params(ledger),
        )
        cursor.execute(
            f"UPDATE {HEAD} SET seq = %s, hash = %s, audit_seq = %s, audit_hash = %s WHERE id = 1",
            [ledger.seq, ledger.hash, audit.seq, audit.hash],
        )
        cursor.execute(
            f"INSERT INTO {AUDIT} ({AUDIT_COLUMNS}) "
            f"VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            _audit_params(audit),
        )
    return ids
