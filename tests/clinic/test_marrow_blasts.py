"""Bone-marrow blast counts through the API: the journey's RecordMarrowBlasts, one service,
the domain's bounds and its double-submission rule (split_dose.py chooses the regimen)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from cartflow.clinic import services
from cartflow.clinic.case_state import case_state
from cartflow.domain.journey import event_types as T
from cartflow.domain.roles import Role
from tests.clinic.api_network import ApiNetwork, build_network

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipped(db: None) -> ApiNetwork:
    return build_network("shipped")


def _counts(net: ApiNetwork) -> tuple[Any, ...]:
    net.case.refresh_from_db()
    return case_state(net.case).marrow_blasts


def _post(net: ApiNetwork, body: dict[str, Any], role: Role = Role.PHYSICIAN) -> Any:
    client: Client = net.client(net.own[role])
    return client.post(
        f"/api/cases/{net.case.coi}/marrow/blasts", data=body, content_type="application/json"
    )


def test_the_api_records_a_count_at_the_samples_time(shipped: ApiNetwork) -> None:
    sampled = timezone.now().replace(microsecond=0) - timedelta(days=2)
    answer = _post(shipped, {"blast_percent": 35.5, "sampled_at": sampled.isoformat()})
    assert answer.status_code == 201, answer.content[:500]
    event = answer.json()["events"][-1]
    assert event["type"] == T.MARROW_BLASTS_RECORDED
    assert event["data"]["blast_percent"] == 35.5
    [count] = _counts(shipped)
    assert (count.blast_percent, count.sampled_at) == (35.5, sampled)
    assert services.verify_case(shipped.case).ok


def test_the_same_count_twice_within_a_minute_is_a_conflict(shipped: ApiNetwork) -> None:
    assert _post(shipped, {"blast_percent": 12}).status_code == 201
    again = _post(shipped, {"blast_percent": 12})
    assert again.status_code == 409
    assert "less than a minute ago" in again.content.decode()
    assert len(_counts(shipped)) == 1


@pytest.mark.parametrize("percent", [-1, 100.5, "many"])
def test_a_count_outside_0_to_100_is_refused_with_what_is_accepted(
    shipped: ApiNetwork, percent: Any
) -> None:
    answer = _post(shipped, {"blast_percent": percent})
    assert answer.status_code == 422
    assert "blast_percent" in answer.content.decode()
    assert _counts(shipped) == ()


def test_only_a_physician_records_a_count(shipped: ApiNetwork) -> None:
    assert _post(shipped, {"blast_percent": 12}, Role.PHARMACY).status_code == 403
    assert _post(shipped, {"blast_percent": 12}, Role.COORDINATOR).status_code == 403
