"""Issue 9: "A CNCT19 case (inaticabtagene autoleucel) at a site that has signed its protocol
values (dose, regimen, window) is released and infused through the pages, and the case page
names those values as the site's."

The label facts CNCT19 lacks (no Chinese package insert was found: docs/catalog.md) are signed
by the site's physician on the register page; then each person takes the case through the
same pages as any other, and the case page shows which facts of each decision were the
site's. Every value and document here is synthetic.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from cartflow.clinic.models import Site
from cartflow.domain.identifiers import parse_identifier
from tests.browser.network import PATIENT, PageStep, build_network, clinical, local_text, password
from tests.clinic.test_pages_journey import Pages

pytestmark = pytest.mark.django_db

CNCT19 = "inaticabtagene-autoleucel/b-all"
SITE_VALUES = {
    "dose": {"kind": "per_kg_range", "min_per_kg": 800000, "max_per_kg": 1200000},
    "lymphodepletion": [
        {
            "id": "flu-cy",
            "drugs": [
                {"drug": "fludarabine", "mg_per_m2": 30, "days": 3},
                {"drug": "cyclophosphamide", "mg_per_m2": 300, "days": 3},
            ],
        }
    ],
    "infusion_window_days": [2, 14],
    "storage_max_celsius": -150,
    "post_thaw_minutes": 30,
}


def document(fact: str) -> str:
    return f"PAGES-SOP-{fact.replace('_', '-').upper()} (synthetic)"


@pytest.fixture
def pages() -> Pages:
    now = timezone.now()
    net = build_network(now)
    Site.objects.filter(slug="pages-center").update(region="CN")
    return Pages(net)


def sign_site_values(pages: Pages) -> None:
    start = (pages.net.now - timedelta(days=40)).date().isoformat()
    client = pages.as_("physician")
    for fact, value in SITE_VALUES.items():
        answer = client.post(
            "/sites/pages-center/register/",
            {
                "indication": CNCT19,
                "fact": fact,
                "value": json.dumps(value),
                "document_ref": document(fact),
                "effective_from": start,
                "password": password("physician"),
            },
            follow=True,
        )
        assert answer.status_code == 200, answer.content.decode()[:3000]
        assert "Signed into the register of Pages Test Center" in answer.content.decode()


def cnct19_journey(pages: Pages, coi_barcode: str) -> list[PageStep]:
    net = pages.net

    def at(days: float, hour: int) -> object:
        return clinical(net.now, days, hour)

    return [
        PageStep(
            "physician",
            "RecordAntigenTest",
            {"antigen": "CD19", "positive": "yes", "method": "flow cytometry"},
            at(20, 9),  # type: ignore[arg-type]
        ),
        PageStep(
            "physician",
            "SignEligibility",
            {"diagnosis": "B-ALL", "disease_status": "refractory", "prior_lines": "2"},
            at(20, 10),  # type: ignore[arg-type]
            signed=True,
        ),
        PageStep(
            "coordinator",
            "RecordInfectiousDiseaseScreening",
            {"cleared": "yes", "tests": "HIV, HBV, HCV"},
            at(19, 9),  # type: ignore[arg-type]
        ),
        PageStep(
            "coordinator",
            "ScheduleApheresis",
            {"slot_at": local_text(at(17, 8)), "slot_id": "(the network's slot)"},  # type: ignore[arg-type]
            at(19, 10),  # type: ignore[arg-type]
        ),
        PageStep(
            "apheresis",
            "RecordCollection",
            {
                "scanned_coi": coi_barcode,
                "collection_din": net.din.eye_readable,
                "succeeded": "yes",
            },
            at(17, 12),  # type: ignore[arg-type]
        ),
        PageStep(
            "coordinator",
            "BookManufacturingSlot",
            {"slot_id": "(the network's slot)"},
            at(17, 13),  # type: ignore[arg-type]
        ),
        PageStep(
            "maker",
            "StartManufacturing",
            {
                "scanned_coi": coi_barcode,
                "scanned_din": net.din.barcode,
                "weight_kg": "72",
                "order_ref": "ORDER-9902",
            },
            at(16, 9),  # type: ignore[arg-type]
        ),
        PageStep(
            "maker",
            "ReleaseProduct",
            # 72 kg x 0.8-1.2 x 10^6/kg (the site's dose): 5.76-8.64 x 10^7
            {"dose_cells": "7.0e7", "bag_id": net.bag_id, "lot": net.lot},
            at(6, 9),  # type: ignore[arg-type]
            signed=True,
        ),
        PageStep(
            "maker",
            "ShipProduct",
            {"scanned_coi": coi_barcode, "scanned_bag_ids": net.bag_id, "courier": "pages-courier"},
            at(6, 12),  # type: ignore[arg-type]
        ),
        PageStep(
            "courier",
            "RecordTemperature",
            {"celsius": "-160", "location": "dry shipper"},
            at(6, 18),  # type: ignore[arg-type]
        ),
        PageStep(
            "nurse",
            "ReceiveProduct",
            {
                "scanned_coi": coi_barcode,
                "scanned_bag_ids": net.bag_id,
                "celsius": "-158",
                "storage_location": "LN2 tank 2",
            },
            at(5, 9),  # type: ignore[arg-type]
        ),
        PageStep("nurse", "ConfirmProductAvailability", {}, at(5, 10)),  # type: ignore[arg-type]
        PageStep("physician", "StartLymphodepletion", {"regimen": "flu-cy"}, at(5, 11)),  # type: ignore[arg-type]
        PageStep("physician", "CompleteLymphodepletion", {}, at(3, 11)),  # type: ignore[arg-type]
        PageStep("nurse", "ThawBag", {"scanned_coi": coi_barcode, "scanned_bag_id": net.bag_id}),
    ]


def refer_cnct19(pages: Pages) -> None:
    answer = pages.as_("coordinator").post("/patients/new/", {"site": "pages-center", **PATIENT})
    assert answer.status_code == 302, answer.content.decode()[:2000]
    answer = pages.as_("physician").post(
        answer["Location"] + "refer/",
        {"indication_id": CNCT19, "occurred_at": local_text(clinical(pages.net.now, 20, 8))},
    )
    assert answer.status_code == 302, answer.content.decode()[:3000]
    pages.coi = answer["Location"].strip("/").split("/")[-1]


def test_without_the_sites_values_the_release_is_refused_as_not_in_the_catalog(
    pages: Pages,
) -> None:
    refer_cnct19(pages)
    barcode = parse_identifier(pages.coi).barcode
    steps = cnct19_journey(pages, barcode)
    for step in steps[:7]:  # up to manufacturing: no unknown fact is needed
        pages.do(step)
    release = steps[7]
    answer = pages.as_(release.who).post(f"/cases/{pages.coi}/step/", pages.form(release))
    html = answer.content.decode()
    assert answer.status_code == 422
    assert "not in the catalog" in html
    assert pages.case().projection.step == "manufacturing"


def test_a_cnct19_case_is_released_and_infused_on_the_sites_signed_values(pages: Pages) -> None:
    sign_site_values(pages)
    refer_cnct19(pages)
    barcode = parse_identifier(pages.coi).barcode
    for step in cnct19_journey(pages, barcode):
        pages.do(step)
    assert pages.case().projection.step == "thawed"
    answer = pages.infuse()
    assert answer.status_code == 200 and "infused." in answer.content.decode()
    assert pages.case().projection.step == "infused"

    html = pages.as_("physician").get(f"/cases/{pages.coi}/").content.decode()
    assert html.count("Decided on the site's signed values, not the label's:") >= 4
    for fact in ("dose", "lymphodepletion", "infusion_window_days", "post_thaw_minutes"):
        assert document(fact) in html, fact
    # The words, not the code names: "lymphodepleting regimen", "infusion window".
    assert "lymphodepleting regimen: flu-cy (fludarabine 30 mg/m² × 3 days" in html
    assert "infusion window (days after lymphodepletion): 2, 14" in html


def test_the_eligibility_page_groups_the_diagnosis_first_and_counts_the_others(
    pages: Pages,
) -> None:
    from cartflow.clinic.services.machine import catalog

    refer_cnct19(pages)
    answer = pages.as_("physician").post(
        f"/cases/{pages.coi}/eligibility/",
        {"diagnosis": "B-ALL", "disease_status": "refractory", "prior_lines": "2"},
    )
    html = answer.content.decode()
    b_all = [i for i in catalog().indications() if "B-ALL" in i.diseases]
    others = len(catalog().indications()) - len(b_all)
    assert f"{others} indications for other diseases</summary>" in html
    head, _, tail = html.partition("<details")
    for indication in b_all:
        assert indication.id in head, indication.id
        assert indication.id not in tail
    assert "LBCL" not in head.split("Products and indications", 1)[1]
    assert "Approved: CN since 2023-11-08" in head  # CNCT19 in the site's region
    assert ">needs information<" in html or ">eligible<" in html
    assert "needsinformation" not in html and "noteligible" not in html
