"""The staff pages for labels, outcomes and the registry export, end to end through Django's
test client on the demo network: print (the PDF opens once and names no patient), apply,
void and reprint with a reason, the reconciliation state and release's block; a response
assessment and the end of a CRS episode recorded on the case page; the registry CSV with the
documented columns. Each page in Chinese as well."""

from __future__ import annotations

import csv
import io
from typing import Any
from zoneinfo import ZoneInfo

import pypdfium2 as pdfium
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from cartflow.clinic import access, demo_seed
from cartflow.clinic.case_state import case_state
from cartflow.clinic.models import TherapyCase
from cartflow.clinic.registry import COLUMNS
from cartflow.domain.journey.outcomes import open_episode

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(db: None) -> Any:
    return demo_seed.seed()


def client_for(username: str, language: str = "en") -> Client:
    client = Client()
    assert client.login(username=username, password=demo_seed.password_for(username))
    client.post("/i18n/setlang/", {"language": language, "next": "/"})
    return client


def case_at(username: str, step: str) -> TherapyCase:
    user = get_user_model().objects.get(username=username)
    case = access.cases_for_user(user).filter(projection__step=step).order_by("coi").first()
    assert case is not None, (username, step)
    return case


def fresh_state(case: TherapyCase) -> Any:
    """The case's state as stored now (not the projection read with the case earlier)."""
    return case_state(TherapyCase.objects.get(pk=case.pk))


def pdf_text(data: bytes) -> str:
    document = pdfium.PdfDocument(data)
    return " ".join(page.get_textpage().get_text_range() for page in document)


def test_print_apply_void_and_reprint_labels_with_the_release_block_until_all_are_accounted(
    seeded: Any,
) -> None:
    case = case_at("manufacturing", "manufacturing")
    page_url = f"/cases/{case.coi}/labels/"
    client = client_for("manufacturing")
    assert f'href="{page_url}"' in client.get(f"/cases/{case.coi}/").content.decode()
    page = client.get(page_url).content.decode()
    assert "No label printed yet." in page and "Every printed label is accounted for." in page

    printed = client.post(f"{page_url}print/", {"kind": "product_bag", "count": "2"}, follow=True)
    page = printed.content.decode()
    assert "Printed: L001, L002 (product bag)." in page
    assert 'id="release-block"' in page and "Release is blocked" in page
    assert "Unaccounted for: 2 · applied: 0 · voided: 0 · replaced by a reprint: 0" in page

    answer = client.get(f"{page_url}pdf/")
    assert answer.status_code == 200 and answer["Content-Type"] == "application/pdf"
    assert answer["Content-Disposition"].startswith("attachment;")
    assert answer.content.startswith(b"%PDF")
    text = pdf_text(answer.content)
    assert len(pdfium.PdfDocument(answer.content)) == 2
    patient = case.patient
    for secret in (patient.given_name, patient.family_name, patient.record_number):
        assert secret not in text
    assert str(patient.birth_date) not in text
    # once: a second copy would be a label no print accounts for
    again = client.get(f"{page_url}pdf/", follow=True)
    assert "No labels wait to be opened" in again.content.decode()

    refused = client.post(f"{page_url}voided/", {"label_ids": ["L002"], "reason": ""})
    assert refused.status_code == 422
    assert "Tick the labels to void and give the reason." in refused.content.decode()
    applied = client.post(f"{page_url}applied/", {"label_ids": ["L001"]}, follow=True)
    assert "Recorded as applied: L001." in applied.content.decode()
    voided = client.post(
        f"{page_url}voided/", {"label_ids": ["L002"], "reason": "smudged"}, follow=True
    ).content.decode()
    assert "Voided: L002." in voided and "Every printed label is accounted for." in voided
    assert 'id="release-block"' not in voided

    client.post(f"{page_url}print/", {"kind": "shipper", "count": "1"})
    reprinted = client.post(
        f"{page_url}reprint/", {"label_id": "L003", "reason": "torn"}, follow=True
    ).content.decode()
    assert "Reprinted: L003 is replaced by L004." in reprinted
    pdf = client.get(f"{page_url}pdf/")
    assert pdf.status_code == 200 and "L004" in pdf["Content-Disposition"]
    state = fresh_state(case)
    assert [(x.label_id, x.status) for x in state.labels] == [
        ("L001", "applied"),
        ("L002", "voided"),
        ("L003", "reprinted"),
        ("L004", "printed"),
    ]
    # the reasons are recorded, never overwritten
    assert [x.reason for x in state.labels] == ["", "smudged", "torn", "torn"]


def test_a_wrong_label_request_gets_a_clear_message_and_records_nothing(seeded: Any) -> None:
    case = case_at("manufacturing", "manufacturing")
    client = client_for("manufacturing")
    url = f"/cases/{case.coi}/labels/"
    for data, words in (
        ({"kind": "poster"}, "Choose which label to print."),
        ({"kind": "product_bag", "count": "500"}, "How many: a whole number from 1 to 50."),
        ({"kind": "product_bag", "count": "two"}, "How many: a whole number from 1 to 50."),
    ):
        answer = client.post(f"{url}print/", data)
        assert answer.status_code == 422 and words in answer.content.decode()
    # a collection bag's label is printed by the apheresis unit, not the manufacturer
    answer = client.post(f"{url}print/", {"kind": "collection_bag"})
    assert answer.status_code == 403
    applied = client.post(f"{url}applied/", {"label_ids": ["L999"]})
    assert applied.status_code == 422 and 'class="blocked"' in applied.content.decode()
    assert fresh_state(case).labels == ()


def test_only_the_roles_that_label_see_the_page_and_quality_reconciles_without_printing(
    seeded: Any,
) -> None:
    case = case_at("manufacturing", "manufacturing")
    client_for("manufacturing").post(
        f"/cases/{case.coi}/labels/print/", {"kind": "product_bag", "count": "1"}
    )
    physician = client_for("physician")
    assert "/labels/" not in physician.get(f"/cases/{case.coi}/").content.decode()
    assert physician.get(f"/cases/{case.coi}/labels/").status_code == 403
    quality = client_for("quality")
    page = quality.get(f"/cases/{case.coi}/labels/").content.decode()
    assert "Record as applied" in page and "Print labels" not in page
    assert quality.post(f"/cases/{case.coi}/labels/print/", {"kind": "shipper"}).status_code == 403
    assert (
        "Recorded as applied: L001."
        in quality.post(
            f"/cases/{case.coi}/labels/applied/", {"label_ids": ["L001"]}, follow=True
        ).content.decode()
    )


def test_the_labels_page_in_chinese(seeded: Any) -> None:
    case = case_at("manufacturing", "manufacturing")
    client = client_for("manufacturing", "zh-hans")
    page = client.post(
        f"/cases/{case.coi}/labels/print/", {"kind": "product_bag", "count": "1"}, follow=True
    ).content.decode()
    assert "已打印：L001（产品袋）" in page and "放行被阻止" in page and "标签核销" in page


def test_response_and_the_end_of_a_crs_episode_are_recorded_on_the_case_page(
    seeded: Any,
) -> None:
    case = case_at("physician", "monitoring")
    client = client_for("physician")
    url = f"/cases/{case.coi}/step/"
    page = client.get(f"/cases/{case.coi}/").content.decode()
    assert "Record the response to the therapy" in page
    # the end of an episode is offered exactly while one is open
    assert ("Given for it" in page) == any(
        open_episode(fresh_state(case), syndrome) for syndrome in ("crs", "icans")
    )
    answer = client.post(
        url,
        {
            "operation": "RecordResponseAssessment",
            "response": "complete_remission",
            "method": "flow_mrd",
            "assessed_on": str(fresh_state(case).first_infusion_at.date()),
        },
        follow=True,
    )
    assert "Recorded: Record the response to the therapy" in answer.content.decode()
    state = fresh_state(case)
    assert state.responses[-1].response == "complete_remission"

    # no open episode: the domain refuses, the page says why
    refused = client.post(url, {"operation": "ResolveToxicity", "syndrome": "icans"})
    assert refused.status_code == 422 and 'data-rule-id="toxicity.no_open_episode"' in (
        refused.content.decode()
    )
    client.post(
        url,
        {
            "operation": "GradeCrs",
            "temperature_c": "39.1",
            "hypotension": "none",
            "oxygen": "none",
            "fever_masked": "no",
        },
    )
    assert "Given for it" in client.get(f"/cases/{case.coi}/").content.decode()
    resolved = client.post(
        url,
        {"operation": "ResolveToxicity", "syndrome": "crs", "treatments": ["tocilizumab"]},
        follow=True,
    )
    assert "Recorded: Record that a CRS or ICANS episode resolved" in resolved.content.decode()
    resolution = fresh_state(case).toxicity_resolutions[-1]
    assert resolution.syndrome == "crs" and resolution.treatments == ("tocilizumab",)
    if not open_episode(fresh_state(case), "icans"):
        assert "Given for it" not in client.get(f"/cases/{case.coi}/").content.decode()


def test_the_registry_csv_for_quality_and_admin_has_the_documented_columns(seeded: Any) -> None:
    quality = client_for("quality")
    page = quality.get("/quality/").content.decode()
    assert 'href="/sites/demo-childrens/registry/"' in page
    registry = quality.get("/sites/demo-childrens/registry/").content.decode()
    assert all(f"<code>{c.name}</code>" in registry for c in COLUMNS)
    answer = quality.get("/sites/demo-childrens/registry.csv")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    assert answer["Content-Disposition"].startswith("attachment;")
    text = answer.content.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == [c.name for c in COLUMNS]
    infused = [
        c.coi
        for c in TherapyCase.objects.filter(treating_site__slug="demo-childrens")
        if case_state(c).first_infusion_at is not None
    ]
    assert sorted(r["coi"] for r in rows) == sorted(infused) and infused
    for case in TherapyCase.objects.filter(treating_site__slug="demo-childrens"):
        assert case.patient.family_name not in text and case.patient.record_number not in text
    # a range: a bad date is a clear message, a range with no infusion is the header alone
    bad = quality.get("/sites/demo-childrens/registry.csv", {"start": "yesterday"})
    assert bad.status_code == 422 and "a date, e.g. 2026-03-01" in bad.content.decode()
    empty = quality.get("/sites/demo-childrens/registry.csv", {"end": "2000-01-01"})
    assert empty.content.decode().strip() == ",".join(c.name for c in COLUMNS)

    admin = client_for("admin")
    assert 'href="/sites/demo-childrens/registry/"' in admin.get("/network/").content.decode()
    assert admin.get("/sites/demo-childrens/registry.csv").status_code == 200
    physician = client_for("physician")
    assert physician.get("/sites/demo-childrens/registry.csv").status_code == 403
    assert "/registry/" not in physician.get("/board/").content.decode()
    chinese = client_for("quality", "zh-hans")
    assert "登记导出" in chinese.get("/sites/demo-childrens/registry/").content.decode()


def test_the_api_records_a_response_and_a_resolution_through_the_same_services(
    seeded: Any,
) -> None:
    case = case_at("physician", "monitoring")
    client = client_for("physician")
    day = str(fresh_state(case).first_infusion_at.date())
    answer = client.post(
        f"/api/cases/{case.coi}/response-assessments",
        {"response": "partial_response", "method": "pet_ct", "assessed_on": day},
        content_type="application/json",
    )
    assert answer.status_code == 201, answer.content
    assert fresh_state(case).responses[-1].method == "pet_ct"
    refused = client.post(
        f"/api/cases/{case.coi}/toxicity/resolution",
        {"syndrome": "crs", "treatments": ["tocilizumab"]},
        content_type="application/json",
    )
    assert refused.status_code == 422 and b"toxicity.no_open_episode" in refused.content


def test_a_product_label_prints_the_lot_expiry_the_release_states(seeded: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from cartflow.clinic.services import manufacturing
    from cartflow.clinic.services.machine import catalog
    from cartflow.domain import journey
    from cartflow.domain.catalog import FactName
    from cartflow.domain.journey.guards import dose_range

    case = case_at("manufacturing", "manufacturing")
    state = fresh_state(case)
    dose = (
        catalog()
        .indication(state.indication_id)
        .resolve(FactName.DOSE, timezone.localdate(), state.region or None, state.site_values)
    )
    low, high = dose_range(dose.value, state.order_weight_kg)
    expiry = (timezone.now() + timedelta(days=270)).replace(microsecond=0)
    manufacturing.release_product(
        case,
        acting_user=get_user_model().objects.get(username="manufacturing"),
        password=demo_seed.password_for("manufacturing"),
        dose_cells=low if low is not None else high / 2,
        bags=(journey.BagSpec(bag_id="BAG-EXP-1", lot="LOT-EXP-1", expires_at=expiry),),
    )
    client = client_for("manufacturing")
    url = f"/cases/{case.coi}/labels/"
    client.post(f"{url}print/", {"kind": "product_bag", "count": "1"})
    bag_label = pdf_text(client.get(f"{url}pdf/").content)
    assert f"Expires: {expiry:%Y-%m-%d %H:%M}" in " ".join(bag_label.split())
    client.post(f"{url}print/", {"kind": "shipper", "count": "1"})
    shipper = pdf_text(client.get(f"{url}pdf/").content)
    assert f"{expiry:%Y-%m-%d %H:%M}" in shipper


def test_the_release_form_records_the_lot_expiry_in_the_site_s_time(seeded: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from cartflow.clinic.services.machine import catalog
    from cartflow.clinic.site_zones import case_zone
    from cartflow.domain.catalog import FactName
    from cartflow.domain.journey.guards import dose_range

    case = case_at("manufacturing", "manufacturing")
    state = fresh_state(case)
    dose = (
        catalog()
        .indication(state.indication_id)
        .resolve(FactName.DOSE, timezone.localdate(), state.region or None, state.site_values)
    )
    low, high = dose_range(dose.value, state.order_weight_kg)
    when = (timezone.now() + timedelta(days=200)).strftime("%Y-%m-%dT%H:%M")
    client = client_for("manufacturing")
    page = client.get(f"/cases/{case.coi}/").content.decode()
    assert "Lot expiry" in page
    answer = client.post(
        f"/cases/{case.coi}/step/",
        {
            "operation": "ReleaseProduct",
            "dose_cells": str(low if low is not None else high / 2),
            "bag_id": "BAG-FORM-1",
            "lot": "LOT-FORM-1",
            "expires_at": when,
            "password": demo_seed.password_for("manufacturing"),
        },
    )
    assert answer.status_code == 302, answer.content.decode()[-2000:]
    (bag,) = fresh_state(case).bags
    assert bag.expires_at is not None
    site_time = bag.expires_at.astimezone(ZoneInfo(case_zone(case)))
    assert site_time.strftime("%Y-%m-%dT%H:%M") == when
