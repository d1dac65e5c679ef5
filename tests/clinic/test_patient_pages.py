"""The patient view through Django's own client: the coordinator's page issues a link, the
holder sets up a login and sees their step and next date in English and Chinese; the link is
refused after revocation; a patient login opens no staff page and names no staff member."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from cartflow.clinic.models import PatientAccess, TherapyCase
from cartflow.clinic.services import referral
from tests.clinic.fixtures import PASSWORD

pytestmark = pytest.mark.django_db

FAMILY_PASSWORD = "a long family passphrase"


@pytest.fixture
def real_case(patient: Any, physician: Any) -> TherapyCase:
    return referral.refer_patient(
        patient,
        product_id="tisagenlecleucel",
        indication_id="tisagenlecleucel/lbcl",
        acting_user=physician,
    ).case


def staff(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def issue_link(client: Client, coi: str, holder: str = "patient", name: str = "") -> str:
    page = client.post(f"/cases/{coi}/patient-access/", {"holder": holder, "holder_name": name})
    assert page.status_code == 200, page.content.decode()[-2000:]
    found = re.search(r'class="setup-link">[^<]*(/access/[^<]+/)<', page.content.decode())
    assert found, "the link is shown once"
    return found.group(1)


def set_up(link: str, username: str) -> Client:
    client = Client()
    assert client.get(link).status_code == 200
    answer = client.post(
        link,
        {"username": username, "password": FAMILY_PASSWORD, "password_again": FAMILY_PASSWORD},
    )
    assert answer.status_code == 302 and answer["Location"] == "/my/"
    return client


def test_the_patient_sees_the_planned_date_in_english_and_chinese(
    real_case: TherapyCase, coordinator: Any, physician: Any
) -> None:
    team = staff(coordinator)
    planned = (timezone.now() + timedelta(days=10)).date()
    answer = team.post(f"/cases/{real_case.coi}/planned-dates/", {"apheresis_on": planned})
    assert answer.status_code == 302
    family = set_up(issue_link(team, real_case.coi), "family-en")
    page = family.get("/my/").content.decode()
    assert f'datetime="{planned.isoformat()}"' in page
    assert "Cell collection" in page and 'aria-current="step"' in page
    for name in (coordinator.username, physician.username, coordinator.last_name):
        assert name not in page
    assert real_case.patient.record_number not in page
    family.post("/i18n/setlang/", {"language": "zh-hans", "next": "/my/"})
    page = family.get("/my/").content.decode()
    assert "采集细胞" in page and f"{planned.year}年{planned.month}月{planned.day}日" in page


def test_a_revoked_link_is_refused_and_a_revoked_login_sees_nothing(
    real_case: TherapyCase, coordinator: Any
) -> None:
    team = staff(coordinator)
    family = set_up(issue_link(team, real_case.coi), "family-two")
    second = issue_link(team, real_case.coi)
    for access in PatientAccess.objects.all():
        team.post(f"/cases/{real_case.coi}/patient-access/{access.public_id}/revoke/")
    assert Client().get(second).status_code == 404
    closed = family.get("/my/")
    assert closed.status_code == 200 and "not available" in closed.content.decode()
    assert "revoked" not in closed.content.decode().lower()


def test_a_patient_login_opens_no_staff_page(real_case: TherapyCase, coordinator: Any) -> None:
    family = set_up(issue_link(staff(coordinator), real_case.coi), "family-three")
    assert family.get("/").status_code == 302
    for url in (f"/cases/{real_case.coi}/", "/patients/", f"/cases/{real_case.coi}/audit/"):
        assert family.get(url).status_code in (403, 404), url
    assert family.get(f"/api/cases/{real_case.coi}").status_code in (401, 403, 404)


def test_a_child_case_is_opened_to_a_named_guardian_through_the_page(
    real_case: TherapyCase, coordinator: Any
) -> None:
    patient = real_case.patient
    patient.birth_date = patient.birth_date.replace(year=timezone.now().year - 8)
    patient.save()
    team = staff(coordinator)
    refused = team.post(f"/cases/{real_case.coi}/patient-access/", {"holder": "patient"})
    assert refused.status_code == 400 and "parent or guardian" in refused.content.decode()
    link = issue_link(team, real_case.coi, "guardian", "Guardian Example")
    page = set_up(link, "guardian-one").get("/my/").content.decode()
    assert "Your child" in page
