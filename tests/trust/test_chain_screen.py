"""The database's screen of the chains (``chain_screen``) clears exactly what the checks clear.

``verify_everything(replay=False)`` on PostgreSQL lets the database compare each event's
columns with its bytes and compute its SHA-256, and reads in full only the cases it finds
suspect. These tests hold the screen to the row-by-row checks on both databases: on a sound
network it clears every case and the whole ledger (so the fast path is the one taken), and
after any one edit of any column of any event or ledger row, or a removed row, the findings
with the screen equal the findings without it (the ledger, screened on every verification,
must then fail its screen, so that its entry-by-entry check names the break).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cartflow.clinic import services
from cartflow.clinic.models import Event, LedgerEntry, TherapyCase
from cartflow.clinic.services import audit, verification
from cartflow.clinic.services.chain_screen import screen_cases, screen_ledger
from cartflow.clinic.services.verification import verify_everything
from tests.clinic.fixtures import columns_made_plain, open_toy_case, triggers_dropped
from tests.clinic.toy import TOY, AddNote

pytestmark = pytest.mark.django_db


@pytest.fixture
def network(case: TherapyCase, patient: Any, physician: Any, center: Any) -> list[TherapyCase]:
    """Two cases of several events, one written by a user whose name is not ASCII and holds a
    quote (the screen must write each field's JSON text as RFC 8785 does)."""
    writer = get_user_model().objects.create_user('zhāng-"医生"', password="x")
    services.append(case, AddNote("a note", count=3), acting_user=physician, machine=TOY)
    other = open_toy_case(patient, physician, "second").case
    services.append(other, AddNote('ü "quoted" \\ note', count=2), acting_user=writer, machine=TOY)
    return [case, other]


def _findings(screened: bool) -> list[tuple[str, str, str]]:
    report = verify_everything(replay=False, screened=screened)
    return sorted((f.kind, f.where, f.detail) for f in report.findings)


def test_a_sound_network_passes_the_screen_without_a_suspect(network: list[TherapyCase]) -> None:
    screened = list(screen_cases())
    assert sorted(s.coi for s in screened) == sorted(c.coi for c in network)
    assert not [s.coi for s in screened if s.suspect]
    assert {s.coi: s.events for s in screened} == {
        c.coi: Event.objects.filter(case=c).count() for c in network
    }
    last: dict[str, tuple[str, int]] = {}
    assert screen_ledger(last) == (
        LedgerEntry.objects.count(),
        LedgerEntry.objects.order_by("-seq").values_list("hash", flat=True).first(),
    )
    assert verify_everything(replay=False, screened=True).ok


def test_the_screen_and_the_replay_exclude_each_other(network: list[TherapyCase]) -> None:
    with pytest.raises(ValueError, match="exclude"):
        verify_everything(TOY, screened=True)


def _flipped(column: str) -> str:
    """SQL for ``column`` (a hex hash) with its first digit changed, whatever it was."""
    return f"CASE WHEN substr({column}, 1, 1) = 'f' THEN 'e' ELSE 'f' END || substr({column}, 2)"


EVENT_EDITS: dict[str, str] = {
    "actor": "UPDATE clinic_event SET actor = 'someone-else' WHERE id = %s",
    "type": "UPDATE clinic_event SET type = 'note.removed' WHERE id = %s",
    "site": "UPDATE clinic_event SET site = 'elsewhere' WHERE id = %s",
    "schema_version": "UPDATE clinic_event SET schema_version = 2 WHERE id = %s",
    "prev_hash": f"UPDATE clinic_event SET prev_hash = {_flipped('prev_hash')} WHERE id = %s",
    "hash": f"UPDATE clinic_event SET hash = {_flipped('hash')} WHERE id = %s",
    "seq": "UPDATE clinic_event SET seq = seq + 100 WHERE id = %s",
    "removed": "DELETE FROM clinic_event WHERE id = %s",
}
LEDGER_EDITS: dict[str, str] = {
    "case_head": f"UPDATE clinic_ledgerentry SET case_head = {_flipped('case_head')} "
    "WHERE id = %s",
    "case_version": "UPDATE clinic_ledgerentry SET case_version = case_version + 1 WHERE id = %s",
    "prev_hash": f"UPDATE clinic_ledgerentry SET prev_hash = {_flipped('prev_hash')} "
    "WHERE id = %s",
    "removed": "DELETE FROM clinic_ledgerentry WHERE id = %s",
}


def _tamper(sql: str, params: list[Any]) -> None:
    with triggers_dropped(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def _event_tampered(edit: str, pk: int) -> None:
    """An event column edited: one the database generates from the bytes only after its
    generation was dropped (the table's definition changed)."""
    if edit in ("hash", "removed"):
        _tamper(EVENT_EDITS[edit], [pk])
        return
    moved: list[Any] = []
    if edit in ("occurred_at", "recorded_at"):
        moved = [getattr(Event.objects.get(pk=pk), edit) - timedelta(seconds=1)]
        sql = f"UPDATE clinic_event SET {edit} = %s WHERE id = %s"
    else:
        sql = EVENT_EDITS[edit]
    with columns_made_plain(edit), connection.cursor() as cursor:
        cursor.execute(sql, [*moved, pk])


def _thorough_findings() -> list[tuple[str, str, str]]:
    """The findings when every row is decoded and its columns compared (as if the database
    no longer vouched for its generated columns)."""
    with (
        mock.patch.object(audit, "columns_generated", lambda model=None: False),
        mock.patch.object(verification, "columns_generated", lambda model=None: False),
    ):
        return _findings(screened=False)


def _body_edited(table: str, pk: int, at: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT body FROM {table} WHERE id = %s", [pk])
        body = bytes(cursor.fetchone()[0])
    at %= len(body)
    edited = body[:at] + bytes([body[at] ^ 0x01]) + body[at + 1 :]
    _tamper(f"UPDATE {table} SET body = %s WHERE id = %s", [edited, pk])


@pytest.mark.parametrize("column", ["actor", "type", "site"])
def test_a_column_emptied_in_the_middle_of_a_case_is_found_by_the_screen(
    network: list[TherapyCase], column: str
) -> None:
    # NULL compares as unknown, neither equal nor different: the screen must count it failed
    first = Event.objects.filter(case=network[0]).order_by("seq").first()
    assert first is not None
    with transaction.atomic():
        with columns_made_plain(column), connection.cursor() as cursor:
            cursor.execute(f"UPDATE clinic_event SET {column} = NULL WHERE id = %s", [first.pk])
        suspects = [s.coi for s in screen_cases() if s.suspect]
        screened = _findings(screened=True)
        checked = _findings(screened=False)
        thorough = _thorough_findings()
        transaction.set_rollback(True)
    assert suspects == [network[0].coi]
    assert thorough, f"an emptied {column} went unnoticed"
    assert screened == checked == thorough


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    table=st.sampled_from(["event", "ledger"]),
    edit=st.sampled_from(
        sorted({*EVENT_EDITS, *LEDGER_EDITS, "occurred_at", "recorded_at", "body"})
    ),
    row=st.integers(min_value=0, max_value=1_000),
    at=st.integers(min_value=0, max_value=10_000),
)
def test_after_any_one_edit_the_screen_finds_what_the_checks_find(
    network: list[TherapyCase], table: str, edit: str, row: int, at: int
) -> None:
    model = Event if table == "event" else LedgerEntry
    pks = list(model.objects.order_by("pk").values_list("pk", flat=True))
    pk = pks[row % len(pks)]
    with transaction.atomic():
        if edit == "body":
            _body_edited(model._meta.db_table, pk, at)
        elif table == "event" and edit in {*EVENT_EDITS, "occurred_at", "recorded_at"}:
            _event_tampered(edit, pk)
        elif table == "ledger" and edit == "removed":
            _tamper(LEDGER_EDITS[edit], [pk])
        elif table == "ledger" and edit in LEDGER_EDITS:
            # generated from the bytes: only a changed table definition frees the column
            with columns_made_plain(edit, model=LedgerEntry), connection.cursor() as cursor:
                cursor.execute(LEDGER_EDITS[edit], [pk])
        else:
            transaction.set_rollback(True)
            return
        screened = _findings(screened=True)
        checked = _findings(screened=False)
        thorough = _thorough_findings()
        # the ledger is always screened first: an edited entry must not pass the screen
        ledger_passed = screen_ledger({}) is not None
        transaction.set_rollback(True)
    if table == "ledger" and edit != "removed":
        # (a removed last entry leaves a sound, shorter chain: the head row names the cut)
        assert not ledger_passed
    assert thorough, f"the edit {table}.{edit} went unnoticed"
    assert screened == checked == thorough
