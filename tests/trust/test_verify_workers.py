"""Verification split into parts, and run in several processes, finds what one pass finds.

``verify_everything`` splits the record into parts (the audit trail, the ledger, ranges of
cases, the rest) that ``forked_parts`` runs side by side. The same tampering must give the
same report however the record is split and wherever the parts run:

- split into ranges of cases, run here (both databases, inside the test's transaction);
- run in forked processes on PostgreSQL (committed rows: a transactional test);
- ``cartflow audit verify --workers 2`` against ``--workers 1`` on a SQLite file seeded with
  the demo network, in processes of their own (the test database is in memory there).
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cartflow.clinic import services
from cartflow.clinic.models import AuditRow, CaseProjection, LedgerEntry, TherapyCase
from cartflow.clinic.services import forked_parts, verification
from cartflow.clinic.services.verification import VerifyJob, verify_everything
from cartflow.clinic.triggers import drop_statements
from tests.clinic.conftest import DB
from tests.clinic.fixtures import columns_made_plain, open_toy_case, triggers_dropped
from tests.clinic.toy import TOY, AddNote

# Each one an edit a database administrator could make, of one row of the network built
# below; ``{pk}`` is a case's row id.
TAMPERING = {
    "event body": "UPDATE clinic_event SET body = {body} WHERE case_id = {pk} AND seq = 2",
    "event actor": "UPDATE clinic_event SET actor = 'x' WHERE case_id = {pk} AND seq = 1",
    "event removed": "DELETE FROM clinic_event WHERE case_id = {pk} AND seq = 3",
    "ledger entry": "UPDATE clinic_ledgerentry SET case_version = case_version + 1 "
    "WHERE seq = (SELECT max(seq) FROM clinic_ledgerentry)",
    "cache": "UPDATE clinic_caseprojection SET step = 'ltfu' WHERE case_id = {pk}",
    "audit row": "UPDATE clinic_auditrow SET ip = '10.9.9.9' WHERE seq = 3",
}


def _network(cases: int, patient: Any, user: Any) -> list[TherapyCase]:
    opened = []
    for n in range(cases):
        case = open_toy_case(patient, user, f"case {n}").case
        for k in range(2 + n % 3):
            services.append(case, AddNote(f"note {n}.{k}"), acting_user=user, machine=TOY)
        opened.append(case)
    return opened


def _tamper(name: str, case: TherapyCase) -> None:
    body = "X'7b7d'" if connection.vendor == "sqlite" else "'\\x7b7d'::bytea"
    sql = TAMPERING[name].format(pk=case.pk, body=body)
    # Columns generated from the bytes: their generation must be dropped first.
    freed = (
        columns_made_plain("actor")
        if name == "event actor"
        else columns_made_plain("case_version", model=LedgerEntry)
        if name == "ledger entry"
        else columns_made_plain("ip", model=AuditRow)
        if name == "audit row"
        else triggers_dropped()
    )
    with freed, connection.cursor() as cursor:
        cursor.execute(sql)


def _in_parts(ranges: int, machine: Any = TOY) -> dict[str, Any]:
    job = VerifyJob(machine, False, ranges)
    return job.report([job.run_part(index) for index in range(len(job.parts))]).to_dict()


@pytest.fixture
def network(patient: Any, physician: Any) -> list[TherapyCase]:
    return _network(5, patient, physician)


@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    tampering=st.lists(st.sampled_from(sorted(TAMPERING)), max_size=2, unique=True),
    which=st.integers(min_value=0, max_value=4),
    ranges=st.integers(min_value=2, max_value=7),
)
def test_parts_find_what_one_pass_finds(
    network: list[TherapyCase], tampering: list[str], which: int, ranges: int
) -> None:
    with transaction.atomic():
        for name in tampering:
            _tamper(name, network[which])
        whole = verify_everything(TOY, workers=1).to_dict()
        parts = _in_parts(ranges)
        cleared = verify_everything(workers=1, replay=False, screened=False).to_dict()
        cleared_parts = _in_parts(ranges, None)
        transaction.set_rollback(True)
    assert parts == whole
    assert cleared_parts == cleared
    assert whole["ok"] is (not tampering), whole
    kinds = {"event-chain", "ledger-chain", "cache", "audit-chain", "event-column"}
    assert set(whole["kinds"]) <= kinds


@pytest.mark.django_db
def test_a_network_split_into_more_ranges_than_cases_is_still_whole(
    patient: Any, physician: Any
) -> None:
    _network(2, patient, physician)
    assert _in_parts(50) == verify_everything(TOY, workers=1).to_dict()
    assert _in_parts(50)["checked"]["cases"] == 2


@pytest.mark.django_db
def test_a_cut_chain_is_named_without_its_cache_beside_it(network: list[TherapyCase]) -> None:
    # The case's remaining rows are intact, so its part compares the cache (which still
    # counts the cut event); only the ledger's pass shows the chain was cut.
    case = network[0]
    last = case.events.order_by("-seq").first()
    assert last is not None
    with triggers_dropped(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM clinic_event WHERE id = %s", [last.pk])
    for report in (verify_everything(TOY, workers=1).to_dict(), _in_parts(3)):
        assert report["kinds"] == ["event-chain"], report["findings"]


@pytest.mark.django_db
def test_a_verification_inside_a_transaction_stays_in_this_process(
    patient: Any, physician: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The test's rows are not committed: a forked process would not see them.
    _network(1, patient, physician)
    forked: list[int] = []
    monkeypatch.setattr(
        verification, "run_parts", lambda part, count, workers: forked.append(workers)
    )
    assert forked_parts.default_workers() == 1
    assert verify_everything(TOY, workers=4).ok
    assert forked == []


class _Committed:
    """A connection outside any transaction, on a server (what forked readers need)."""

    in_atomic_block = False
    vendor = "postgresql"


def _threads(monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    """Say how many threads run here (the suite's own may run: a browser test's server)."""
    monkeypatch.setattr(forked_parts, "threading", SimpleNamespace(active_count=lambda: count))


def test_no_reader_is_forked_beside_another_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forked_parts, "connection", _Committed())
    _threads(monkeypatch, 1)
    assert forked_parts.can_fork_readers()
    _threads(monkeypatch, 2)
    assert not forked_parts.can_fork_readers()
    assert forked_parts.default_workers() == 1


@pytest.mark.skipif(DB != "postgres", reason="forked readers need committed rows on a server")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_forked_workers_find_what_one_pass_finds(
    patient: Any, physician: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = _network(6, patient, physician)
    _threads(monkeypatch, 1)
    assert forked_parts.can_fork_readers()
    intact = verify_everything(TOY, workers=1).to_dict()
    assert verify_everything(TOY, workers=2).to_dict() == intact
    assert intact["ok"]
    for name in ("event body", "cache", "audit row"):
        _tamper(name, cases[2])
    broken = verify_everything(TOY, workers=1).to_dict()
    assert not broken["ok"]
    assert {"event-chain", "audit-chain"} <= set(broken["kinds"])
    assert verify_everything(TOY, workers=3).to_dict() == broken
    no_replay = verify_everything(replay=False, workers=1).to_dict()
    assert verify_everything(replay=False, workers=2).to_dict() == no_replay


@pytest.mark.skipif(DB != "postgres", reason="forked readers need committed rows on a server")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parts_that_saw_different_moments_are_checked_again_in_one(
    patient: Any, physician: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A write between two parts' snapshots moves the ledger head; here each part "sees" a
    # head of its own, so the parts disagree and the check runs again here, in one snapshot.
    _network(3, patient, physician)
    _threads(monkeypatch, 1)
    expected = verify_everything(TOY, workers=1).to_dict()
    ran: list[int] = []
    forked = forked_parts.run_parts

    def counted(part: Any, count: int, workers: int) -> Any:
        ran.append(workers)
        return forked(part, count, workers)

    monkeypatch.setattr(verification, "run_parts", counted)
    moments = itertools.count()
    monkeypatch.setattr(verification, "_moment", lambda: (os.getpid(), next(moments)))
    report = verify_everything(TOY, workers=2)
    assert ran == [2]
    assert report.to_dict() == expected
    CaseProjection.objects.update(step="ltfu")  # and it is a real check, not a copy
    assert not verify_everything(TOY, workers=2).ok


def _cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CARTFLOW_DATA": str(data), "CARTFLOW_TESTING": "1"}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "cartflow.cli", *args], env=env, capture_output=True, text=True
    )


@pytest.mark.skipif(DB != "sqlite", reason="the demo network on a SQLite file")
def test_the_cli_in_two_processes_reports_what_one_reports(tmp_path: Path) -> None:
    data = tmp_path / "data"
    seeded = _cli(data, "demo", "--no-serve")
    assert seeded.returncode == 0, seeded.stderr
    one = _cli(data, "audit", "verify", "--workers", "1", "--json")
    two = _cli(data, "audit", "verify", "--workers", "2", "--json")
    assert (one.returncode, two.returncode) == (0, 0), one.stdout + one.stderr + two.stderr
    assert json.loads(two.stdout) == json.loads(one.stdout)
    with sqlite3.connect(data / "cartflow.sqlite3") as db:
        for statement in drop_statements("sqlite", ("clinic_event", "clinic_auditrow")):
            db.execute(statement)
        db.execute("UPDATE clinic_event SET body = CAST('{}' AS BLOB) WHERE id = 7")
        db.execute("DELETE FROM clinic_event WHERE id = (SELECT max(id) FROM clinic_event)")
        db.execute(
            "UPDATE clinic_auditrow SET hash = CASE WHEN substr(hash, 1, 1) = 'f' THEN 'e' "
            "ELSE 'f' END || substr(hash, 2) WHERE seq = 40"
        )
    one = _cli(data, "audit", "verify", "--workers", "1", "--json")
    two = _cli(data, "audit", "verify", "--workers", "2", "--json")
    assert (one.returncode, two.returncode) == (1, 1), one.stderr + two.stderr
    report = json.loads(one.stdout)
    assert {"event-chain", "audit-chain"} <= set(report["kinds"])
    assert len([f for f in report["findings"] if f["kind"] == "event-chain"]) == 2
    assert json.loads(two.stdout) == report
    refused = _cli(data, "audit", "verify", "--workers", "none")
    assert refused.returncode == 2
    assert "expected a whole number of processes, 1 or more, got 'none'" in refused.stderr


# --- the runner itself: no database, only processes ------------------------------------------

_FORK = multiprocessing.get_context("fork")


def _meeting(parties: int) -> Any:
    """A barrier the parts that reach it wait at together: with two parts at it, the
    parent cannot take both (it would wait for itself), so a child must take one."""
    return _FORK.Barrier(parties, timeout=60)


def test_the_parts_run_in_this_process_and_a_child_and_come_back_in_order() -> None:
    meeting = _meeting(2)
    parent = os.getpid()

    def part(index: int) -> tuple[int, int]:
        if index < 2:
            meeting.wait()
        return index * index, os.getpid()

    results = forked_parts.run_parts(part, 7, workers=2)
    assert [square for square, _ in results] == [index * index for index in range(7)]
    pids = {pid for _, pid in results}
    assert parent in pids and len(pids) == 2


def test_a_childs_exception_is_raised_here() -> None:
    meeting = _meeting(2)
    parent = os.getpid()

    def part(index: int) -> int:
        if index < 2:
            meeting.wait()
            if os.getpid() != parent:
                raise ValueError(f"part {index} refused in the child")
        return index

    with pytest.raises(ValueError, match="refused in the child"):
        forked_parts.run_parts(part, 4, workers=2)


def test_an_exception_here_leaves_no_child_running() -> None:
    meeting = _meeting(2)
    parent = os.getpid()
    child = _FORK.Value("i", 0)

    def part(index: int) -> int:
        if index < 2:
            meeting.wait()
            if os.getpid() != parent:
                child.value = os.getpid()
                time.sleep(120)  # would hold the parent up if it waited for the child
            while not child.value:
                time.sleep(0.01)
            raise ValueError("refused here")
        return index

    started = time.monotonic()
    with pytest.raises(ValueError, match="refused here"):
        forked_parts.run_parts(part, 2, workers=2)
    assert time.monotonic() - started < 100  # the child was stopped, not waited for
    with pytest.raises(ProcessLookupError):  # and reaped, not left behind
        os.kill(child.value, 0)
