"""Whatever a user sees, edited behind the application's back, is found and named.

Each test tampers as a database administrator could (the append-only triggers dropped) with
one column of one table a page or the API shows, and ``verify_everything`` must name the kind
of break. The cached state is tampered with too; ``audit rebuild`` then says what it repaired.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import DatabaseError, OperationalError, connection, transaction

from cartflow.cli import main as cli
from cartflow.clinic import services
from cartflow.clinic.models import AuditRow, CaseProjection, Event, Patient, TherapyCase
from cartflow.clinic.services.append import RecordBroken
from cartflow.clinic.services.audit import repair_projection
from cartflow.clinic.services.verification import KINDS, verify_everything
from tests.clinic.conftest import DB
from tests.clinic.fixtures import PASSWORD, columns_made_plain, triggers_dropped
from tests.clinic.toy import TOY, AddNote

pytestmark = pytest.mark.django_db


def _sql(sql: str, params: list[Any]) -> None:
    with triggers_dropped(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def signed(case: TherapyCase, physician: Any) -> TherapyCase:
    services.append(case, AddNote("second"), acting_user=physician, machine=TOY)
    event = Event.objects.get(case=case, seq=2)
    services.sign(physician, PASSWORD, "review", event, machine=TOY)
    assert verify_everything(TOY).ok, verify_everything(TOY).to_dict()
    return case


def _kinds(machine: Any = TOY) -> list[str]:
    report = verify_everything(machine)
    assert all(f.kind in KINDS for f in report.findings)
    assert not report.ok
    return sorted({f.kind for f in report.findings})


def test_an_intact_network_is_intact_and_says_what_it_checked(signed: TherapyCase) -> None:
    report = verify_everything(TOY)
    assert report.ok
    assert report.checked["events"] == 3
    assert report.checked["signatures"] == 1
    assert report.checked["patients"] == 1
    assert report.checked["audit_rows"] >= 5


@pytest.mark.parametrize(
    ("column", "value"),
    [("actor", "someone-else"), ("type", "note.removed"), ("site", "elsewhere")],
)
def test_an_edited_event_column_is_named(signed: TherapyCase, column: str, value: str) -> None:
    # The database generates the column from the bytes: only a changed table definition
    # lets it differ, and verification then compares every row (with or without replay).
    with columns_made_plain(column), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE clinic_event SET {column} = %s WHERE case_id = %s AND seq = 2",
            [value, signed.pk],
        )
    for report in (verify_everything(TOY), verify_everything(replay=False)):
        assert [f.kind for f in report.findings] == ["event-column"]
        assert column in report.findings[0].detail


@pytest.mark.parametrize("column", ["occurred_at", "recorded_at"])
def test_an_edited_event_time_is_named(signed: TherapyCase, column: str) -> None:
    event = Event.objects.get(case=signed, seq=2)
    moved = getattr(event, column) - timedelta(days=3)
    with columns_made_plain(column), connection.cursor() as cursor:
        cursor.execute(f"UPDATE clinic_event SET {column} = %s WHERE id = %s", [moved, event.pk])
    for report in (verify_everything(TOY), verify_everything(replay=False)):
        assert [f.kind for f in report.findings] == ["event-column"]
        assert column in report.findings[0].detail


@pytest.mark.parametrize(
    ("column", "value"),
    [("actor", "'x'"), ("type", "'note.removed'"), ("seq", "seq + 1"), ("prev_hash", "hash")],
)
def test_a_generated_event_column_cannot_be_written_even_without_the_triggers(
    signed: TherapyCase, column: str, value: str
) -> None:
    with pytest.raises(DatabaseError), transaction.atomic():
        _sql(f"UPDATE clinic_event SET {column} = {value} WHERE case_id = %s", [signed.pk])
    assert verify_everything(TOY).ok


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("username", "someone-else"),
        ("ip", "10.9.9.9"),
        ("operation", "nothing"),
        ("user_agent", "forged"),
        ("request_id", "forged"),
    ],
)
def test_an_edited_audit_row_is_named(signed: TherapyCase, column: str, value: str) -> None:
    row = AuditRow.objects.order_by("seq")[1]
    # generated from the row's bytes: only a changed table definition frees the column
    with columns_made_plain(column, model=AuditRow), connection.cursor() as cursor:
        cursor.execute(f"UPDATE clinic_auditrow SET {column} = %s WHERE id = %s", [value, row.pk])
    assert _kinds() == ["audit-chain"]


def test_a_removed_audit_row_is_named(signed: TherapyCase) -> None:
    _sql("DELETE FROM clinic_auditrow WHERE seq = 2", [])
    assert _kinds() == ["audit-chain"]


def test_a_cut_audit_trail_is_named(signed: TherapyCase) -> None:
    _sql("DELETE FROM clinic_auditrow WHERE seq = (SELECT MAX(seq) FROM clinic_auditrow)", [])
    report = verify_everything(TOY)
    assert [f.kind for f in report.findings] == ["audit-chain"]
    assert "cut" in report.findings[0].detail


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("given_name", "Other"),
        ("family_name", "Other"),
        ("record_number", "TEST-MRN-0018"),
        ("birth_date", "1971-02-02"),
        ("sex", "other"),
    ],
)
def test_an_edited_patient_identity_is_named(
    signed: TherapyCase, patient: Patient, column: str, value: str
) -> None:
    Patient.objects.filter(pk=patient.pk).update(**{column: value})
    report = verify_everything(TOY)
    assert [f.kind for f in report.findings] == ["identity"]
    assert "Other" not in report.findings[0].detail  # the finding never repeats a name


def test_an_edited_identity_with_its_hash_recomputed_is_still_named(
    signed: TherapyCase, patient: Patient
) -> None:
    from cartflow.clinic.sealing import patient_identity_hash

    patient.given_name = "Other"
    Patient.objects.filter(pk=patient.pk).update(
        given_name="Other", identity_hash=patient_identity_hash(patient)
    )
    assert _kinds() == ["identity"]


@pytest.mark.parametrize(("column", "value"), [("meaning", "approval"), ("signer_name", "X")])
def test_an_edited_signature_is_named(signed: TherapyCase, column: str, value: str) -> None:
    _sql(f"UPDATE clinic_signature SET {column} = %s", [value])
    assert _kinds() == ["signature"]


def test_an_edited_cache_is_named_and_rebuild_says_what_it_repaired(
    signed: TherapyCase,
) -> None:
    projection = CaseProjection.objects.get(case=signed)
    CaseProjection.objects.filter(case=signed).update(
        step="closed", state={**projection.state, "closed": True}
    )
    report = verify_everything(TOY)
    assert [f.kind for f in report.findings] == ["cache"]
    repaired = repair_projection(signed, TOY)
    assert repaired == {"step": ["closed", "noted"], "state": ["closed"]}
    assert AuditRow.objects.order_by("-seq").first().summary == {"repaired": repaired}
    assert verify_everything(TOY).ok


def test_an_edited_event_body_is_named_as_a_broken_chain(signed: TherapyCase) -> None:
    _sql("UPDATE clinic_event SET body = %s WHERE case_id = %s AND seq = 1", [b"{}", signed.pk])
    assert "event-chain" in _kinds()


@pytest.mark.skipif(DB == "postgres", reason="a bytea column holds nothing but bytes")
@pytest.mark.parametrize("replay", [True, False])
@pytest.mark.parametrize("table", ["clinic_event", "clinic_ledgerentry"])
def test_a_body_overwritten_with_text_is_named_not_a_crash(
    signed: TherapyCase, physician: Any, table: str, replay: bool
) -> None:
    # SQLite keeps the type an UPDATE gives: the same characters, stored as text
    first = f"(SELECT MIN(id) FROM {table})"
    _sql(f"UPDATE {table} SET body = CAST(body AS TEXT) WHERE id = {first}", [])
    report = verify_everything(TOY if replay else None, replay=replay)
    kind = "event-chain" if table == "clinic_event" else "ledger-chain"
    assert kind in {f.kind for f in report.findings}
    assert verify_everything(replay=False, screened=True).to_dict()["findings"] == (
        verify_everything(replay=False, screened=False).to_dict()["findings"]
    )
    if table == "clinic_event":  # and the next write is refused as on any broken record
        with pytest.raises(RecordBroken):
            services.append(signed, AddNote("after"), acting_user=physician, machine=TOY)


def test_the_cli_exits_0_intact_1_broken_and_3_when_it_cannot_check(
    signed: TherapyCase, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import cartflow.clinic.services.verification as verification

    real = verification.verify_everything
    monkeypatch.setattr(verification, "verify_everything", lambda **options: real(TOY))
    assert cli(["audit", "verify"]) == 0
    with columns_made_plain("actor"), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE clinic_event SET actor = 'x' WHERE case_id = %s AND seq = 2", [signed.pk]
        )
    assert cli(["audit", "verify"]) == 1
    assert "[event-column]" in capsys.readouterr().out

    def unreadable(**options: Any) -> Any:
        raise OperationalError("disk I/O error")

    monkeypatch.setattr(verification, "verify_everything", unreadable)
    assert cli(["audit", "verify"]) == 3
    assert "could not check" in capsys.readouterr().out


@pytest.mark.skipif(DB != "sqlite", reason="a read-only copy of the SQLite file")
def test_verify_runs_on_a_read_only_copy(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {**os.environ, "CARTFLOW_DATA": str(data), "CARTFLOW_TESTING": "1"}
    env.pop("DATABASE_URL", None)
    run = [sys.executable, "-m", "cartflow.cli"]
    subprocess.run([*run, "manage", "migrate", "-v", "0"], env=env, check=True)
    copy = tmp_path / "copy"
    shutil.copytree(data, copy)
    for path in [*copy.iterdir(), copy]:
        path.chmod(stat.S_IREAD | (stat.S_IEXEC if path.is_dir() else 0))
    try:
        done = subprocess.run(
            [*run, "audit", "verify", "--read-only"],
            env={**env, "CARTFLOW_DATA": str(copy)},
            capture_output=True,
            text=True,
        )
        assert (done.returncode, done.stderr) == (0, ""), done.stdout
        assert done.stdout.startswith("ok: intact")
        missing = subprocess.run(
            [*run, "audit", "verify", "--read-only"],
            env={**env, "CARTFLOW_DATA": str(tmp_path / "nowhere")},
            capture_output=True,
            text=True,
        )
        assert missing.returncode == 3, missing.stdout + missing.stderr
    finally:
        for path in [copy, *copy.iterdir()]:
            path.chmod(stat.S_IRWXU)


def test_the_cli_prints_a_few_findings_of_each_kind_the_chains_first() -> None:
    from cartflow.cli.audit import SHOWN_PER_KIND, _human_findings

    findings = [
        {"kind": "cache", "where": f"case C{n}", "detail": "differs"} for n in range(45)
    ] + [{"kind": "event-chain", "where": "case C7 event 3", "detail": "edited"}]
    text = _human_findings(
        {
            "ok": False,
            "ledger": {"entries": 9, "broken_at": None, "reason": ""},
            "cases_checked": 45,
            "broken_cases": [],
            "kinds": ["cache", "event-chain"],
            "findings": findings,
        }
    )
    lines = text.splitlines()
    assert lines[0] == "BROKEN: 46 finding(s) of kind cache, event-chain"
    assert lines[1] == "  [event-chain] case C7 event 3: edited"
    assert sum(line.startswith("  [cache] case") for line in lines) == SHOWN_PER_KIND
    assert lines[-1].startswith(f"  [cache] ... and {45 - SHOWN_PER_KIND} more")
