"""Signed exceptions and quality decisions through the API, and the last place of a slot."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from cartflow.clinic.demo_seed import password_for
from cartflow.domain.roles import Role
from tests.clinic.api_network import ApiNetwork, api_net_fixture, build_network  # noqa: F401

pytestmark = pytest.mark.django_db


def _post(client: Any, url: str, body: dict[str, Any], expect: int = 201) -> Any:
    answer = client.post(url, data=body, content_type="application/json")
    assert answer.status_code == expect, (url, answer.status_code, answer.content[:400])
    return answer.json()


def _pw(net: ApiNetwork, role: Role) -> str:
    return password_for(net.own[role].get_username())


def test_failed_manufacturing_is_recorded_rejected_by_quality_and_disposed() -> None:
    net = build_network("manufacturing")
    case = f"/api/cases/{net.case.coi}"
    maker = net.token_client(Role.MANUFACTURING)
    quality = net.client(net.own[Role.QUALITY])
    refused = _post(
        maker,
        f"{case}/release",
        {
            "password": _pw(net, Role.MANUFACTURING),
            "dose_cells": 1e6,
            "bags": [{"bag_id": "BAG-1", "lot": "LOT-1"}],
        },
        expect=422,
    )
    assert "out of specification" in refused["rule"]
    _post(
        maker,
        f"{case}/out-of-specification",
        {
            "password": _pw(net, Role.MANUFACTURING),
            "dose_cells": 1e6,
            "bags": [{"bag_id": "BAG-1", "lot": "LOT-1"}],
            "reason": "low viability (synthetic)",
        },
    )
    rejected = _post(
        quality,
        f"{case}/exceptions/out-of-specification-decision",
        {"password": _pw(net, Role.QUALITY), "accept": False, "reason": "too low (synthetic)"},
    )
    assert rejected["step"] == "product_rejected"
    disposed = _post(
        quality,
        f"{case}/product/disposal",
        {"password": _pw(net, Role.QUALITY), "reason": "destroyed per SOP (synthetic)"},
    )
    assert disposed["step"] == "product_disposed"
    meanings = [s["meaning"] for s in quality.get(case).json()["signatures"]]
    assert meanings[-3:] == ["authorship", "quality decision", "responsibility"]


def test_a_physician_omits_lymphodepletion_under_the_label_s_signed_exception() -> None:
    net = build_network("available")
    case = f"/api/cases/{net.case.coi}"
    physician = net.client(net.own[Role.PHYSICIAN])
    answer = _post(
        physician,
        f"{case}/exceptions/lymphodepletion-omission",
        {
            "password": _pw(net, Role.PHYSICIAN),
            "wbc_per_l": 0.5e9,
            "wbc_measured_at": (timezone.now() - timedelta(hours=2)).isoformat(),
            "reason": "white-cell count below the label's limit (synthetic)",
        },
    )
    assert answer["events"][0]["signatures"][0]["meaning"] == "exception approval"
    exceptions = physician.get(f"{case}/exceptions").json()["exceptions"]
    assert exceptions and exceptions[-1]["kind"]


def test_a_site_protocol_value_for_a_fact_the_label_gives_is_refused_with_the_source(
    api_net: ApiNetwork,
) -> None:
    quality = api_net.client(api_net.own[Role.QUALITY])
    refused = _post(
        quality,
        f"/api/cases/{api_net.case.coi}/exceptions/site-protocol-values",
        {
            "password": _pw(api_net, Role.QUALITY),
            "fact": "storage_max_celsius",
            "value": -100.0,
            "document_ref": "SOP-1",
            "effective_on": "2025-01-01",
        },
        expect=422,
    )
    assert "catalog knows" in refused["rule"]
    unknown = _post(
        quality,
        f"/api/cases/{api_net.case.coi}/exceptions/site-protocol-values",
        {
            "password": _pw(api_net, Role.QUALITY),
            "fact": "favourite_colour",
            "value": 1,
            "document_ref": "SOP-1",
            "effective_on": "2025-01-01",
        },
        expect=422,
    )
    assert unknown["errors"][0]["field"] == "fact"


def test_of_two_bookings_of_the_last_manufacturing_place_the_second_gets_409() -> None:
    net = build_network("collected")
    day = (timezone.now() + timedelta(days=10)).date().isoformat()
    maker = net.token_client(Role.MANUFACTURING)
    slot = _post(
        maker,
        f"/api/sites/{net.sites['factory'].slug}/slots",
        {"kind": "manufacturing", "day": day, "capacity": 1},
    )
    coordinator = net.client(net.own[Role.COORDINATOR])
    url = f"/api/cases/{net.case.coi}/manufacturing-slot"
    _post(coordinator, url, {"slot_id": slot["id"]})
    full = _post(coordinator, url, {"slot_id": slot["id"]}, expect=409)
    assert "fully booked" in full["detail"]
    listed = coordinator.get(f"/api/slots?site={net.sites['factory'].slug}").json()
    assert [(s["capacity"], s["booked"]) for s in listed] == [(1, 1)]


def test_a_slot_can_be_opened_only_at_a_site_where_the_user_may(api_net: ApiNetwork) -> None:
    coordinator = api_net.client(api_net.own[Role.COORDINATOR])
    body = {"kind": "manufacturing", "day": "2030-01-07", "capacity": 2}
    _post(coordinator, f"/api/sites/{api_net.sites['factory'].slug}/slots", body, expect=403)
    _post(coordinator, "/api/sites/no-such-site/slots", body, expect=404)
    opened = _post(coordinator, f"/api/sites/{api_net.sites['center'].slug}/slots", body)
    assert opened["site"] == api_net.sites["center"].slug


def test_a_coordinator_withdraws_a_case_and_it_leaves_the_active_list(
    api_net: ApiNetwork,
) -> None:
    coordinator = api_net.client(api_net.own[Role.COORDINATOR])
    case = f"/api/cases/{api_net.case.coi}"
    reason = {"reason": "patient's choice (synthetic)"}
    unsigned = _post(coordinator, f"{case}/withdrawal", reason, expect=422)
    assert "password" in json.dumps(unsigned)
    wrong = {**reason, "password": "not the password"}
    assert "password" in json.dumps(_post(coordinator, f"{case}/withdrawal", wrong, expect=403))
    assert coordinator.get(f"{case}").json()["step"] != "withdrawn"
    signed = {**reason, "password": _pw(api_net, Role.COORDINATOR)}
    answer = _post(coordinator, f"{case}/withdrawal", signed)
    assert answer["step"] == "withdrawn"
    (event,) = [e for e in answer["events"] if e["type"] == "case.withdrawn"]
    assert event["data"]["signature"]["role"] == "coordinator"
    assert [s["meaning"] for s in event["signatures"]] == ["responsibility"]
    assert coordinator.get("/api/cases?active=true").json() == []
    assert [c["step"] for c in coordinator.get("/api/cases?active=false").json()] == ["withdrawn"]


def test_quality_reviews_a_deviation_through_the_api_with_a_comment(api_net: ApiNetwork) -> None:
    from cartflow.clinic.case_state import case_state
    from cartflow.clinic.models import TherapyCase
    from cartflow.clinic.services.deviations import open_deviation

    open_deviation(
        api_net.case,
        kind="bedside_scan_mismatch",
        summary="bedside check refused: the bag's label names another case",
        details={"rule": "bedside.bag_label", "scan": "bag_label"},
        acting_user=api_net.own[Role.PHARMACY],
    )
    quality = api_net.client(api_net.own[Role.QUALITY])
    url = f"/api/cases/{api_net.case.coi}/deviations/reviews"
    body = {"numbers": [1], "comment": "label of another case; bag returned"}
    _post(quality, url, body, expect=422)  # no password: nothing is signed
    answer = _post(quality, url, {**body, "password": _pw(api_net, Role.QUALITY)})
    # The review, and the signature's own record in the chain.
    (event,) = [e for e in answer["events"] if e["type"] == "deviation.reviewed"]
    assert [s["meaning"] for s in event["signatures"]] == ["review"]
    (deviation,) = case_state(TherapyCase.objects.get(pk=api_net.case.pk)).deviations
    assert deviation.review_comment == "label of another case; bag returned"
    again = _post(quality, url, {**body, "password": _pw(api_net, Role.QUALITY)}, expect=422)
    assert again["rule_id"] == "deviation.already_reviewed" and again["params"] == {"number": 1}
    assert again["words"] == "Deviation number 1 was already reviewed; a review is never replaced."
    unknown = {"numbers": [9], "comment": "x", "password": _pw(api_net, Role.QUALITY)}
    assert _post(quality, url, unknown, expect=422)["rule_id"] == "deviation.unknown"
