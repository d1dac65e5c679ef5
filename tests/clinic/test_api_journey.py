"""A case walked through the API from registration to infusion by the people and systems who
do each step, with the refusals on the way: a guard's rule, a wrong scan, a wrong password,
a stale version, invalid fields."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from cartflow.clinic.demo_seed import password_for
from cartflow.clinic.models import AuditRow
from cartflow.domain.identifiers import new_identifier, parse_identifier
from cartflow.domain.roles import Role
from tests.clinic.api_network import ApiNetwork, api_net_fixture  # noqa: F401

pytestmark = pytest.mark.django_db


class Caller:
    """One persona's client: posts JSON, expects a status, returns the answer's JSON."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def post(self, url: str, body: dict[str, Any], expect: int = 201, **extra: Any) -> Any:
        answer = self.client.post(url, data=body, content_type="application/json", **extra)
        assert answer.status_code == expect, (url, answer.status_code, answer.content[:500])
        return answer.json()

    def get(self, url: str, expect: int = 200) -> Any:
        answer = self.client.get(url)
        assert answer.status_code == expect, (url, answer.status_code, answer.content[:500])
        return answer.json()


def _people(net: ApiNetwork) -> dict[str, Caller]:
    people = {role.value: Caller(net.client(net.own[role])) for role in Role}
    # The manufacturer's and the courier's integrations use their tokens.
    people["manufacturing"] = Caller(net.token_client(Role.MANUFACTURING))
    people["courier"] = Caller(net.token_client(Role.COURIER))
    return people


def _pw(net: ApiNetwork, role: Role) -> str:
    return password_for(net.own[role].get_username())


def test_a_case_walks_from_registration_to_infusion_through_the_api(api_net: ApiNetwork) -> None:
    net = api_net
    p = _people(net)
    center, unit, factory = (net.sites[k].slug for k in ("center", "unit", "factory"))
    courier_site = net.sites["courier"].slug
    start = timezone.now() - timedelta(days=14)

    def at(days: float) -> str:
        """A clinical time ``days`` after the referral (the walk took two weeks)."""
        return (start + timedelta(days=days)).isoformat()

    patient = p["coordinator"].post(
        f"/api/sites/{center}/patients",
        {
            "record_number": "DEMO-0901",
            "given_name": "Demo",
            "family_name": "Patient-901",
            "birth_date": "1980-01-01",
        },
    )
    opened = p["physician"].post(
        f"/api/patients/{patient['id']}/cases",
        {
            "product_id": "tisagenlecleucel",
            "indication_id": "tisagenlecleucel/lbcl",
            "occurred_at": at(0),
        },
    )
    coi = opened["coi"]
    scan = parse_identifier(coi).barcode
    case = f"/api/cases/{coi}"
    assert opened["step"] == "referred"

    refused = p["physician"].post(
        f"{case}/eligibility", {"password": _pw(net, Role.PHYSICIAN)}, expect=422
    )
    assert refused["step"] == "referred" and refused["attempted"] == "SignEligibility"
    assert refused["rule"] and refused["source"]

    p["physician"].post(
        f"{case}/antigen-tests", {"antigen": "CD19", "positive": True, "occurred_at": at(0.1)}
    )
    wrong = p["physician"].post(f"{case}/eligibility", {"password": "guess"}, expect=403)
    assert "password" in wrong["detail"]
    partial = {"age_years": 54, "diagnosis": "LBCL", "antigens": {"CD19": "positive"}}
    unjudged = p["physician"].post(
        f"{case}/eligibility",
        {"password": _pw(net, Role.PHYSICIAN), "occurred_at": at(0.2), "facts": partial},
        expect=422,
    )
    assert unjudged["rule_id"] == "eligibility.not_eligible"
    assert "needs information" in unjudged["rule"]
    signed = p["physician"].post(
        f"{case}/eligibility",
        {
            "password": _pw(net, Role.PHYSICIAN),
            "occurred_at": at(0.2),
            "facts": {**partial, "disease_status": "refractory", "prior_lines": 2},
        },
    )
    assert signed["step"] == "eligible"
    signature = signed["events"][0]["signatures"][0]
    assert signature["signer"] == "Test Own Physician"
    assert signature["meaning"] == "eligibility sign-off"
    assert signature["signs"] == signed["events"][0]["hash"]

    p["coordinator"].post(
        f"{case}/screening",
        {"cleared": True, "tests": ["HIV", "HBV"], "occurred_at": at(1)},
    )
    day = (timezone.now() + timedelta(days=3)).date().isoformat()
    chair = p["apheresis"].post(
        f"/api/sites/{unit}/slots", {"kind": "apheresis_chair", "day": day, "capacity": 1}
    )
    assert chair["id"] in {s["id"] for s in p["coordinator"].get(f"/api/slots?site={unit}")}
    p["coordinator"].post(
        f"{case}/apheresis",
        {"slot_at": f"{day}T08:00:00+00:00", "slot_id": chair["id"], "occurred_at": at(1.1)},
    )

    din = new_identifier("W7011", 26, 4242)
    other_case = new_identifier("W7001", 26, 999_999).barcode
    mismatch = p["apheresis"].post(
        f"{case}/collections",
        {"scanned_coi": other_case, "collection_din": din.eye_readable},
        expect=422,
    )
    assert mismatch["scans"]
    p["apheresis"].post(
        f"{case}/collections",
        {"scanned_coi": scan, "collection_din": din.eye_readable, "occurred_at": at(4)},
    )

    # The manufacturer does not hold the case until a slot there is booked for it.
    p["manufacturing"].get(case, expect=404)
    slot = p["manufacturing"].post(
        f"/api/sites/{factory}/slots",
        {"kind": "manufacturing", "day": day, "capacity": 2},
    )
    p["coordinator"].post(f"{case}/manufacturing-slot", {"slot_id": slot["id"]})
    seen = p["manufacturing"].get(case)
    assert seen["patient"] is None

    p["manufacturing"].post(
        f"{case}/manufacturing",
        {
            "scanned_coi": scan,
            "scanned_din": din.barcode,
            "weight_kg": 72,
            "order_ref": "ORD-1",
            "occurred_at": at(5),
        },
    )
    released = p["manufacturing"].post(
        f"{case}/release",
        {
            "password": _pw(net, Role.MANUFACTURING),
            "dose_cells": 2e8,
            "bags": [{"bag_id": "BAG-901", "lot": "LOT-901"}],
            "occurred_at": at(6),
        },
    )
    assert released["events"][0]["signatures"][0]["meaning"] == "product release"

    stale = p["manufacturing"].post(
        f"{case}/custody/shipments",
        {
            "scanned_coi": scan,
            "scanned_bag_ids": ["BAG-901"],
            "courier": courier_site,
            "expected_version": 1,
        },
        expect=409,
    )
    assert "reload" in stale["detail"]
    p["manufacturing"].post(
        f"{case}/custody/shipments",
        {
            "scanned_coi": scan,
            "scanned_bag_ids": ["BAG-901"],
            "courier": courier_site,
            "expected_version": released["version"],
            "occurred_at": at(7),
        },
    )
    p["courier"].post(
        f"{case}/custody/temperatures",
        {"celsius": -160, "location": "shipper", "occurred_at": at(7.2)},
    )
    p["pharmacy"].post(
        f"{case}/custody/receipts",
        {
            "scanned_coi": scan,
            "scanned_bag_ids": ["BAG-901"],
            "celsius": -155,
            "storage_location": "LN2 tank 1",
            "occurred_at": at(8),
        },
    )
    p["pharmacy"].post(f"{case}/custody/availability", {"occurred_at": at(8.1)})
    custody = p["courier"].get(f"{case}/custody")
    assert [e["type"] for e in custody][:3] == [
        "product.released",
        "product.shipped",
        "product.temperature_recorded",
    ]

    p["physician"].post(
        f"{case}/lymphodepletion",
        {"regimen": "flu-cy", "occurred_at": at(9)},
    )
    p["physician"].post(f"{case}/lymphodepletion/completion", {"occurred_at": at(12)})
    p["pharmacy"].post(f"{case}/thaws", {"scanned_coi": scan, "scanned_bag_id": "BAG-901"})
    infused = p["pharmacy"].post(
        f"{case}/infusions",
        {
            "scanned_wristband": scan,
            "identity_confirmed": True,
            "scanned_bag_label": scan,
            "scanned_bag_id": "BAG-901",
            "witness": {
                "username": net.own[Role.PHYSICIAN].get_username(),
                "password": _pw(net, Role.PHYSICIAN),
            },
        },
        HTTP_X_REQUEST_ID="bedside-scan-0001",
    )
    assert infused["step"] == "infused"

    read = p["auditor"].get(case)
    assert [s["meaning"] for s in read["signatures"]] == [
        "eligibility sign-off",
        "product release",
        "infusion",
    ]
    assert all(s["signer"] and s["signed_at"] for s in read["signatures"])
    assert all(s["valid"] for s in p["auditor"].get(f"{case}/signatures"))
    assert p["auditor"].get(f"{case}/audit/verify")["ok"] is True
    assert p["auditor"].get("/api/audit/verify")["ok"] is True
    audit = AuditRow.objects.get(case_coi=coi, operation="infuse")
    assert audit.request_id == "bedside-scan-0001"
    assert audit.username == net.own[Role.PHARMACY].get_username()


def test_invalid_input_is_a_422_naming_each_wrong_field(api_net: ApiNetwork) -> None:
    courier = Caller(api_net.token_client(Role.COURIER))
    answer = courier.post(
        f"/api/cases/{api_net.case.coi}/custody/temperatures",
        {"celsius": "very cold", "location": "", "occurred_at": "2026-01-01T00:00:00"},
        expect=422,
    )
    fields = {error["field"] for error in answer["errors"]}
    assert fields == {"celsius", "location", "occurred_at"}
    assert "celsius" in answer["detail"]


def test_a_clinical_time_in_the_future_is_refused(api_net: ApiNetwork) -> None:
    courier = Caller(api_net.token_client(Role.COURIER))
    later = (timezone.now() + timedelta(days=30)).isoformat()
    answer = courier.post(
        f"/api/cases/{api_net.case.coi}/custody/temperatures",
        {"celsius": -150, "location": "shipper", "occurred_at": later},
        expect=422,
    )
    assert answer["errors"][0]["field"] == "occurred_at"


def test_a_temperature_excursion_quarantines_until_quality_decides(api_net: ApiNetwork) -> None:
    case = f"/api/cases/{api_net.case.coi}"
    courier = Caller(api_net.token_client(Role.COURIER))
    quality = Caller(api_net.client(api_net.own[Role.QUALITY]))
    hot = courier.post(f"{case}/custody/temperatures", {"celsius": -40, "location": "shipper"})
    assert hot["step"] == "quarantined"
    decided = quality.post(
        f"{case}/exceptions/quarantine-decision",
        {
            "password": _pw(api_net, Role.QUALITY),
            "release": True,
            "reason": "excursion within the stability data (synthetic)",
        },
    )
    assert decided["events"][0]["signatures"][0]["meaning"] == "quality decision"
    assert quality.get(f"{case}/exceptions")["quality_decisions"]


def test_a_reviewer_signs_an_event_already_recorded_and_the_signature_shows(
    api_net: ApiNetwork,
) -> None:
    case = f"/api/cases/{api_net.case.coi}"
    quality = Caller(api_net.client(api_net.own[Role.QUALITY]))
    event = api_net.last_event()
    signed = quality.post(
        f"{case}/events/{event.hash}/signatures",
        {"password": _pw(api_net, Role.QUALITY), "meaning": "review"},
    )
    assert (signed["signs"], signed["meaning"]) == (event.hash, "review")
    assert "review" in signed["manifestation"]
    events = quality.get(f"{case}/events")
    reviewed = next(e for e in events if e["hash"] == event.hash)
    assert [s["meaning"] for s in reviewed["signatures"]] == ["review"]
    quality.post(
        f"{case}/events/{'0' * 64}/signatures",
        {"password": _pw(api_net, Role.QUALITY), "meaning": "review"},
        expect=404,
    )
