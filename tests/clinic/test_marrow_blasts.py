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
from cartflow.clinic.views import cases as case_views
from cartflow.domain.catalog import FactStatus, ResolvedFact
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


# --- the case page offers the count only where the dose regimen depends on it ---------------

OBE_DOSE = ResolvedFact(
    "dose",
    {
        "kind": "split",
        "tolerance_days": 2,
        "parts": [{"day": 1, "fraction": 0.25}, {"day": 10, "fraction": 0.75}],
        "total": {"min": 1e8, "max": 5e8},
        "regimen_by_marrow_blasts": {"cutoff_percent": 20, "assessed_within_days_before_ld": 7},
    },
    FactStatus.LABEL,
    "label source [drugs-aucatzyl-dosage]",
)
OFFER = 'name="operation" value="RecordMarrowBlasts"'


def _page(net: ApiNetwork) -> str:
    answer = net.client(net.own[Role.PHYSICIAN]).get(f"/cases/{net.case.coi}/")
    assert answer.status_code == 200
    return answer.content.decode()


def test_a_case_whose_dose_needs_no_count_is_not_offered_one(shipped: ApiNetwork) -> None:
    assert OFFER not in _page(shipped)


def test_the_page_offers_and_records_the_count_where_the_regimen_depends_on_it(
    shipped: ApiNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(case_views, "case_fact", lambda state, name, on: OBE_DOSE)
    assert OFFER in _page(shipped)
    shipped.case.refresh_from_db()
    answer = shipped.client(shipped.own[Role.PHYSICIAN]).post(
        f"/cases/{shipped.case.coi}/step/",
        {
            "operation": "RecordMarrowBlasts",
            "blast_percent": "27",
            "expected_version": str(shipped.case.projection.version),
        },
        follow=True,
    )
    assert answer.status_code == 200
    [count] = _counts(shipped)
    assert count.blast_percent == 27.0
    wrong = shipped.client(shipped.own[Role.PHYSICIAN]).post(
        f"/cases/{shipped.case.coi}/step/",
        {
            "operation": "RecordMarrowBlasts",
            "blast_percent": "140",
            "expected_version": str(shipped.case.projection.version),
        },
    )
    assert wrong.status_code == 422
    assert "100" in wrong.content.decode()
    assert len(_counts(shipped)) == 1
