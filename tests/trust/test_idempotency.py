"""A retried API write with the same Idempotency-Key is answered once and appended once."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from cartflow.clinic.models import Event, IdempotentAnswer
from cartflow.domain.roles import Role
from tests.clinic.api_network import ApiNetwork, api_net_fixture  # noqa: F401

pytestmark = pytest.mark.django_db

READING = {"celsius": -150, "location": "shipper"}


def _post(client: Client, net: ApiNetwork, body: dict[str, Any], key: str | None) -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(
        f"/api/cases/{net.case.coi}/custody/temperatures",
        json.dumps(body),
        content_type="application/json",
        **headers,
    )


def _events(net: ApiNetwork) -> int:
    return Event.objects.filter(case=net.case).count()


def test_a_retry_returns_the_first_answer_and_appends_nothing(api_net: ApiNetwork) -> None:
    courier = api_net.token_client(Role.COURIER)
    first = _post(courier, api_net, READING, "reading-0001")
    assert first.status_code == 201, first.content
    count = _events(api_net)
    again = _post(courier, api_net, READING, "reading-0001")
    assert (again.status_code, again.json()) == (201, first.json())
    assert _events(api_net) == count


def test_the_same_key_with_a_different_body_is_refused(api_net: ApiNetwork) -> None:
    courier = api_net.token_client(Role.COURIER)
    assert _post(courier, api_net, READING, "reading-0002").status_code == 201
    count = _events(api_net)
    other = _post(courier, api_net, {**READING, "celsius": -151}, "reading-0002")
    assert other.status_code == 422
    assert "different request" in other.json()["detail"]
    assert _events(api_net) == count


def test_without_a_key_each_post_appends(api_net: ApiNetwork) -> None:
    courier = api_net.token_client(Role.COURIER)
    count = _events(api_net)
    _post(courier, api_net, READING, None)
    _post(courier, api_net, READING, None)
    assert _events(api_net) == count + 2
    assert not IdempotentAnswer.objects.exists()


def test_a_key_belongs_to_the_user_however_they_sign_in(api_net: ApiNetwork) -> None:
    courier = api_net.token_client(Role.COURIER)
    person = api_net.client(api_net.own[Role.COURIER])  # the token's own user, by session
    count = _events(api_net)
    first = _post(courier, api_net, READING, "shared-key")
    again = _post(person, api_net, READING, "shared-key")
    assert (again.status_code, again.json()) == (201, first.json())
    assert _events(api_net) == count + 1


def test_keys_of_different_users_never_meet(api_net: ApiNetwork) -> None:
    from cartflow.clinic.services.idempotency import once

    one, two = api_net.own[Role.COURIER], api_net.own[Role.PHYSICIAN]
    assert once(one, "k", "print", lambda: (201, {"n": 1})) == (201, {"n": 1})
    assert once(two, "k", "print", lambda: (201, {"n": 2})) == (201, {"n": 2})
    assert once(one, "k", "print", lambda: (201, {"n": 3})) == (201, {"n": 1})


def test_a_refused_write_keeps_no_answer_so_a_corrected_retry_may_reuse_the_key(
    api_net: ApiNetwork,
) -> None:
    courier = api_net.token_client(Role.COURIER)
    refused = _post(courier, api_net, {**READING, "expected_version": 1}, "reading-0003")
    assert refused.status_code == 409
    assert not IdempotentAnswer.objects.exists()


def test_a_malformed_key_is_refused(api_net: ApiNetwork) -> None:
    courier = api_net.token_client(Role.COURIER)
    answer = _post(courier, api_net, READING, "x" * 201)
    assert answer.status_code == 422
    assert "Idempotency-Key" in answer.json()["detail"]
