"""Whatever is edited, removed, reordered or cut, verification finds the first broken link."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from django.db import connection

from cartflow.clinic import services
from cartflow.clinic.models import Event, Patient, TherapyCase
from cartflow.clinic.services.audit import verify_case
from tests.clinic.fixtures import columns_made_plain, open_toy_case, triggers_dropped
from tests.clinic.toy import TOY, AddNote

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_events(case: TherapyCase, physician: Any) -> TherapyCase:
    services.append(case, AddNote("second", count=2), acting_user=physician, machine=TOY)
    assert verify_case(case).ok
    return case


def _sql(sql: str, params: list[Any]) -> None:
    with triggers_dropped(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def _event(case: TherapyCase, seq: int) -> Event:
    return Event.objects.get(case=case, seq=seq)


def _rewrite(event: Event, change: dict[str, Any]) -> tuple[bytes, str]:
    entry = json.loads(bytes(event.body))
    entry["data"] = {**entry["data"], **change}
    from cartflow.domain.hashchain import canonical_bytes

    body = canonical_bytes(entry)
    return body, hashlib.sha256(body).hexdigest()


def test_an_edited_event_is_found(three_events: TherapyCase) -> None:
    event = _event(three_events, 2)
    body, _ = _rewrite(event, {"text": "altered"})
    _sql("UPDATE clinic_event SET body = %s WHERE id = %s", [body, event.pk])
    report = verify_case(three_events)
    assert (report.ok, report.broken_at) == (False, 1)
    assert "do not hash to its recorded hash" in report.reason


def test_an_edit_that_recomputes_the_hash_breaks_the_next_link(three_events: TherapyCase) -> None:
    event = _event(three_events, 2)
    body, digest = _rewrite(event, {"text": "altered"})
    _sql("UPDATE clinic_event SET body = %s, hash = %s WHERE id = %s", [body, digest, event.pk])
    report = verify_case(three_events)
    assert (report.ok, report.broken_at) == (False, 2)


def test_an_edit_of_the_last_event_with_a_new_hash_differs_from_the_ledger(
    three_events: TherapyCase,
) -> None:
    event = _event(three_events, 3)
    body, digest = _rewrite(event, {"text": "altered"})
    _sql("UPDATE clinic_event SET body = %s, hash = %s WHERE id = %s", [body, digest, event.pk])
    report = verify_case(three_events)
    assert not report.ok
    assert "head recorded in the ledger" in report.reason


def test_a_deleted_event_is_found(three_events: TherapyCase) -> None:
    _sql("DELETE FROM clinic_event WHERE id = %s", [_event(three_events, 2).pk])
    report = verify_case(three_events)
    assert (report.ok, report.broken_at) == (False, 1)


def test_reordered_events_are_found(three_events: TherapyCase) -> None:
    two, three = _event(three_events, 2), _event(three_events, 3)
    # The position is generated from the bytes: only a changed table definition frees it.
    with columns_made_plain("seq"), connection.cursor() as cursor:
        cursor.execute("UPDATE clinic_event SET seq = 99 WHERE id = %s", [two.pk])
        cursor.execute("UPDATE clinic_event SET seq = 2 WHERE id = %s", [three.pk])
        cursor.execute("UPDATE clinic_event SET seq = 3 WHERE id = %s", [two.pk])
    report = verify_case(three_events)
    assert (report.ok, report.broken_at) == (False, 1)


def test_a_cut_tail_is_found_through_the_ledger(three_events: TherapyCase) -> None:
    _sql("DELETE FROM clinic_event WHERE id = %s", [_event(three_events, 3).pk])
    report = verify_case(three_events)
    assert not report.ok
    assert report.reason == "the chain holds 2 entries, the ledger recorded 3"


def test_a_whole_deleted_case_is_found_through_the_ledger(
    three_events: TherapyCase, patient: Patient, physician: Any
) -> None:
    open_toy_case(patient, physician)  # a bystander case that stays intact
    coi, pk = three_events.coi, three_events.pk
    for table in ("clinic_event", "clinic_caseprojection", "clinic_caseparticipant"):
        _sql(f"DELETE FROM {table} WHERE case_id = %s", [pk])
    _sql("DELETE FROM clinic_therapycase WHERE id = %s", [pk])
    report = services.verify_ledger()
    assert not report.ok
    assert [c.coi for c in report.broken_cases] == [coi]
    assert "events are gone" in report.broken_cases[0].reason


def test_a_cut_ledger_is_found_through_the_ledger_head(three_events: TherapyCase) -> None:
    _sql("DELETE FROM clinic_ledgerentry WHERE seq = (SELECT MAX(seq) FROM clinic_ledgerentry)", [])
    report = services.verify_ledger()
    assert not report.ok
    assert report.ledger_reason.startswith("ledger: the chain holds")


def test_an_event_copied_from_another_case_is_found(
    three_events: TherapyCase, patient: Patient, physician: Any
) -> None:
    other = open_toy_case(patient, physician).case
    copied = bytes(_event(other, 1).body)
    # Its hash column cannot be copied too (hashes are unique), and with any other hash the
    # bytes do not verify; with the bytes re-hashed they still name the other case.
    _sql("UPDATE clinic_event SET body = %s WHERE id = %s", [copied, _event(three_events, 1).pk])
    report = verify_case(three_events)
    assert (report.ok, report.broken_at) == (False, 0)


def test_an_intact_network_verifies(three_events: TherapyCase) -> None:
    report = services.verify_ledger()
    assert report.ok, report.to_dict()
    assert report.cases_checked == 1
