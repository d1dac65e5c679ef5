"""Screens over the stored chains: which cases' chains (and the ledger) certainly hold, in one
streamed pass each.

Verification proper (:mod:`cartflow.clinic.services.audit`) decodes each event's bytes in
Python and compares them field by field with its columns and its neighbours. That reads a
dozen columns a row and costs several times the SHA-256 of the bytes. The screen asks the
database to do the comparisons on its side, in one ordered pass:

- the bytes must begin with the canonical (RFC 8785) text of the row's ``actor`` and its
  case's identifier, and end with the canonical text of its clinical and recording times,
  the previous row's hash, its schema version, its position in the case (1, 2, 3...), its
  site and its type: the keys an event's bytes hold, in the order RFC 8785 sorts them;
- its ``prev_hash`` column must be the hash of the row before it, and its ``seq`` its
  position;
- the bytes must hash to the ``hash`` column: SHA-256 computed by PostgreSQL itself
  (``sha256()``), and on SQLite, which has no such function, by Python over the streamed
  bytes, the only column that crosses to Python for every row.

A row that passes all of them is exactly what :func:`audit._check_rows` accepts: its hash
proves the bytes are those written at append time, and the text the columns were compared
with is the text RFC 8785 writes for each field (the bytes were written by the canonical
encoder, which writes each key once). A row that fails any of them is only a *suspect*: it
may be a legitimate form the screen does not reproduce (an event written before its bytes
carried a recording time, a time whose microseconds are 0 on PostgreSQL, a control
character the database escapes differently); the case is then checked in full, row by row,
by the precise checks, which decide and name the break. The screen never clears a row the
precise checks would refuse; at worst it sends a sound case to them.

The pass yields one :class:`CaseScreen` per case (its identifier, event count, last hash and
whether any row was suspect), so that the ledger's comparison needs no row in Python.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection

from cartflow.clinic.models import Event, LedgerEntry, TherapyCase
from cartflow.domain.hashchain import GENESIS

STREAM_CHUNK = 5000


@dataclass(frozen=True)
class CaseScreen:
    """One case as the screen saw it."""

    coi: str
    events: int
    head: str
    """The hash of its last stored event (the ``hash`` column)."""
    suspect: bool
    """Some row failed a comparison: the case must be checked in full."""


def _quoted(vendor: str, expression: str) -> str:
    """The JSON text of a text value, as the database writes it."""
    return f"to_json({expression})::text" if vendor == "postgresql" else f"json_quote({expression})"


def iso_text(column: str, vendor: str | None = None) -> str:
    """The text Python's ``isoformat()`` writes of a UTC time column, in SQL. On PostgreSQL
    the microseconds are always written (``isoformat()`` leaves out ``.000000``): a time on
    the whole second then differs, and the caller's exact check decides."""
    if (vendor or connection.vendor) == "postgresql":
        return (
            f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') || '+00:00'"
        )
    # SQLite keeps Django's text: "2026-01-02 03:04:05.678901", in UTC, without its offset.
    return f"replace({column}, ' ', 'T') || '+00:00'"


def _bytes(vendor: str, text: str) -> str:
    return f"convert_to({text}, 'UTF8')" if vendor == "postgresql" else f"CAST({text} AS BLOB)"


def screen_sql(vendor: str, cases: bool = False, generated: bool = False) -> str:
    """The screen's query. On SQLite, per row: its bytes (for Python to hash), whether its
    bytes and columns agree (``shape``), and on a case's last row its identifier and
    position. On PostgreSQL the hash is compared too and a row per case comes back
    (:func:`_cases_by_the_database`). ``cases``: only the cases whose row ids are between two
    parameters (both included). ``generated``:
    the database generates the columns from the bytes (``generated_columns``), so only the
    hash, position and link are compared."""
    quoted = _quoted(vendor, "{}").format
    head = (
        "'{\"actor\":' || " + quoted("e.actor") + " || ',\"case\":' || "
        + quoted("c.coi") + " || ',\"data\":'"
    )
    tail = (
        "',\"occurred_at\":\"' || " + iso_text("e.occurred_at", vendor)
        + " || '\",\"prev\":\"' || e.prev_hash"
        + " || '\",\"recorded_at\":\"' || " + iso_text("e.recorded_at", vendor)
        + " || '\",\"schema_version\":' || e.schema_version"
        + " || ',\"seq\":' || e.seq"
        + " || ',\"site\":' || " + quoted("e.site")
        + " || ',\"type\":' || " + quoted("e.type") + " || '}'"
    )
    before = f"coalesce(lag(e.hash) OVER w, '{GENESIS}')"
    if vendor == "postgresql":
        starts = "substr(p.body, 1, octet_length(p.head)) = p.head"
        ends = "substr(p.body, octet_length(p.body) - octet_length(p.tail) + 1) = p.tail"
        hashed = " AND encode(sha256(p.body), 'hex') = p.hash"
    else:
        starts = "substr(p.body, 1, length(p.head)) = p.head"
        ends = "substr(p.body, -length(p.tail)) = p.tail"
        hashed = ""
    texts = "" if generated else f", {_bytes(vendor, head)} AS head, {_bytes(vendor, tail)} AS tail"
    within = "WHERE e.case_id BETWEEN %s AND %s " if cases else ""
    window = "WINDOW w AS (PARTITION BY e.case_id ORDER BY e.seq)"
    # (a body that is not JSON has NULL generated columns: not placed, never unknown)
    placed = (
        f"coalesce(e.seq = row_number() OVER w AND e.prev_hash = {before}, false) AS placed"
    )
    shape = f"(p.placed{hashed})" if generated else f"(p.placed AND {starts} AND {ends}{hashed})"
    if vendor == "postgresql":
        return _cases_by_the_database(placed, texts, within, window, shape)
    rows = (
        f"SELECT e.case_id, e.seq, e.body, e.hash, c.coi, {placed}, "
        f"lead(e.id) OVER w IS NULL AS last, row_number() OVER w AS position{texts} "
        f"FROM {Event._meta.db_table} e JOIN {TherapyCase._meta.db_table} c "
        f"ON c.id = e.case_id {within}{window}"
    )
    return (
        f"SELECT p.body, p.hash, {shape} AS shape, "
        f"CASE WHEN p.last THEN p.coi END, CASE WHEN p.last THEN p.position END "
        f"FROM ({rows}) p ORDER BY p.case_id, p.seq"
    )


def _cases_by_the_database(placed: str, texts: str, within: str, window: str, shape: str) -> str:
    """PostgreSQL: a row per case (its identifier, events, the hash of its last event, and
    whether every row passed), the rows screened and counted on the database's side. The last
    event is found by the ``(case_id, seq)`` index once the count is known, rather than by a
    second window over every row (measured: a tenth faster)."""
    events, cases = Event._meta.db_table, TherapyCase._meta.db_table
    # Only the texts compared with the bytes need the case's identifier on every row.
    joined = f"JOIN {cases} c ON c.id = e.case_id " if texts else ""
    rows = (
        f"SELECT e.case_id, e.seq, e.body, e.hash, {placed}{texts} "
        f"FROM {events} e {joined}{within}{window}"
    )
    return (
        f"SELECT c.coi, s.events, h.hash, s.sound FROM ("
        # (a row whose comparison is unknown, a column NULL, counts as failed: bool_and alone
        # would pass over it)
        f"SELECT p.case_id, count(*) AS events, max(p.seq) AS last, "
        f"bool_and(coalesce({shape}, false)) AS sound "
        f"FROM ({rows}) p GROUP BY p.case_id) s "
        f"JOIN {cases} c ON c.id = s.case_id "
        # (a table whose (case, seq) is not unique has unsound cases: one row for each)
        f"LEFT JOIN LATERAL (SELECT hash FROM {events} "
        f"WHERE case_id = s.case_id AND seq = s.last LIMIT 1) h ON true "
        f"ORDER BY c.coi"
    )


def screen_cases(
    cases: tuple[int, int] | None = None, generated: bool = False
) -> Iterator[CaseScreen]:
    """Every case that has events (whose row id is within ``cases``), screened (see the
    module's doc); run inside :func:`audit.snapshot` so that the pass sees one moment."""
    vendor = connection.vendor
    if vendor == "postgresql":
        # A row per case comes back: no server-side cursor, whose plan would be chosen for
        # its first rows (measured: half as slow again as the plan for all of them).
        with connection.cursor() as cursor:
            cursor.execute(screen_sql(vendor, cases is not None, generated), cases)
            yield from _screened_by_the_database(cursor)
        return
    with connection.chunked_cursor() as cursor:
        cursor.execute(screen_sql(vendor, cases is not None, generated), cases)
        yield from _screened_here(cursor)


def _screened_here(cursor: Any) -> Iterator[CaseScreen]:
    """SQLite: every row's bytes hashed here; the rows come in (case, position) order."""
    sha256 = hashlib.sha256
    fetch = cursor.fetchmany
    suspect = False
    while rows := fetch(STREAM_CHUNK):
        for body, digest, shape, last_of, position in rows:
            if not shape or type(body) is not bytes or sha256(body).hexdigest() != digest:
                suspect = True
            if last_of is not None:
                yield CaseScreen(last_of, position, digest, suspect)
                suspect = False


def _screened_by_the_database(cursor: Any) -> Iterator[CaseScreen]:
    """PostgreSQL: a row per case comes back (:func:`_cases_by_the_database`)."""
    while rows := cursor.fetchmany(STREAM_CHUNK):
        for coi, events, head, sound in rows:
            yield CaseScreen(coi, int(events), head or "", not sound)


def _ledger_shape(vendor: str, generated: bool) -> str:
    """Whether a ledger entry (``l``, over the window ``w`` in order) is in place, linked,
    and (unless the database generates its columns from its bytes) exactly the canonical
    text of its columns (an entry's bytes hold nothing else); on PostgreSQL hashed too."""
    text = (
        "'{\"case\":' || " + _quoted(vendor, "l.case_coi") + " || ',\"head\":\"' || l.case_head"
        + " || '\",\"prev\":\"' || l.prev_hash || '\",\"seq\":' || l.seq"
        + " || ',\"version\":' || l.case_version || '}'"
    )
    shape = (
        f"l.seq = row_number() OVER w "
        f"AND l.prev_hash = coalesce(lag(l.hash) OVER w, '{GENESIS}')"
    )
    if not generated:
        shape += f" AND l.body = {_bytes(vendor, text)}"
    if vendor == "postgresql":
        shape += " AND encode(sha256(l.body), 'hex') = l.hash"
    return shape


def ledger_screen_sql(vendor: str, generated: bool = False) -> str:
    """Per ledger entry, in order: :func:`_ledger_shape`, with its case, head and version;
    on SQLite the bytes sent for Python to hash. ``generated``: the database generates the
    columns from the bytes (``generated_columns``), which need not be compared."""
    sent = "l.hash" if vendor == "postgresql" else "l.body, l.hash"
    return (
        f"SELECT {sent}, ({_ledger_shape(vendor, generated)}) AS shape, l.case_coi, "
        f"l.case_head, l.case_version "
        f"FROM {LedgerEntry._meta.db_table} l WINDOW w AS (ORDER BY l.seq) ORDER BY l.seq"
    )


def screen_ledger(
    last: dict[str, tuple[str, int]], generated: bool = False
) -> tuple[int, str] | None:
    """The ledger's entries and its last hash when every entry passes the screen, filling
    ``last`` with each case's last head and version; ``None`` at the first suspect entry
    (``last`` is then incomplete: the caller checks the ledger in full)."""
    vendor = connection.vendor
    if vendor == "postgresql" and generated:
        return _ledger_by_the_database(last)
    sha256 = hashlib.sha256
    entries, head = 0, GENESIS
    with connection.chunked_cursor() as cursor:
        cursor.execute(ledger_screen_sql(vendor, generated))
        while rows := cursor.fetchmany(STREAM_CHUNK):
            for row in rows:
                if vendor == "postgresql":
                    digest, shape, coi, case_head, version = row
                else:
                    body, digest, shape, coi, case_head, version = row
                    shape = (
                        shape and type(body) is bytes and sha256(body).hexdigest() == digest
                    )
                if not shape:
                    return None
                last[coi] = (case_head, version)
                entries += 1
                head = digest
    return entries, head


def _ledger_by_the_database(last: dict[str, tuple[str, int]]) -> tuple[int, str] | None:
    """PostgreSQL, the columns generated from the bytes: the database screens every entry
    and answers in one row (how many, how many suspect, the last hash); each case's last
    head and version are then read from its last entry (the ``(case_coi, seq)`` index), so
    that 22,000 entries cost Python a row per case, not a row per entry."""
    table = LedgerEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), count(*) FILTER (WHERE NOT shape), "
            f"(SELECT hash FROM {table} ORDER BY seq DESC LIMIT 1) "
            f"FROM (SELECT coalesce({_ledger_shape('postgresql', generated=True)}, false) "
            f"AS shape FROM {table} l WINDOW w AS (ORDER BY l.seq)) screened"
        )
        entries, suspect, head = cursor.fetchone()
        if suspect:
            return None
        # each case's entry with no later one: an anti-join on the (case_coi, seq) index,
        # twice as fast as sorting every entry by case (DISTINCT ON)
        cursor.execute(
            f"SELECT l.case_coi, l.case_head, l.case_version FROM {table} l "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} n "
            f"WHERE n.case_coi = l.case_coi AND n.seq > l.seq)"
        )
        for coi, case_head, version in cursor.fetchall():
            last[coi] = (case_head, version)
    return int(entries), str(head) if entries else GENESIS
