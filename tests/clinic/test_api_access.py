"""Who sees what through the API and the pages: pseudonymised sites, outsiders, narrowed
lists, sessions with CSRF, tokens without, and the login, landing and logout pages."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from cartflow.clinic import access
from cartflow.clinic.demo_seed import password_for
from cartflow.clinic.services.errors import NotFound
from cartflow.domain.identifiers import parse_identifier
from cartflow.domain.roles import Action, Role
from tests.clinic.api_network import ApiNetwork, api_net_fixture  # noqa: F401

pytestmark = pytest.mark.django_db

CASE_READS = ("", "/events", "/custody", "/signatures", "/exceptions")


def _identifying(net: ApiNetwork) -> tuple[str, ...]:
    patient = net.patient
    return (
        patient.family_name,
        patient.record_number,
        patient.birth_date.isoformat(),
        str(patient.public_id),
    )


@pytest.mark.parametrize("role", [Role.MANUFACTURING, Role.COURIER])
def test_a_manufacturer_or_courier_reads_the_case_without_the_patient_s_identity(
    api_net: ApiNetwork, role: Role
) -> None:
    client = api_net.token_client(role)
    for suffix in CASE_READS:
        answer = client.get(f"/api/cases/{api_net.case.coi}{suffix}")
        assert answer.status_code == 200, suffix
        text = answer.content.decode()
        assert not [word for word in _identifying(api_net) if word in text], suffix
    listed = client.get("/api/cases").json()
    assert [(c["coi"], c["patient"]) for c in listed] == [(api_net.case.coi, None)]


def test_a_physician_of_the_treating_center_sees_who_the_patient_is(api_net: ApiNetwork) -> None:
    answer = api_net.client(api_net.own[Role.PHYSICIAN]).get(f"/api/cases/{api_net.case.coi}")
    patient = answer.json()["patient"]
    assert (patient["family_name"], patient["record_number"]) == ("Patient-701", "DEMO-7001")


def test_the_apheresis_unit_that_collected_the_cells_sees_who_the_patient_is(
    api_net: ApiNetwork,
) -> None:
    answer = api_net.client(api_net.own[Role.APHERESIS]).get(f"/api/cases/{api_net.case.coi}")
    assert answer.json()["patient"]["record_number"] == "DEMO-7001"


def test_an_outsider_from_another_center_gets_404_for_the_case_not_403(
    api_net: ApiNetwork,
) -> None:
    outsider = api_net.client(api_net.other[Role.PHYSICIAN])
    hidden = outsider.get(f"/api/cases/{api_net.case.coi}")
    missing = outsider.get("/api/cases/W700126999999" + "X")
    assert hidden.status_code == missing.status_code == 404
    assert outsider.get("/api/cases").json() == []
    assert outsider.get("/api/patients").json() == []


def test_a_case_is_found_by_any_written_form_of_its_identifier(api_net: ApiNetwork) -> None:
    client = api_net.client(api_net.own[Role.PHYSICIAN])
    barcode = parse_identifier(api_net.case.coi).barcode
    assert client.get(f"/api/cases/{barcode}").json()["coi"] == api_net.case.coi


def test_get_case_for_user_hides_forbids_and_returns(api_net: ApiNetwork) -> None:
    coi = api_net.case.coi
    assert access.get_case_for_user(api_net.own[Role.COURIER], coi, Action.VIEW_CASE).coi == coi
    with pytest.raises(access.Forbidden):
        access.get_case_for_user(api_net.own[Role.COURIER], coi, Action.INFUSE_BAG)
    with pytest.raises(NotFound):
        access.get_case_for_user(api_net.other[Role.COURIER], coi, Action.VIEW_CASE)
    with pytest.raises(NotFound):
        access.get_case_for_user(api_net.own[Role.PHYSICIAN], "not an identifier", "view_case")


def test_cases_for_user_lists_only_the_cases_of_the_user_s_sites(api_net: ApiNetwork) -> None:
    assert list(access.cases_for_user(api_net.own[Role.COURIER])) == [api_net.case]
    assert list(access.cases_for_user(api_net.other[Role.COURIER])) == []


def test_a_session_write_without_the_csrf_token_is_refused(api_net: ApiNetwork) -> None:
    client = Client(enforce_csrf_checks=True)
    user = api_net.own[Role.COURIER]
    client.get("/login/")  # the login form sets the CSRF cookie
    signed_in = client.post(
        "/login/",
        {
            "username": user.get_username(),
            "password": password_for(user.get_username()),
            "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
        },
    )
    assert signed_in.status_code == 302
    url = f"/api/cases/{api_net.case.coi}/custody/temperatures"
    body = json.dumps({"celsius": -150, "location": "shipper"})
    refused = client.post(url, data=body, content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    token = client.cookies["csrftoken"].value  # rotated at login
    accepted = client.post(url, data=body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 201


def test_a_token_needs_no_csrf_token(api_net: ApiNetwork) -> None:
    client = Client(
        enforce_csrf_checks=True,
        HTTP_AUTHORIZATION=f"Bearer {api_net.tokens['courier']}",
    )
    answer = client.post(
        f"/api/cases/{api_net.case.coi}/custody/temperatures",
        data=json.dumps({"celsius": -150, "location": "shipper"}),
        content_type="application/json",
    )
    assert answer.status_code == 201


def test_anonymous_api_calls_get_401_with_a_bearer_challenge() -> None:
    answer = Client().get("/api/cases")
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"].startswith("Bearer")


def test_a_person_logs_in_sees_who_they_are_and_logs_out(api_net: ApiNetwork) -> None:
    client = Client()
    assert client.get("/").status_code == 302
    user = api_net.own[Role.PHARMACY]
    answer = client.post(
        "/login/",
        {"username": user.get_username(), "password": password_for(user.get_username())},
    )
    assert answer.status_code == 302
    home = client.get("/")
    text = home.content.decode()
    assert home.status_code == 200
    assert user.get_username() in text and "pharmacy" in text and "/api/docs" in text
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_a_wrong_password_on_the_login_page_signs_no_one_in(api_net: ApiNetwork) -> None:
    client = Client()
    user = api_net.own[Role.PHYSICIAN]
    answer = client.post("/login/", {"username": user.get_username(), "password": "guess"})
    assert answer.status_code == 200
    assert "did not match" in answer.content.decode()
    assert client.get("/").status_code == 302


def test_the_api_schema_and_docs_are_served(api_net: ApiNetwork) -> None:
    assert Client().get("/api/openapi.json").status_code == 302  # signed-in people only
    client = api_net.client(api_net.own[Role.AUDITOR])
    schema = client.get("/api/openapi.json").json()
    assert "/api/cases/{coi}/infusions" in schema["paths"]
    assert {"TokenAccess", "SessionAccess"} <= set(schema["components"]["securitySchemes"])
    assert client.get("/api/docs").status_code == 200


def test_listing_cases_takes_the_same_queries_for_one_case_and_for_many(
    api_net: ApiNetwork,
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cartflow.clinic.services import referral

    client = api_net.client(api_net.own[Role.PHYSICIAN])

    def queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            listed = client.get("/api/cases").json()
        return len(captured), len(listed)

    few, count = queries()
    assert count == 1
    for _ in range(6):
        referral.refer_patient(
            api_net.patient,
            product_id="tisagenlecleucel",
            indication_id="tisagenlecleucel/lbcl",
            acting_user=api_net.own[Role.PHYSICIAN],
        )
    many, count = queries()
    assert count == 7
    assert few == many
