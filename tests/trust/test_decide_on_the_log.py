"""A decision is taken on the case's stored bytes, verified under its lock, never on the cache.

The projection (``clinic_caseprojection``) has no trigger and no hash: whoever can edit it
must not be able to steer the next decision. A record that does not verify refuses every
write with a 409 that says what to do; a writer that waited for the lock records after the
one it waited for.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection

from cartflow.clinic import services
from cartflow.clinic.models import AuditRow, CaseProjection, Event, TherapyCase
from cartflow.clinic.services.append import RecordBroken
from tests.clinic.fixtures import triggers_dropped
from tests.clinic.live_database import LiveDatabase, run_in_child, start_children
from tests.clinic.toy import TOY, AddNote, CloseCase


def _sql(sql: str, params: list[Any]) -> None:
    with triggers_dropped(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.django_db
def test_a_closed_case_stays_closed_whatever_its_cached_state_says(
    case: TherapyCase, physician: Any
) -> None:
    services.append(case, CloseCase(), acting_user=physician, machine=TOY)
    projection = CaseProjection.objects.get(case=case)
    forged = {**projection.state, "closed": False, "step": "noted"}
    CaseProjection.objects.filter(case=case).update(state=forged, step="noted", active=True)
    with pytest.raises(Exception, match="the case is closed"):
        services.append(case, AddNote("after closing"), acting_user=physician, machine=TOY)
    assert Event.objects.filter(case=case).count() == 2


@pytest.mark.django_db
def test_a_cache_that_lies_is_rewritten_by_the_next_append_and_the_audit_row_says_so(
    case: TherapyCase, physician: Any
) -> None:
    CaseProjection.objects.filter(case=case).update(
        state={**CaseProjection.objects.get(case=case).state, "closed": True}, step="closed"
    )
    result = services.append(case, AddNote("still open"), acting_user=physician, machine=TOY)
    projection = CaseProjection.objects.get(case=case)
    assert (projection.step, projection.state["closed"], result.version) == ("noted", False, 2)
    assert AuditRow.objects.order_by("-pk").first().summary["cache_repaired"] is True


@pytest.mark.django_db
def test_a_cache_with_a_wrong_version_does_not_move_the_chain(
    case: TherapyCase, physician: Any
) -> None:
    CaseProjection.objects.filter(case=case).update(version=7)
    result = services.append(
        case, AddNote("next"), acting_user=physician, machine=TOY, expected_version=1
    )
    assert result.version == 2
    assert services.verify_case(case).ok


@pytest.mark.django_db
def test_an_edited_event_refuses_every_write_to_its_case(case: TherapyCase, physician: Any) -> None:
    event = Event.objects.get(case=case, seq=1)
    entry = json.loads(bytes(event.body))
    entry["data"]["text"] = "altered"
    _sql("UPDATE clinic_event SET body = %s WHERE id = %s", [json.dumps(entry).encode(), event.pk])
    with pytest.raises(RecordBroken, match=r"does not verify.*cartflow audit verify"):
        services.append(case, AddNote("more"), acting_user=physician, machine=TOY)


@pytest.mark.django_db
def test_a_cut_tail_refuses_every_write_to_its_case(case: TherapyCase, physician: Any) -> None:
    services.append(case, AddNote("second"), acting_user=physician, machine=TOY)
    _sql("DELETE FROM clinic_event WHERE case_id = %s AND seq = 2", [case.pk])
    CaseProjection.objects.filter(case=case).update(version=1)
    with pytest.raises(RecordBroken, match="ledger"):
        services.append(case, AddNote("third"), acting_user=physician, machine=TOY)


@pytest.mark.django_db
def test_a_broken_record_is_a_conflict_for_the_api(case: TherapyCase) -> None:
    assert issubclass(RecordBroken, services.Conflict)  # answered 409, with what to do


# Four writers, released together, appending without a version to one case: every append
# lands, none is refused for lying before the last event (the time is read under the lock).

WRITERS = 4
ROUNDS = 6


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, django_db_blocker: Any) -> Iterator[str]:
    with django_db_blocker.unblock():
        database = LiveDatabase(tmp_path_factory.mktemp("live-order"))
        try:
            yield database.name
        finally:
            database.drop()


def _set_up() -> str:
    from datetime import date

    from django.contrib.auth import get_user_model

    from tests.trust.ordered import ORDERED

    users = get_user_model().objects
    admin = users.create_user("order-admin", password="x")
    site = services.create_site(
        "order-center", "Order Center", "treatment_center", facility_code="R1234", acting_user=admin
    )
    patient = services.register_patient(
        site,
        record_number="ORDER-1",
        given_name="Patient",
        family_name="Test",
        birth_date=date(1970, 1, 1),
        acting_user=admin,
    )
    opened = services.open_case(patient, AddNote("opened"), acting_user=admin, machine=ORDERED)
    return str(opened.case.coi)


def _writer(coi: str, barrier: Any) -> list[str]:
    from django.contrib.auth import get_user_model

    from tests.trust.ordered import ORDERED

    admin = get_user_model().objects.get(username="order-admin")
    outcomes = []
    for _ in range(ROUNDS):
        barrier.wait(timeout=60)
        try:
            services.append(coi, AddNote("at once"), acting_user=admin, machine=ORDERED)
            outcomes.append("ok")
        except Exception as exc:  # the outcome is the assertion, whatever it is
            outcomes.append(f"{type(exc).__name__}: {exc}")
    return outcomes


def _count(coi: str) -> dict[str, Any]:
    return {
        "events": Event.objects.filter(case__coi=coi).count(),
        "ok": services.verify_ledger().ok,
    }


def test_writers_released_together_all_land_in_clinical_order(
    live: str, django_db_blocker: Any
) -> None:
    from tests.clinic.live_database import FORK

    with django_db_blocker.unblock():
        coi = run_in_child(live, _set_up)
        barrier = FORK.Barrier(WRITERS)
        processes, out = start_children(live, _writer, [(coi, barrier)] * WRITERS)
        results = [out.get(timeout=600) for _ in processes]
        for process in processes:
            process.join(timeout=60)
        state = run_in_child(live, _count, coi)
    for status, outcomes in results:
        assert status == "ok", outcomes
        assert outcomes == ["ok"] * ROUNDS, outcomes
    assert state == {"events": 1 + WRITERS * ROUNDS, "ok": True}
