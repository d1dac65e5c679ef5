"""A database that refuses is answered 503 on the pages too: a styled page (or JSON for a
client that asks for it) that says to try again, never a traceback; nothing half-written."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client

from cartflow.clinic import access
from cartflow.clinic.models import Event
from cartflow.clinic.services import store
from cartflow.domain.roles import Role
from tests.clinic.api_network import ApiNetwork, api_net_fixture  # noqa: F401

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _refuse(*args: Any, **kwargs: Any) -> Any:
    raise OperationalError("database or disk is full")


def test_a_page_whose_read_is_refused_is_a_styled_503(
    api_net: ApiNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _client(api_net.own[Role.PHYSICIAN])
    monkeypatch.setattr(access, "memberships", _refuse)
    answer = client.get("/board/")
    assert answer.status_code == 503
    assert answer["Retry-After"] == "30"
    page = answer.content.decode()
    assert "The record is not available now" in page
    assert "clinic/cartflow.css" in page  # styled like every page
    assert "Traceback" not in page and "OperationalError" not in page


def test_a_client_asking_for_json_gets_json(
    api_net: ApiNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _client(api_net.own[Role.PHYSICIAN])
    monkeypatch.setattr(access, "memberships", _refuse)
    answer = client.get("/board/", HTTP_ACCEPT="application/json")
    assert answer.status_code == 503
    assert "try again" in answer.json()["detail"]


def test_a_page_form_whose_write_is_refused_records_nothing(
    api_net: ApiNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _client(api_net.own[Role.COURIER])
    count = Event.objects.filter(case=api_net.case).count()
    monkeypatch.setattr(store, "write_append", _refuse)
    answer = client.post(
        f"/cases/{api_net.case.coi}/step/",
        {
            "operation": "RecordTemperature",
            "celsius": "-150",
            "location": "shipper",
            "form_once": "refused-write-1",
        },
    )
    assert answer.status_code == 503, answer.content.decode()[:500]
    assert "Nothing was recorded" in answer.content.decode()
    assert Event.objects.filter(case=api_net.case).count() == count
    # The form's token was not kept either: sent again once the database is back, it writes.
    monkeypatch.undo()
    again = client.post(
        f"/cases/{api_net.case.coi}/step/",
        {
            "operation": "RecordTemperature",
            "celsius": "-150",
            "location": "shipper",
            "form_once": "refused-write-1",
        },
    )
    assert again.status_code == 302, again.content.decode()[:2000]
    assert Event.objects.filter(case=api_net.case).count() > count


def test_any_other_error_stays_a_plain_500(
    api_net: ApiNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _client(api_net.own[Role.PHYSICIAN])

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(access, "memberships", broken)
    answer = client.get("/board/")
    assert answer.status_code == 500
    assert "Traceback" not in answer.content.decode()
