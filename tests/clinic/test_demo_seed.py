"""The demo network: built through the services, every step represented, clearly synthetic,
and seeded once however often ``cartflow demo`` runs."""

from __future__ import annotations

import io
import json
import re
from contextlib import redirect_stdout
from datetime import date

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.utils import timezone

from cartflow.cli import main
from cartflow.clinic import access, demo_seed, services
from cartflow.clinic.models import (
    AuditRow,
    CaseProjection,
    Event,
    Patient,
    Signature,
    Site,
    Slot,
    TherapyCase,
)
from cartflow.domain.roles import Role

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, int]:
    models = (TherapyCase, Patient, Event, Signature, Site, Slot, AuditRow, get_user_model())
    return {model.__name__: model.objects.count() for model in models}


@pytest.fixture
def seeded() -> demo_seed.SeedReport:
    return demo_seed.seed()


def test_seeding_twice_adds_nothing(seeded: demo_seed.SeedReport) -> None:
    before = _counts()
    again = demo_seed.seed()
    assert seeded.created and not again.created
    assert _counts() == before
    assert 24 <= before["TherapyCase"] <= 60


def test_every_seeded_case_has_a_verified_event_log(seeded: demo_seed.SeedReport) -> None:
    report = services.verify_ledger()
    assert report.ok, report.to_dict()
    assert all(services.verify_signature(s)[0] for s in Signature.objects.all())
    assert Event.objects.filter(occurred_at__gt=timezone.now()).count() == 0


def test_the_network_has_centers_apheresis_units_two_manufacturers_and_a_courier(
    seeded: demo_seed.SeedReport,
) -> None:
    kinds = [site.kind for site in Site.objects.filter(slug__startswith="demo-")]
    assert kinds.count("treatment_center") >= 3
    assert kinds.count("apheresis_unit") >= 2
    assert kinds.count("manufacturing_site") == 2
    assert kinds.count("courier") == 1
    assert all("(synthetic)" in site.name for site in Site.objects.filter(slug__startswith="demo-"))


def test_the_cases_spread_over_every_step_and_the_special_stories(
    seeded: demo_seed.SeedReport,
) -> None:
    steps = set(CaseProjection.objects.values_list("step", flat=True))
    assert steps >= {
        "referred",
        "antigen_tested",
        "eligible",
        "screened",
        "apheresis_scheduled",
        "collected",
        "manufacturing",
        "released",
        "shipped",
        "received",
        "available",
        "lymphodepleting",
        "lymphodepleted",
        "infused",
        "monitoring",
        "long_term_follow_up",
        "quarantined",
        "product_disposed",
        "withdrawn",
    }
    types = set(Event.objects.values_list("type", flat=True))
    assert {
        "collection.failed",
        "product.out_of_specification",
        "quality.out_of_specification_rejected",
        "product.disposed",
    } <= types
    excursions = [
        json.loads(bytes(e.body))["data"]
        for e in Event.objects.filter(type="product.temperature_recorded")
    ]
    assert any(reading["excursion"] for reading in excursions)
    repeats = [json.loads(bytes(e.body))["data"] for e in Event.objects.filter(type="ld.started")]
    assert any(course["repeat"] for course in repeats)
    re_collections = [
        json.loads(bytes(e.body))["data"] for e in Event.objects.filter(type="apheresis.scheduled")
    ]
    assert any(s["re_collection"] for s in re_collections)


def test_every_patient_is_clearly_synthetic(seeded: demo_seed.SeedReport) -> None:
    for patient in Patient.objects.all():
        assert patient.given_name == "Demo"
        assert re.fullmatch(r"Patient-\d{3}", patient.family_name)
        assert re.fullmatch(r"DEMO-\d{4}", patient.record_number)
        assert (patient.birth_date.month, patient.birth_date.day) == (1, 1)
        assert patient.birth_date < date(2010, 1, 1)


def test_every_demo_login_signs_in_with_its_printed_password(
    seeded: demo_seed.SeedReport,
) -> None:
    roles = set()
    for username, password, role in seeded.logins:
        assert authenticate(username=username, password=password) is not None, username
        roles.add(role.split(" at ")[0])
    assert roles == {role.value for role in Role}


def test_the_outsider_and_the_manufacturer_see_only_what_they_hold(
    seeded: demo_seed.SeedReport,
) -> None:
    users = get_user_model().objects
    outsider = access.cases_for_user(users.get(username="outsider"))
    assert {c.treating_site.slug for c in outsider} == {"demo-riverside"}
    east = access.cases_for_user(users.get(username="manufacturing"))
    assert east.exists()
    assert all(c.participants.filter(site__slug="demo-manufacturing-east").exists() for c in east)
    assert east.count() < TherapyCase.objects.count()


def test_the_demo_command_seeds_once_and_prints_one_login_per_role() -> None:
    first, second = io.StringIO(), io.StringIO()
    with redirect_stdout(first):
        assert main(["demo", "--no-serve"]) == 0
    with redirect_stdout(second):
        assert main(["demo", "--no-serve", "--port", "8123"]) == 0
    assert "Seeded the synthetic demo network" in first.getvalue()
    assert "already there" in second.getvalue()
    assert "http://127.0.0.1:8000/" in first.getvalue()
    assert "http://127.0.0.1:8123/api/docs" in second.getvalue()
    for role in Role:
        assert f"demo-{role.value}" in first.getvalue()


def test_each_patient_login_opens_one_case_in_its_own_language(
    seeded: demo_seed.SeedReport,
) -> None:
    from django.test import Client

    assert [u for u, _, _ in seeded.patient_logins] == ["family-en", "family-zh"]
    pages = {}
    for username, password, _ in seeded.patient_logins:
        client = Client()
        answer = client.post("/login/", {"username": username, "password": password})
        assert answer.status_code == 302 and answer["Location"] == "/my/", username
        pages[username] = client.get("/my/").content.decode()
    assert "Your cells arrived frozen at the hospital on <time" in pages["family-en"]
    assert "Chemotherapy" in pages["family-en"] and "(planned" in pages["family-en"]
    assert "你已于<time" in pages["family-zh"] and "回输了 CAR-T 细胞" in pages["family-zh"]
    assert "+1 555 0100" in pages["family-zh"] and "立即致电" in pages["family-zh"]
