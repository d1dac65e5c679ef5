"""Every answer that shows a patient's identity is in the access log; the log is append-only,
and on SQLite a page view hands its row to a writer thread instead of waiting on the lock."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import DatabaseError, transaction
from django.test import override_settings

from cartflow.clinic import access_log
from cartflow.clinic.models import IdentityRead
from cartflow.domain.roles import Role
from tests.clinic.api_network import ApiNetwork, api_net_fixture  # noqa: F401
from tests.clinic.conftest import DB

pytestmark = pytest.mark.django_db


def _rows() -> list[IdentityRead]:
    return list(IdentityRead.objects.order_by("pk"))


def test_a_case_page_showing_the_patient_is_logged_with_who_and_what(api_net: ApiNetwork) -> None:
    physician = api_net.own[Role.PHYSICIAN]
    answer = api_net.client(physician).get(f"/cases/{api_net.case.coi}/")
    assert answer.status_code == 200
    assert api_net.patient.family_name in answer.content.decode()
    [row] = _rows()
    assert (row.username, row.user_id, row.method, row.path) == (
        physician.username,
        physician.pk,
        "GET",
        f"/cases/{api_net.case.coi}/",
    )
    assert row.patients == [str(api_net.patient.public_id)]
    assert row.fields == sorted(access_log.IDENTITY)


def test_a_pseudonymised_reader_leaves_no_row(api_net: ApiNetwork) -> None:
    operator = api_net.own[Role.MANUFACTURING]
    answer = api_net.client(operator).get(f"/cases/{api_net.case.coi}/")
    assert answer.status_code == 200
    assert api_net.patient.family_name not in answer.content.decode()
    assert api_net.token_client(Role.MANUFACTURING).get("/api/cases").status_code == 200
    assert _rows() == []


def test_an_api_answer_with_identity_is_logged_under_the_token_s_user(api_net: ApiNetwork) -> None:
    answer = api_net.token_client(Role.COORDINATOR).get(
        f"/api/patients/{api_net.patient.public_id}"
    )
    assert answer.status_code == 200
    [row] = _rows()
    assert row.username == api_net.own[Role.COORDINATOR].username
    assert row.patients == [str(api_net.patient.public_id)]


def test_a_refused_read_is_not_logged_as_shown(api_net: ApiNetwork) -> None:
    outsider = api_net.other[Role.PHYSICIAN]
    assert api_net.client(outsider).get(f"/cases/{api_net.case.coi}/").status_code == 404
    assert _rows() == []


def test_the_access_log_is_append_only(api_net: ApiNetwork) -> None:
    api_net.client(api_net.own[Role.PHYSICIAN]).get(f"/cases/{api_net.case.coi}/")
    with pytest.raises(DatabaseError), transaction.atomic():
        IdentityRead.objects.update(username="someone-else")
    with pytest.raises(DatabaseError), transaction.atomic():
        IdentityRead.objects.all().delete()
    assert _rows()[0].username == api_net.own[Role.PHYSICIAN].username


@pytest.mark.skipif(DB != "sqlite", reason="the writer thread is SQLite's")
def test_on_sqlite_a_page_view_does_not_wait_for_its_log_row(
    api_net: ApiNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The writer is held as if another connection held the write lock: the page answers all
    # the same, and the row is written once the writer may go on.
    release = threading.Event()
    written: list[list[dict[str, Any]]] = []

    def held(batch: list[dict[str, Any]]) -> None:
        release.wait(timeout=60)
        written.append(batch)

    monkeypatch.setattr(access_log._Writer, "_write", staticmethod(held))
    client = api_net.client(api_net.own[Role.PHYSICIAN])
    with override_settings(CARTFLOW_ACCESS_LOG_BACKGROUND=True):
        for _ in range(3):
            assert client.get(f"/cases/{api_net.case.coi}/").status_code == 200
    assert written == []  # three page views answered while the writer waited
    release.set()
    access_log.flush()
    deadline = time.monotonic() + 10
    while sum(map(len, written)) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    rows = [row for batch in written for row in batch]
    assert len(rows) == 3
    assert {row["patients"][0] for row in rows} == {str(api_net.patient.public_id)}
    # What the writer does with a batch: one INSERT of the rows as they were handed over.
    monkeypatch.undo()
    access_log._Writer._write(rows)
    assert len(_rows()) == 3
