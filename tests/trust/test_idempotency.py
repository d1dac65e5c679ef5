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


# Three copies of one request, sent at the same moment by a client that retried too eagerly:
# exactly one write, and all three get its answer.

TWINS = 3
ROUNDS = 4


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, django_db_blocker: Any) -> Any:
    from tests.clinic.live_database import LiveDatabase

    with django_db_blocker.unblock():
        database = LiveDatabase(tmp_path_factory.mktemp("live-idem"))
        try:
            yield database.name
        finally:
            database.drop()


def _set_up() -> str:
    from datetime import date

    from django.contrib.auth import get_user_model

    from cartflow.clinic import services
    from tests.clinic.toy import TOY, AddNote

    admin = get_user_model().objects.create_user("idem-admin", password="x")
    site = services.create_site(
        "idem-center", "Idem Center", "treatment_center", facility_code="R1234", acting_user=admin
    )
    patient = services.register_patient(
        site,
        record_number="IDEM-1",
        given_name="Patient",
        family_name="Test",
        birth_date=date(1970, 1, 1),
        acting_user=admin,
    )
    return str(services.open_case(patient, AddNote("o"), acting_user=admin, machine=TOY).case.coi)


def _twin(coi: str, barrier: Any) -> list[Any]:
    from django.contrib.auth import get_user_model

    from cartflow.clinic import services
    from cartflow.clinic.services.idempotency import once
    from tests.clinic.toy import TOY, AddNote

    admin = get_user_model().objects.get(username="idem-admin")
    answers = []
    for n in range(ROUNDS):

        def write() -> tuple[int, Any]:
            result = services.append(coi, AddNote("once"), acting_user=admin, machine=TOY)
            return 201, {"version": result.version}

        barrier.wait(timeout=60)
        try:
            answers.append(once(admin, f"key-{n}", "same request", write))
        except services.Conflict as exc:  # a twin still writing: the client retries
            answers.append(str(exc))
    return answers


def _events_of(coi: str) -> int:
    return Event.objects.filter(case__coi=coi).count()


def test_twins_sent_at_once_write_once_and_all_get_its_answer(
    live: str, django_db_blocker: Any
) -> None:
    from tests.clinic.live_database import FORK, run_in_child, start_children

    with django_db_blocker.unblock():
        coi = run_in_child(live, _set_up)
        barrier = FORK.Barrier(TWINS)
        processes, out = start_children(live, _twin, [(coi, barrier)] * TWINS)
        results = [out.get(timeout=600) for _ in processes]
        for process in processes:
            process.join(timeout=60)
        events = run_in_child(live, _events_of, coi)
    assert events == 1 + ROUNDS
    for status, answers in results:
        assert status == "ok", answers
    for n in range(ROUNDS):
        assert {repr(answers[n]) for _, answers in results} == {repr((201, {"version": n + 2}))}


def test_a_database_that_refuses_is_a_json_503_and_nothing_is_recorded(
    api_net: ApiNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import OperationalError

    from cartflow.clinic.services import store

    def full(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("database or disk is full")

    monkeypatch.setattr(store, "write_append", full)
    courier = api_net.token_client(Role.COURIER)
    count = _events(api_net)
    answer = _post(courier, api_net, READING, "reading-full")
    assert answer.status_code == 503
    assert answer["Retry-After"] == "30"
    assert "nothing was recorded" in answer.json()["detail"]
    assert _events(api_net) == count
    assert not IdempotentAnswer.objects.exists()  # the retry will write
