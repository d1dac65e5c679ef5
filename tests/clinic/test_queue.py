"""The work queue and the board over the demo network: each working role lands on the cases
waiting on it and on no other's; the administrator and the auditor land on their own pages;
no board offers a case page its reader may not open; the board searches and filters."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from cartflow.clinic import demo_seed
from cartflow.clinic.case_state import case_state
from cartflow.clinic.models import TherapyCase
from cartflow.clinic.worklist import waits_on
from cartflow.domain.roles import Role

pytestmark = pytest.mark.django_db

WORKING = {
    "coordinator": Role.COORDINATOR,
    "physician": Role.PHYSICIAN,
    "apheresis": Role.APHERESIS,
    "manufacturing": Role.MANUFACTURING,
    "courier": Role.COURIER,
    "pharmacy": Role.PHARMACY,
    "quality": Role.QUALITY,
}
CASE_LINK = re.compile(r'href="/cases/([^/"]+)/"')


@pytest.fixture
def seeded() -> Any:
    return demo_seed.seed()


def _as(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=demo_seed.password_for(username))
    return client


def test_each_working_role_lands_on_the_cases_waiting_on_it_and_no_other(seeded: Any) -> None:
    for username, role in WORKING.items():
        page = _as(username).get("/")
        assert page.status_code == 200
        listed = set(CASE_LINK.findall(page.content.decode()))
        assert listed, f"nothing waits on the demo {username}"
        for coi in listed:
            state = case_state(TherapyCase.objects.get(coi=coi))
            assert role in waits_on(state), (username, coi, state.step)


def test_the_administrator_and_the_auditor_land_on_their_own_pages(seeded: Any) -> None:
    assert _as("admin").get("/")["Location"] == "/network/"
    assert _as("auditor").get("/")["Location"] == "/audit/"
    page = _as("admin").get("/network/").content.decode()
    assert "Demo Coordinator" in page and "coordinator" in page


def test_no_board_offers_a_case_page_its_reader_may_not_open(seeded: Any) -> None:
    for username in [*WORKING, "admin", "auditor"]:
        client = _as(username)
        links = set(CASE_LINK.findall(client.get("/board/").content.decode()))
        for coi in sorted(links)[:8]:
            assert client.get(f"/cases/{coi}/").status_code == 200, (username, coi)


def test_the_board_finds_a_case_by_identifier_and_by_name_and_filters(seeded: Any) -> None:
    client = _as("coordinator")
    case = TherapyCase.objects.select_related("patient").filter(projection__active=True).first()
    assert case is not None
    by_id = client.post("/board/", {"q": case.coi}).content.decode()
    assert set(CASE_LINK.findall(by_id)) == {case.coi}
    by_name = client.post("/board/", {"q": case.patient.family_name}).content.decode()
    assert case.coi in CASE_LINK.findall(by_name)
    by_phase = client.get("/board/", {"phase": "5"}).content.decode()
    headings = re.findall(r'<h2 id="phase-\d+">([^<]+)', by_phase)
    assert [h.strip() for h in headings] == ["5. Infusion"]
    nobody = client.get("/board/", {"product": "no-such-product"}).content.decode()
    assert not CASE_LINK.findall(nobody)


def test_a_courier_does_not_find_a_case_by_the_patient_s_name(seeded: Any) -> None:
    case = TherapyCase.objects.select_related("patient").filter(projection__step="shipped").first()
    if case is None:
        pytest.skip("no shipped case in the demo")
    page = _as("courier").post("/board/", {"q": case.patient.family_name}).content.decode()
    assert not CASE_LINK.findall(page)
