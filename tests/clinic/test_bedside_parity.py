"""The bedside check through the page and through the API: the same rules, the same answers.

Each scenario is played twice, on two cases of one network: once through the scanner-first
page (a nurse signed in, the physician's login on the last screen), once through
``POST /api/cases/{coi}/infusions`` (the nurse's session, the witness in the body). Both end
in the one infusion service and the domain's checks, so they must agree on the outcome, the
rule's identifier and words, the events appended and the deviation opened. A refused
infusion leaves neither ``bedside.verified`` nor ``product.infused`` behind.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from cartflow.clinic.models import Event
from cartflow.domain.identifiers import new_identifier, parse_identifier
from tests.browser.network import PATIENT, build_network, journey, password
from tests.clinic.test_pages_journey import Pages

pytestmark = pytest.mark.django_db

SECOND_PATIENT = {**PATIENT, "record_number": "DEMO-9902", "family_name": "Patient-902"}


@pytest.fixture
def two() -> Pages:
    return Pages(build_network(timezone.now()))


@dataclass(frozen=True)
class Scenario:
    wristband: str = "own"  # "own": the patient's record number; else the text scanned
    bag_label: str = "own"  # "own": the case's identifier; "other": the other case's
    bag_id: str = "own"
    witness: str = "physician"
    thaw_hours_ago: float | None = None


SCENARIOS = {
    "right bag": Scenario(),
    "wrong wristband": Scenario(wristband="DEMO-0000"),
    "wrong bag label": Scenario(bag_label="other"),
    "wrong bag number": Scenario(bag_id="BAG-999"),
    "the nurse as her own witness": Scenario(witness="nurse"),
    "a witness who may not sign": Scenario(witness="coordinator"),
    "an expired thaw": Scenario(thaw_hours_ago=7),
}


EXPECTED_RULES = {
    "wrong wristband": "bedside.wristband",
    "wrong bag label": "bedside.bag_label",
    "wrong bag number": "bedside.bag_number",
    "the nurse as her own witness": "bedside.witness_same_person",
    "a witness who may not sign": "bedside.witness_role",
    "an expired thaw": "infusion.post_thaw_window",
}


@dataclass(frozen=True)
class Outcome:
    infused: bool
    status: int  # 422 for a refusal; the success codes differ by channel (page 200, API 201)
    rule_id: str
    rule: str
    events: tuple[str, ...]
    deviation: dict[str, Any] | None


def walk(pages: Pages, patient: dict[str, str], thawed_at: datetime | None) -> str:
    pages.coi = ""
    answer = pages.as_("coordinator").post("/patients/new/", {"site": "pages-center", **patient})
    assert answer.status_code == 302, answer.content.decode()[:2000]
    pages_refer(pages, answer["Location"])
    barcode = parse_identifier(pages.coi).barcode
    steps = journey(pages.net, barcode)
    if thawed_at is not None:
        steps[-1] = replace(steps[-1], at=thawed_at)
    for step in steps:
        pages.do(step)
    return pages.coi


def pages_refer(pages: Pages, patient_url: str) -> None:
    from tests.browser.network import clinical, local_text

    answer = pages.as_("physician").post(
        patient_url + "refer/",
        {
            "indication_id": "tisagenlecleucel/lbcl",
            "occurred_at": local_text(clinical(pages.net.now, 20, 8)),
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:3000]
    pages.coi = answer["Location"].strip("/").split("/")[-1]


def scans_for(s: Scenario, coi: str, other: str, record: str, bag: str) -> dict[str, str]:
    return {
        "wristband": record if s.wristband == "own" else s.wristband,
        "bag_label": parse_identifier(coi if s.bag_label == "own" else other).eye_readable,
        "bag_id": bag if s.bag_id == "own" else s.bag_id,
    }


def new_events(coi: str, after: int) -> tuple[list[str], dict[str, Any] | None]:
    rows = Event.objects.filter(case__coi=coi, seq__gt=after).order_by("seq")
    types = [row.type for row in rows]
    deviation = None
    for row in rows:
        if row.type == "deviation.opened":
            data = json.loads(bytes(row.body))["data"]
            deviation = {"kind": data["kind"], "details": data["details"]}
            if "scanned" in deviation["details"]:
                # Another case's identifier was scanned: the same on both, but for its case.
                deviation["details"] = {**deviation["details"], "scanned": "<scan>"}
    return types, deviation


def through_page(pages: Pages, coi: str, s: Scenario, scans: dict[str, str]) -> Outcome:
    version = pages.case().projection.version
    form = {**scans, "identity": "confirmed"}
    answer = pages.bedside(**form)
    if answer.status_code == 200:
        answer = pages.bedside(
            **form,
            stage="second",
            second_username=f"pages-{s.witness}",
            second_password=password(s.witness),
        )
    text = answer.content.decode()
    found = re.search(r'data-rule-id="([^"]*)"', text)
    words = re.search(r'class="rule">([^<]*)<', text)
    types, deviation = new_events(coi, version)
    return Outcome(
        infused=answer.status_code == 200 and 'id="infused"' in text,
        status=422 if answer.status_code == 422 else 0,
        rule_id=found.group(1) if found else "",
        rule=html.unescape(words.group(1)).strip() if words else "",
        events=tuple(types),
        deviation=deviation,
    )


def through_api(pages: Pages, coi: str, s: Scenario, scans: dict[str, str]) -> Outcome:
    version = pages.case().projection.version
    body = {
        "scanned_wristband": scans["wristband"],
        "identity_confirmed": True,
        "scanned_bag_label": scans["bag_label"],
        "scanned_bag_id": scans["bag_id"],
        "witness": {"username": f"pages-{s.witness}", "password": password(s.witness)},
    }
    answer = pages.as_("nurse").post(
        f"/api/cases/{coi}/infusions", data=body, content_type="application/json"
    )
    reply = answer.json()
    types, deviation = new_events(coi, version)
    return Outcome(
        infused=answer.status_code == 201,
        status=422 if answer.status_code == 422 else 0,
        rule_id=reply.get("rule_id", ""),
        # The API answers the rule in the page's words too (``words``; ``rule`` is the
        # domain's English).
        rule=reply.get("words") or reply.get("rule", ""),
        events=tuple(types),
        deviation=deviation,
    )


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_the_page_and_the_api_give_the_same_answer(two: Pages, name: str) -> None:
    pages = two
    s = SCENARIOS[name]
    # One thaw moment for both cases, so their deadlines are the same minute.
    thawed_at = (
        None if s.thaw_hours_ago is None else timezone.now() - timedelta(hours=s.thaw_hours_ago)
    )
    first = walk(pages, PATIENT, thawed_at)
    first_bag = pages.net.bag_id
    # The second case has its own collection and bag (identifiers are unique network-wide).
    pages.net.din = new_identifier("W8011", pages.net.now.year % 100, 4243)
    pages.net.bag_id, pages.net.lot = "BAG-9902", "LOT-9902"
    second = walk(pages, SECOND_PATIENT, thawed_at)
    pages.coi = first
    page_scans = scans_for(s, first, second, PATIENT["record_number"], first_bag)
    page = through_page(pages, first, s, page_scans)
    pages.coi = second
    api_scans = scans_for(s, second, first, SECOND_PATIENT["record_number"], "BAG-9902")
    api = through_api(pages, second, s, api_scans)
    # The minutes since the thaw are counted when each answer is given: a minute may turn
    # between the page's request and the API's, so that one number is compared as a number.
    assert replace(page, rule=_elapsed(page.rule)) == replace(api, rule=_elapsed(api.rule)), name
    if name == "right bag":
        assert page.infused
        assert page.events == ("bedside.verified", "product.infused", "signature.applied")
        return
    assert not page.infused and page.status == 422 and page.rule
    assert page.rule_id == EXPECTED_RULES[name]
    assert "bedside.verified" not in page.events and "product.infused" not in page.events
    scan_refusal = page.rule_id in ("bedside.wristband", "bedside.bag_label", "bedside.bag_number")
    assert (page.deviation is not None) == scan_refusal
    assert page.events == (("deviation.opened",) if scan_refusal else ())
    for coi in (first, second):
        assert PATIENT["record_number"] not in _bodies(coi)
        assert SECOND_PATIENT["record_number"] not in _bodies(coi)


def _elapsed(words: str) -> str:
    return re.sub(r"\d+ minutes have passed", "N minutes have passed", words)


def _bodies(coi: str) -> str:
    return " ".join(
        bytes(b).decode()
        for b in Event.objects.filter(case__coi=coi).values_list("body", flat=True)
    )
