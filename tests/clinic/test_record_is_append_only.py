"""The database itself refuses to change or remove the record, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from cartflow.clinic import services
from cartflow.clinic.models import TherapyCase
from tests.clinic.fixtures import PASSWORD, triggers_dropped
from tests.clinic.toy import TOY

pytestmark = pytest.mark.django_db

STATEMENTS = {
    "clinic_event": ("UPDATE clinic_event SET body = body", "DELETE FROM clinic_event"),
    "clinic_ledgerentry": (
        "UPDATE clinic_ledgerentry SET body = body",
        "DELETE FROM clinic_ledgerentry",
    ),
    "clinic_auditrow": (
        "UPDATE clinic_auditrow SET body = body",
        "DELETE FROM clinic_auditrow",
    ),
    "clinic_signature": (
        "UPDATE clinic_signature SET meaning = 'review'",
        "DELETE FROM clinic_signature",
    ),
}


@pytest.fixture
def signed_case(case: TherapyCase, physician: Any) -> TherapyCase:
    services.sign(physician, PASSWORD, "approval", case.events.get(seq=1), machine=TOY)
    return case


def _refused(sql: str) -> str:
    with pytest.raises(DatabaseError) as caught, transaction.atomic(), connection.cursor() as c:
        c.execute(sql)
    return str(caught.value)


@pytest.mark.parametrize("table", sorted(STATEMENTS))
def test_a_raw_update_of_the_record_is_refused_by_the_database(
    signed_case: TherapyCase, table: str
) -> None:
    assert "append-only" in _refused(STATEMENTS[table][0])


@pytest.mark.parametrize("table", sorted(STATEMENTS))
def test_a_raw_delete_of_the_record_is_refused_by_the_database(
    signed_case: TherapyCase, table: str
) -> None:
    assert "append-only" in _refused(STATEMENTS[table][1])


def test_the_refusal_holds_again_once_the_triggers_are_restored(signed_case: TherapyCase) -> None:
    with triggers_dropped(), connection.cursor() as cursor:
        cursor.execute("UPDATE clinic_auditrow SET body = body WHERE 1 = 0")
    assert "append-only" in _refused(STATEMENTS["clinic_event"][0])
