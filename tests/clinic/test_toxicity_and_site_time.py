"""CRS and ICANS grading through the API (``Action.GRADE_TOXICITY``, physicians only), and the
pages' times in the treating site's own time zone: shown with its abbreviation, and a form's
clinical time read in the same zone."""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from cartflow.clinic import services
from cartflow.clinic.models import AuditRow, Event, TherapyCase
from cartflow.clinic.services.toxicity import CRS_GRADED, ICANS_GRADED
from cartflow.clinic.templatetags.cartflow_time import local_time, zone_label
from cartflow.domain.roles import Role
from tests.clinic.api_network import ApiNetwork, build_network

pytestmark = pytest.mark.django_db

ZURICH = "Europe/Zurich"


@pytest.fixture
def infused(db: None) -> ApiNetwork:
    """A case infused about 120 days ago (in long-term follow-up), at a UTC site."""
    return build_network("follow_up_visit")


@pytest.fixture
def zurich(db: None) -> ApiNetwork:
    """The same, with the treating center in Europe/Zurich."""
    return build_network("follow_up_visit", center_time_zone=ZURICH)


@pytest.fixture
def shipped(db: None) -> ApiNetwork:
    return build_network("shipped")


def _counts(case: TherapyCase) -> tuple[int, int]:
    return (
        Event.objects.filter(case=case).count(),
        AuditRow.objects.filter(case_coi=case.coi).count(),
    )


def _api(net: ApiNetwork, kind: str, body: dict[str, Any], role: Role = Role.PHYSICIAN) -> Any:
    client: Client = net.client(net.own[role])
    return client.post(
        f"/api/cases/{net.case.coi}/toxicity/{kind}", data=body, content_type="application/json"
    )


def _fields(answer: Any) -> set[str]:
    return {e["field"] for e in answer.json()["errors"]}


# --- the API -------------------------------------------------------------------------------


def test_the_api_grades_crs_with_one_event_and_one_audit_row(infused: ApiNetwork) -> None:
    before = _counts(infused.case)
    answer = _api(
        infused,
        "crs",
        {"temperature_c": 39.2, "hypotension": "no-vasopressors", "oxygen": "low-flow"},
    )
    assert answer.status_code == 201, answer.content[:500]
    event = answer.json()["events"][-1]
    assert event["type"] == CRS_GRADED and event["data"]["grade"] == 2
    assert event["data"]["observed"]["hypotension"] == "no-vasopressors"
    assert _counts(infused.case) == (before[0] + 1, before[1] + 1)
    assert services.verify_case(infused.case).ok


def test_the_api_grades_icans_and_a_system_with_a_token_may_too(infused: ApiNetwork) -> None:
    answer = _api(
        infused,
        "icans",
        {"consciousness": "touch", "ice": 6, "seizure": "none", "motor": "none", "edema": "none"},
    )
    assert answer.status_code == 201, answer.content[:500]
    event = answer.json()["events"][-1]
    assert event["type"] == ICANS_GRADED and event["data"]["grade"] == 3
    token = Client(HTTP_AUTHORIZATION=f"Bearer {infused.tokens['physician']}")
    answer = token.post(
        f"/api/cases/{infused.case.coi}/toxicity/icans",
        data={"consciousness": "alert", "ice": 10},
        content_type="application/json",
    )
    assert answer.status_code == 201 and answer.json()["events"][-1]["data"]["grade"] == 0
    assert services.verify_case(infused.case).ok


def test_the_api_names_each_wrong_field_and_writes_nothing(infused: ApiNetwork) -> None:
    before = _counts(infused.case)
    answer = _api(
        infused,
        "crs",
        {"temperature_c": 60, "hypotension": "maybe", "oxygen": "none", "colour": "red"},
    )
    assert answer.status_code == 422
    assert {"temperature_c", "hypotension", "colour"} <= _fields(answer)
    answer = _api(infused, "crs", {"hypotension": "none", "oxygen": "none"})
    assert answer.status_code == 422 and "temperature_c" in _fields(answer)
    answer = _api(infused, "icans", {"consciousness": "dreaming", "ice": 11, "capd": -1})
    assert answer.status_code == 422
    assert {"consciousness", "ice", "capd"} <= _fields(answer)
    answer = _api(infused, "icans", {"consciousness": "alert", "age_years": 1e9})
    assert answer.status_code == 422 and "age_years" in _fields(answer)
    # The domain's own refusal: an ICE score for a child under 12.
    answer = _api(infused, "icans", {"consciousness": "alert", "ice": 9, "age_years": 7})
    assert answer.status_code == 422 and "CAPD" in answer.content.decode()
    future = (timezone.now() + timedelta(days=5)).isoformat()
    answer = _api(
        infused,
        "crs",
        {"temperature_c": 39, "hypotension": "none", "oxygen": "none", "occurred_at": future},
    )
    assert answer.status_code == 422 and "occurred_at" in _fields(answer)
    assert _counts(infused.case) == before


@pytest.mark.parametrize("role", [Role.PHARMACY, Role.COORDINATOR, Role.QUALITY])
def test_only_a_physician_grades_through_the_api(infused: ApiNetwork, role: Role) -> None:
    body = {"temperature_c": 39, "hypotension": "none", "oxygen": "none"}
    assert _api(infused, "crs", body, role).status_code == 403
    assert _api(infused, "icans", {"consciousness": "alert", "ice": 10}, role).status_code == 403


def test_the_api_refuses_a_grade_before_the_infusion(shipped: ApiNetwork) -> None:
    answer = _api(shipped, "crs", {"temperature_c": 39, "hypotension": "none", "oxygen": "none"})
    assert answer.status_code == 422 and "after the infusion" in answer.content.decode()


def test_the_page_forms_are_offered_to_a_physician_only(infused: ApiNetwork) -> None:
    url = f"/cases/{infused.case.coi}/"
    physician = infused.client(infused.own[Role.PHYSICIAN]).get(url).content.decode()
    nurse = infused.client(infused.own[Role.PHARMACY]).get(url).content.decode()
    assert 'value="GradeCrs"' in physician and 'value="GradeIcans"' in physician
    assert 'value="GradeCrs"' not in nurse and 'value="GradeIcans"' not in nurse
    infused.case.refresh_from_db()
    answer = infused.client(infused.own[Role.PHARMACY]).post(
        f"/cases/{infused.case.coi}/step/",
        {
            "operation": "GradeCrs",
            "temperature_c": "39",
            "hypotension": "none",
            "oxygen": "none",
            "expected_version": str(infused.case.projection.version),
        },
    )
    assert answer.status_code == 403


# --- times in the site's zone --------------------------------------------------------------


def test_local_time_shows_the_zone_s_abbreviation() -> None:
    winter = datetime(2026, 11, 26, 2, 14, tzinfo=UTC)
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert local_time(winter, ZURICH) == "2026-11-26 03:14 CET"
    assert local_time(summer, ZURICH) == "2026-07-01 14:00 CEST"
    assert local_time("2026-11-26T02:14:09+00:00", ZURICH, seconds=True) == (
        "2026-11-26 03:14:09 CET"
    )
    assert local_time(winter, "UTC") == "2026-11-26 02:14 UTC"
    assert local_time(None, ZURICH) == "—"
    assert zone_label(ZURICH, winter) == "Europe/Zurich, CET"


def test_a_case_at_a_site_in_zurich_shows_and_reads_times_in_zurich(zurich: ApiNetwork) -> None:
    zone = zoneinfo.ZoneInfo(ZURICH)
    at = (timezone.now() - timedelta(days=2)).replace(second=0, microsecond=0)
    local = at.astimezone(zone)
    zurich.case.refresh_from_db()
    physician = zurich.client(zurich.own[Role.PHYSICIAN])
    # The form's clinical time (a datetime-local value, no zone) is read in Zurich's time.
    answer = physician.post(
        f"/cases/{zurich.case.coi}/step/",
        {
            "operation": "GradeCrs",
            "temperature_c": "38.6",
            "hypotension": "none",
            "oxygen": "none",
            "fever_masked": "no",
            "occurred_at": local.strftime("%Y-%m-%dT%H:%M"),
            "expected_version": str(zurich.case.projection.version),
        },
    )
    body = answer.content.decode()
    assert answer.status_code == 302, re.findall(r"(?:error|alert)[^>]*>([^<]+)", body)
    event = Event.objects.filter(case=zurich.case, type=CRS_GRADED).get()
    assert event.occurred_at == at
    page = physician.get(f"/cases/{zurich.case.coi}/").content.decode()
    shown = f"{local:%Y-%m-%d %H:%M} {local.tzname()}"
    assert local.tzname() in {"CET", "CEST"}
    # The toxicity section and the timeline show the grade's time in Zurich's time.
    assert f"({zurich.own[Role.PHYSICIAN].get_username()}, {shown})" in page
    assert page.count(shown) >= 2
    # Signatures (name, time, meaning) and every other time too: nothing is shown in UTC.
    signature = re.search(r"Signed by <strong>[^<]+</strong> at (\S+ \S+ (\S+)) — meaning", page)
    assert signature is not None and signature.group(2) in {"CET", "CEST"}
    assert " UTC" not in page
    assert "site time (Europe/Zurich, C" in page
