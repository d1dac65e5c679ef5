"""Transgene measurements and ICANS grades after the infusion: the services (guards, the
chain, one audit row), the case page (the forms, the population band, the points and the fit,
the message for a product without a population model) and the API route."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from cartflow.clinic import services
from cartflow.clinic.kinetics_panel import horizon_for, kinetics_panel, population_band
from cartflow.clinic.models import AuditRow, Event, TherapyCase
from cartflow.clinic.services.kinetics import KINETICS_MEASURED, record_kinetics_measurement
from cartflow.clinic.services.toxicity import ICANS_GRADED, record_icans_grade
from cartflow.domain.errors import InvalidInput
from cartflow.domain.journey import CaseState, JourneyError
from cartflow.domain.roles import Role
from tests.clinic.api_network import ApiNetwork, build_network

pytestmark = pytest.mark.django_db

B_ALL = "tisagenlecleucel/b-all"


@pytest.fixture
def ball(db: None) -> ApiNetwork:
    """A tisagenlecleucel B-ALL case infused about 120 days ago (in long-term follow-up)."""
    return build_network("follow_up_visit", B_ALL)


@pytest.fixture
def lbcl(db: None) -> ApiNetwork:
    """A tisagenlecleucel LBCL case infused about 120 days ago: no population model."""
    return build_network("follow_up_visit")


@pytest.fixture
def shipped(db: None) -> ApiNetwork:
    """A case not yet infused."""
    return build_network("shipped")


def _physician(net: ApiNetwork) -> Any:
    return net.own[Role.PHYSICIAN]


def _counts(case: TherapyCase) -> tuple[int, int]:
    return Event.objects.filter(case=case).count(), AuditRow.objects.filter(
        case_coi=case.coi
    ).count()


def _infused_at(net: ApiNetwork) -> Any:
    net.case.refresh_from_db()
    return min(
        timezone.datetime.fromisoformat(i["at"]) for i in net.case.projection.state["infusions"]
    )


# --- the service -----------------------------------------------------------------------------


def test_a_measurement_is_an_event_on_the_chain_with_one_audit_row(ball: ApiNetwork) -> None:
    before = _counts(ball.case)
    record_kinetics_measurement(
        ball.case, day=7, copies_per_ug=15000.0, lloq=50.0, acting_user=_physician(ball)
    )
    event = ball.last_event()
    assert event.type == KINETICS_MEASURED
    assert _counts(ball.case) == (before[0] + 1, before[1] + 1)
    audit = AuditRow.objects.filter(case_coi=ball.case.coi).order_by("-id").first()
    assert audit is not None and audit.operation == "record_kinetics_measurement"
    assert services.verify_case(ball.case).ok


def test_values_below_the_limit_are_censored_and_a_sample_time_gives_the_day(
    ball: ApiNetwork,
) -> None:
    user = _physician(ball)
    infused = _infused_at(ball)
    record_kinetics_measurement(ball.case, day=60, copies_per_ug=None, lloq=50, acting_user=user)
    record_kinetics_measurement(ball.case, day=61, copies_per_ug=10, lloq=50, acting_user=user)
    record_kinetics_measurement(
        ball.case, taken_at=infused + timedelta(days=3), copies_per_ug=900, acting_user=user
    )
    rows = [e["data"] for e in _timeline(ball.case) if e["type"] == KINETICS_MEASURED]
    assert [(r["day"], r["copies_per_ug"], r["lloq"], r["censored"]) for r in rows] == [
        (60, None, 50, True),
        (61, 10, 50, True),
        (3, 900, None, False),
    ]
    assert services.verify_case(ball.case).ok


def _timeline(case: TherapyCase) -> list[dict[str, Any]]:
    from cartflow.clinic.queries import case_timeline

    return case_timeline(case)


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ({"day": -1, "copies_per_ug": 10}, "day -1 is out of range"),
        ({"day": 5000, "copies_per_ug": 10}, "day 5000 is out of range"),
        ({"day": 7, "copies_per_ug": -3}, "copies_per_ug -3 is out of range"),
        ({"day": 7, "copies_per_ug": 1e12}, "copies_per_ug 1e+12 is out of range"),
        ({"day": 7, "copies_per_ug": float("nan")}, "finite number"),
        ({"day": 7, "copies_per_ug": 10, "lloq": 0}, "lloq 0 is out of range"),
        ({"day": 7, "copies_per_ug": None}, "give copies_per_ug, or the assay's lloq"),
        ({"day": 7, "copies_per_ug": 0}, "copies_per_ug 0 means below"),
        ({"copies_per_ug": 10}, "give either day"),
        ({"day": 400, "copies_per_ug": 10}, "lies in the future"),
    ],
)
def test_wrong_measurements_are_refused_in_words_and_nothing_is_written(
    ball: ApiNetwork, arguments: dict[str, Any], words: str
) -> None:
    before = _counts(ball.case)
    with pytest.raises(InvalidInput, match=words.replace("+", r"\+")):
        record_kinetics_measurement(ball.case, acting_user=_physician(ball), **arguments)
    assert _counts(ball.case) == before


def test_a_sample_before_the_infusion_or_both_day_and_time_are_refused(ball: ApiNetwork) -> None:
    infused = _infused_at(ball)
    user = _physician(ball)
    with pytest.raises(JourneyError, match="before the first infusion"):
        record_kinetics_measurement(
            ball.case, taken_at=infused - timedelta(hours=2), copies_per_ug=5, acting_user=user
        )
    with pytest.raises(InvalidInput, match="not both"):
        record_kinetics_measurement(
            ball.case, day=1, taken_at=infused, copies_per_ug=5, acting_user=user
        )


def test_measurements_and_icans_grades_need_an_infusion(shipped: ApiNetwork) -> None:
    before = _counts(shipped.case)
    with pytest.raises(JourneyError, match="after the infusion"):
        record_kinetics_measurement(
            shipped.case, day=1, copies_per_ug=10, acting_user=_physician(shipped)
        )
    with pytest.raises(JourneyError, match="ICANS is graded after the infusion"):
        record_icans_grade(
            shipped.case, consciousness="alert", ice=10, acting_user=_physician(shipped)
        )
    assert _counts(shipped.case) == before


def test_an_icans_grade_is_an_event_with_one_audit_row_and_the_chain_verifies(
    lbcl: ApiNetwork,
) -> None:
    before = _counts(lbcl.case)
    record_icans_grade(lbcl.case, consciousness="voice", ice=5, acting_user=_physician(lbcl))
    record_icans_grade(
        lbcl.case, consciousness="alert", capd=12, age_years=8, acting_user=_physician(lbcl)
    )
    grades = [e["data"] for e in _timeline(lbcl.case) if e["type"] == ICANS_GRADED]
    assert [(g["grade"], g["instrument"]) for g in grades] == [(2, "ICE"), (3, "CAPD")]
    assert _counts(lbcl.case) == (before[0] + 2, before[1] + 2)
    assert (
        AuditRow.objects.filter(case_coi=lbcl.case.coi, operation="record_icans_grade").count() == 2
    )
    assert services.verify_case(lbcl.case).ok


def test_an_icans_score_that_does_not_fit_the_patient_is_refused(lbcl: ApiNetwork) -> None:
    before = _counts(lbcl.case)
    with pytest.raises(InvalidInput, match="ICE score was given for a child under 12"):
        record_icans_grade(
            lbcl.case, consciousness="alert", ice=9, age_years=8, acting_user=_physician(lbcl)
        )
    with pytest.raises(InvalidInput, match="ICE score"):
        record_icans_grade(lbcl.case, consciousness="alert", acting_user=_physician(lbcl))
    assert _counts(lbcl.case) == before


# --- the panel, without a page ---------------------------------------------------------------


def test_the_band_is_cached_per_process_and_the_axis_grows_with_the_measurements() -> None:
    assert population_band(35.0) is population_band(35.0)
    band = population_band(35.0)
    assert (band.p05 <= band.median).all() and (band.median <= band.p95).all()
    assert horizon_for([]) == 35.0
    panel = kinetics_panel(
        CaseState(
            product_id="axicabtagene-ciloleucel",
            indication_id="axicabtagene-ciloleucel/lbcl-second-line",
        ),
        "",
        [],
    )
    assert panel["model"] is None and panel["message"] == "no population model for this product"


# --- the case page ---------------------------------------------------------------------------


def _page(net: ApiNetwork, role: Role = Role.PHYSICIAN) -> str:
    answer = net.client(net.own[role]).get(f"/cases/{net.case.coi}/")
    assert answer.status_code == 200
    return answer.content.decode()


def _post(net: ApiNetwork, values: dict[str, str], role: Role = Role.PHYSICIAN) -> Any:
    net.case.refresh_from_db()
    return net.client(net.own[role]).post(
        f"/cases/{net.case.coi}/step/",
        {**values, "expected_version": str(net.case.projection.version)},
    )


def _measure(net: ApiNetwork, **values: str) -> None:
    answer = _post(net, {"operation": "RecordKineticsMeasurement", **values})
    assert answer.status_code == 302, answer.content.decode()[:3000]


def test_the_b_all_case_page_shows_the_band_then_the_points_then_the_fit(
    ball: ApiNetwork,
) -> None:
    page = _page(ball)
    assert 'name="operation" value="RecordKineticsMeasurement"' in page
    assert 'class="kin-band"' in page and "kin-fit" not in page
    assert "No measurements recorded yet" in page
    _measure(ball, day="4", copies_per_ug="2500", lloq="50")
    page = _page(ball)
    assert page.count('class="kin-point"') == 1 and "kin-fit" not in page
    assert "the fit appears from two measurements" in page
    _measure(ball, day="11", copies_per_ug="30000", lloq="50")
    _measure(ball, day="28", copies_per_ug="", lloq="50")
    page = _page(ball)
    assert page.count('class="kin-point"') == 2
    assert page.count('class="kin-censored"') == 1
    assert 'class="kin-fit"' in page and "MAP fit: Cmax" in page
    assert re.search(r"at percentile <strong>\d+</strong> of the population", page)
    assert "AUC0-28" in page
    assert "expansion within the population" in page
    assert services.verify_case(ball.case).ok


def test_a_poor_expansion_is_flagged(ball: ApiNetwork) -> None:
    _measure(ball, day="7", copies_per_ug="150")
    _measure(ball, day="14", copies_per_ug="300")
    page = _page(ball)
    assert "poor expansion" in page and "Cmax below the population" in page


def test_another_product_says_there_is_no_population_model(lbcl: ApiNetwork) -> None:
    _measure(lbcl, day="7", copies_per_ug="5000")
    _measure(lbcl, day="14", copies_per_ug="3000")
    page = _page(lbcl)
    assert "no population model for this product" in page
    assert "<svg" not in page and "MAP fit" not in page
    assert "5,000" in page or "5000" in page


def test_a_wrong_measurement_on_the_page_is_named_and_nothing_is_recorded(
    ball: ApiNetwork,
) -> None:
    before = _counts(ball.case)
    answer = _post(
        ball, {"operation": "RecordKineticsMeasurement", "day": "-2", "copies_per_ug": "5"}
    )
    assert answer.status_code == 422
    assert "at least 0" in answer.content.decode()  # in plain words, not the library's
    answer = _post(ball, {"operation": "RecordKineticsMeasurement", "copies_per_ug": "5"})
    assert answer.status_code == 422 and "give either day" in answer.content.decode()
    assert _counts(ball.case) == before


def test_only_a_physician_is_offered_and_may_record_a_measurement(ball: ApiNetwork) -> None:
    assert "RecordKineticsMeasurement" not in _page(ball, Role.COORDINATOR)
    assert "GradeIcans" not in _page(ball, Role.PHARMACY)
    answer = _post(
        ball,
        {"operation": "RecordKineticsMeasurement", "day": "3", "copies_per_ug": "5"},
        Role.PHARMACY,
    )
    assert answer.status_code == 403


def test_icans_is_graded_on_the_page_beside_crs(lbcl: ApiNetwork) -> None:
    page = _page(lbcl)
    assert 'value="GradeCrs"' in page and 'value="GradeIcans"' in page
    answer = _post(
        lbcl,
        {
            "operation": "GradeIcans",
            "consciousness": "touch",
            "ice": "6",
            "seizure": "none",
            "motor": "none",
            "edema": "none",
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:3000]
    page = _page(lbcl)
    assert "ICANS grade <strong>3</strong> (ICE 6/10)" in page
    assert "No CRS grade recorded" in page


def test_a_wrong_icans_form_is_refused_in_words(lbcl: ApiNetwork) -> None:
    before = _counts(lbcl.case)
    answer = _post(
        lbcl,
        {
            "operation": "GradeIcans",
            "consciousness": "alert",
            "ice": "9",
            "age_years": "7",
            "seizure": "none",
            "motor": "none",
            "edema": "none",
        },
    )
    assert answer.status_code == 422
    assert "ICANS is graded with CAPD" in answer.content.decode()
    answer = _post(
        lbcl,
        {
            "operation": "GradeIcans",
            "consciousness": "alert",
            "ice": "11",
            "seizure": "none",
            "motor": "none",
            "edema": "none",
        },
    )
    assert answer.status_code == 422
    assert _counts(lbcl.case) == before


# --- the API ---------------------------------------------------------------------------------


def _api(net: ApiNetwork, body: dict[str, Any], role: Role = Role.PHYSICIAN) -> Any:
    client: Client = net.client(net.own[role])
    return client.post(
        f"/api/cases/{net.case.coi}/kinetics/measurements",
        data=body,
        content_type="application/json",
    )


def test_the_api_records_a_measurement(ball: ApiNetwork) -> None:
    answer = _api(ball, {"day": 9.5, "copies_per_ug": 21000, "lloq": 50})
    assert answer.status_code == 201, answer.content[:500]
    event = answer.json()["events"][-1]
    assert event["type"] == KINETICS_MEASURED
    assert event["data"]["day"] == 9.5 and event["data"]["censored"] is False
    token = Client(HTTP_AUTHORIZATION=f"Bearer {ball.tokens['physician']}")
    answer = token.post(
        f"/api/cases/{ball.case.coi}/kinetics/measurements",
        data={"day": 20, "lloq": 50},
        content_type="application/json",
    )
    assert answer.status_code == 201 and answer.json()["events"][-1]["data"]["censored"] is True
    assert services.verify_case(ball.case).ok


def test_the_api_refuses_wrong_input_and_other_roles(ball: ApiNetwork) -> None:
    assert _api(ball, {"day": -1, "copies_per_ug": 5}).status_code == 422
    assert _api(ball, {"day": 3, "copies_per_ug": 1e12}).status_code == 422
    answer = _api(ball, {"copies_per_ug": 5})
    assert answer.status_code == 422 and "give either day" in answer.content.decode()
    assert _api(ball, {"day": 3, "copies_per_ug": 5}, Role.PHARMACY).status_code == 403
    assert _api(ball, {"day": 3, "copies_per_ug": 5}, Role.COORDINATOR).status_code == 403


def test_the_api_refuses_a_case_not_infused(shipped: ApiNetwork) -> None:
    answer = _api(shipped, {"day": 0, "copies_per_ug": 5})
    assert answer.status_code == 422 and "after the infusion" in answer.content.decode()
