"""The write path: one transaction, a hash chain, one audit row, all or nothing."""

from __future__ import annotations

import hashlib
import itertools
import json
from typing import Any

import pytest

from cartflow.clinic import services
from cartflow.clinic.models import (
    AuditRow,
    CaseProjection,
    Event,
    LedgerEntry,
    LedgerHead,
    Patient,
    TherapyCase,
)
from cartflow.domain.hashchain import GENESIS
from cartflow.domain.identifiers import parse_identifier
from tests.clinic.fixtures import open_toy_case
from tests.clinic.toy import TOY, AddNote, CloseCase, ToyRefusal

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Event, LedgerEntry, AuditRow, TherapyCase, CaseProjection)
    }


def test_opening_a_case_allocates_a_valid_chain_of_identity_identifier(
    patient: Patient, physician: Any
) -> None:
    first = open_toy_case(patient, physician).case
    second = open_toy_case(patient, physician).case
    din_1, din_2 = parse_identifier(first.coi), parse_identifier(second.coi)
    assert din_1.facility == "W1234"
    assert din_2.sequence == din_1.sequence + 1
    assert din_1.year == first.created_at.year % 100


def test_each_event_is_stored_as_the_bytes_that_were_hashed_chained_to_the_one_before(
    case: TherapyCase, physician: Any
) -> None:
    services.append(case, AddNote("seen", count=2), acting_user=physician, machine=TOY)
    events = list(Event.objects.filter(case=case).order_by("seq"))
    assert [e.seq for e in events] == [1, 2, 3]
    prev = GENESIS
    for event in events:
        body = bytes(event.body)
        assert hashlib.sha256(body).hexdigest() == event.hash
        entry = json.loads(body)
        assert entry["prev"] == prev == event.prev_hash
        assert entry["case"] == case.coi and entry["seq"] == event.seq
        assert entry["actor"] == physician.username
        prev = event.hash
    assert CaseProjection.objects.get(case=case).head == prev


def test_every_append_writes_exactly_one_audit_row_saying_who_what_and_from_where(
    case: TherapyCase, physician: Any
) -> None:
    before = AuditRow.objects.filter(case_coi=case.coi).count()
    meta = services.RequestMeta(request_id="req-42", ip="192.0.2.7", user_agent="test-agent")
    services.append(
        case, AddNote("x", count=3), acting_user=physician, request_meta=meta, machine=TOY
    )
    rows = list(AuditRow.objects.filter(case_coi=case.coi).order_by("id"))
    assert len(rows) == before + 1
    row = rows[-1]
    assert (row.user_id, row.username, row.operation) == (physician.pk, "dr-phoebe", "add_note")
    assert (row.request_id, row.ip, row.user_agent) == ("req-42", "192.0.2.7", "test-agent")
    assert row.summary["version"] == [1, 4]
    assert row.summary["events"] == ["note.added"] * 3


def test_a_refused_command_keeps_nothing_and_says_why(case: TherapyCase, physician: Any) -> None:
    services.append(case, CloseCase(), acting_user=physician, machine=TOY)
    before = _counts()
    with pytest.raises(ToyRefusal, match="the case is closed"):
        services.append(case, AddNote("late"), acting_user=physician, machine=TOY)
    assert _counts() == before


def test_a_refused_first_command_opens_no_case(patient: Patient, physician: Any) -> None:
    before = _counts()
    with pytest.raises(ToyRefusal, match="a note needs some text"):
        services.open_case(patient, AddNote("  "), acting_user=physician, machine=TOY)
    assert _counts() == before


def test_a_failure_after_the_writes_rolls_all_of_them_back(
    case: TherapyCase, physician: Any
) -> None:
    before = _counts()
    head = LedgerHead.objects.get().hash

    def explode(result: Any) -> None:
        raise RuntimeError("the disk is full")

    with pytest.raises(RuntimeError):
        services.append(case, AddNote("x"), acting_user=physician, machine=TOY, then=explode)
    assert _counts() == before
    assert LedgerHead.objects.get().hash == head


def test_a_user_who_saw_an_older_version_gets_a_conflict_not_a_silent_overwrite(
    case: TherapyCase, physician: Any, coordinator: Any
) -> None:
    services.append(case, AddNote("a"), acting_user=coordinator, machine=TOY, expected_version=1)
    with pytest.raises(
        services.Conflict, match=r"changed since you loaded it \(version 1, now 2\)"
    ):
        services.append(case, AddNote("b"), acting_user=physician, machine=TOY, expected_version=1)


def test_the_projection_is_the_fold_of_the_events_and_can_be_rebuilt(
    case: TherapyCase, physician: Any
) -> None:
    services.append(case, AddNote("a", count=2), acting_user=physician, machine=TOY)
    projection = CaseProjection.objects.get(case=case)
    assert projection.state == services.replay(case, TOY)
    assert (projection.version, projection.step) == (3, "noted")
    CaseProjection.objects.filter(case=case).update(state={"junk": True}, step="wrong")
    assert services.rebuild_projection(case, TOY) is True
    projection.refresh_from_db()
    assert projection.state == services.replay(case, TOY)
    assert projection.step == "noted"
    assert services.rebuild_projection(case, TOY) is False


def test_every_append_chains_the_case_head_into_the_network_ledger(
    patient: Patient, physician: Any
) -> None:
    one = open_toy_case(patient, physician).case
    two = open_toy_case(patient, physician).case
    services.append(one, AddNote("x"), acting_user=physician, machine=TOY)
    entries = list(LedgerEntry.objects.order_by("seq"))
    assert [e.case_coi for e in entries] == [one.coi, two.coi, one.coi]
    assert entries[0].prev_hash == GENESIS
    assert all(a.hash == b.prev_hash for a, b in itertools.pairwise(entries))
    assert LedgerHead.objects.get().hash == entries[-1].hash
    assert entries[-1].case_version == 2
    report = services.verify_ledger()
    assert report.ok, report.to_dict()


def test_an_unknown_case_is_not_found(physician: Any) -> None:
    with pytest.raises(services.NotFound):
        services.append("W123426000001X", AddNote("x"), acting_user=physician, machine=TOY)
    with pytest.raises(services.NotFound):
        services.append("not an identifier", AddNote("x"), acting_user=physician, machine=TOY)


def test_a_case_is_found_by_any_written_form_of_its_identifier(
    case: TherapyCase, physician: Any
) -> None:
    barcode = parse_identifier(case.coi).barcode
    result = services.append(barcode, AddNote("scanned"), acting_user=physician, machine=TOY)
    assert result.case == case and result.version == 2
