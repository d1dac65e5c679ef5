"""A record number that only looks like one already registered is refused, through the API."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from cartflow.clinic.models import Patient, Site

pytestmark = pytest.mark.django_db


def _register(client: Client, site: Site, record_number: str, given: str = "Patient") -> Any:
    return client.post(
        f"/api/sites/{site.slug}/patients",
        {
            "record_number": record_number,
            "given_name": given,
            "family_name": "Test",
            "birth_date": "1970-01-01",
        },
        content_type="application/json",
    )


@pytest.fixture
def signed_in(coordinator: Any, center: Site) -> Client:
    client = Client()
    client.force_login(coordinator)
    return client


@pytest.mark.parametrize(
    "lookalike",
    ["TEST-MRN-0017\u200b", "TEST-MRN-\u041e017", "TEST-MRN-\u202e7100", "\uff34EST-MRN-0017"],
)
def test_a_lookalike_of_a_registered_record_number_is_refused(
    signed_in: Client, center: Site, patient: Patient, lookalike: str
) -> None:
    answer = _register(signed_in, center, lookalike)
    assert answer.status_code in {409, 422}, answer.content
    assert Patient.objects.filter(treating_site=center).count() == 1


def test_a_name_with_a_next_line_character_is_refused_with_a_clear_message(
    signed_in: Client, center: Site
) -> None:
    answer = _register(signed_in, center, "TEST-MRN-0099", given="Pat\u0085ient")
    assert answer.status_code == 422
    assert "given_name" in answer.json()["detail"]
    assert "Pat" not in answer.json()["detail"]


def test_a_full_width_record_number_is_stored_in_its_plain_form(
    signed_in: Client, center: Site
) -> None:
    answer = _register(signed_in, center, "\uff34EST-MRN-0100")
    assert answer.status_code == 201, answer.content
    assert answer.json()["record_number"] == "TEST-MRN-0100"
