"""The case page offers the lymphodepleting regimens the journey accepts for the case: the
label's regimens for its indication (or the site protocol's), resolved as the journey's guard
resolves them; where the catalog does not know the regimen, it says so instead of a list."""

from __future__ import annotations

import html
import re
from dataclasses import replace

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from cartflow.catalog_file import load_catalog
from cartflow.clinic.forms import operations
from cartflow.clinic.forms.operations import OPERATIONS
from cartflow.clinic.models import Site
from cartflow.clinic.services import machine
from cartflow.clinic.timeline_words import prose
from cartflow.clinic.views.cases import form_of
from cartflow.domain.catalog import Catalog, Fact, FactName, FactStatus, FactVersion
from cartflow.domain.errors import NotInCatalog
from cartflow.domain.identifiers import parse_identifier
from tests.browser.network import (
    PATIENT,
    PageStep,
    build_network,
    clinical,
    journey,
    local_text,
)
from tests.clinic.test_pages_journey import Pages

pytestmark = pytest.mark.django_db

LBCL = "tisagenlecleucel/lbcl"
UNKNOWN = "inaticabtagene-autoleucel/b-all"  # lymphodepletion UNCONFIRMED in the catalog
FIELD = 'id="StartLymphodepletion-regimen"'


def _available(pages: Pages) -> Pages:
    """The tisagenlecleucel/lbcl case, through the pages, up to lymphodepletion."""
    pages.register_and_refer()
    for step in journey(pages.net, parse_identifier(pages.coi).barcode):
        if step.operation == "StartLymphodepletion":
            break
        pages.do(step)
    assert pages.case().projection.step == "available"
    return pages


def _start_ld(pages: Pages, **values: str) -> PageStep:
    (step,) = [s for s in journey(pages.net, "") if s.operation == "StartLymphodepletion"]
    return replace(step, values={**step.values, **values})


@pytest.fixture
def available() -> Pages:
    return _available(Pages(build_network(timezone.now())))


def _regimen_select(page: str) -> dict[str, str]:
    found = re.search(r'<select id="StartLymphodepletion-regimen"[^>]*>(.*?)</select>', page, re.S)
    assert found, page[:4000]
    return {
        value: html.unescape(text)
        for value, text in re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', found[1])
    }


def _with_unknown_regimen(source: Catalog, indication_id: str) -> Catalog:
    unknown = Fact(
        FactName.LYMPHODEPLETION,
        (FactVersion(None, FactStatus.UNKNOWN, note="UNCONFIRMED: regimen not in the reference"),),
    )
    products = tuple(
        replace(
            product,
            indications=tuple(
                replace(i, facts={**i.facts, FactName.LYMPHODEPLETION: unknown})
                if i.id == indication_id
                else i
                for i in product.indications
            ),
        )
        for product in source.products
    )
    return replace(source, products=products)


def test_the_form_offers_the_labels_regimens_for_the_indication(available: Pages) -> None:
    page = available.as_("physician").get(f"/cases/{available.coi}/").content.decode()
    options = _regimen_select(page)
    assert set(options) == {"", "flu-cy", "bendamustine"}
    assert options["flu-cy"] == (
        "flu-cy: fludarabine 25 mg/m2 x 3 days + cyclophosphamide 250 mg/m2 x 3 days"
    )
    assert options["bendamustine"].startswith("bendamustine: bendamustine 90 mg/m2 x 2 days; ")
    assert "alternative, use when prior grade 4 haemorrhagic cystitis" in options["bendamustine"]
    # The indication by its name, not its catalog identifier.
    assert f"the label's regimens for {prose(LBCL)} (" in html.unescape(page)
    assert NotInCatalog.MESSAGE not in page
    # the option's value is what the journey records
    answer = available.do(_start_ld(available, regimen="bendamustine"))
    assert answer.status_code == 302
    assert available.case().projection.state["step"] == "lymphodepleting"


def test_an_unknown_regimen_is_said_instead_of_a_list_and_the_journey_still_refuses(
    available: Pages, monkeypatch: pytest.MonkeyPatch
) -> None:
    unknown = _with_unknown_regimen(load_catalog(), LBCL)
    monkeypatch.setattr(operations, "load_catalog", lambda: unknown)
    monkeypatch.setattr(machine, "catalog", lambda: unknown)
    physician = available.as_("physician")
    page = physician.get(f"/cases/{available.coi}/").content.decode()
    assert FIELD in page and '<select id="StartLymphodepletion-regimen"' not in page
    assert f"{prose(LBCL)}: lymphodepletion: {NotInCatalog.MESSAGE}" in html.unescape(page)
    form = available.form(_start_ld(available))
    answer = physician.post(f"/cases/{available.coi}/step/", form)
    assert answer.status_code == 422
    refused = html.unescape(answer.content.decode())
    assert "Blocked by a rule" in refused and NotInCatalog.MESSAGE in refused
    assert available.case().projection.step == "available"


def test_a_product_whose_regimen_the_catalog_does_not_know_gets_the_message() -> None:
    net = build_network(timezone.now())
    Site.objects.filter(slug="pages-center").update(region="CN")  # where it is approved
    pages = Pages(net)
    answer = pages.as_("coordinator").post("/patients/new/", {"site": "pages-center", **PATIENT})
    assert answer.status_code == 302, answer.content.decode()[:2000]
    answer = pages.as_("physician").post(
        answer["Location"] + "refer/",
        {"indication_id": UNKNOWN, "occurred_at": local_text(clinical(net.now, 20, 8))},
    )
    assert answer.status_code == 302, answer.content.decode()[:3000]
    pages.coi = answer["Location"].strip("/").split("/")[-1]
    case = pages.case()
    assert case.projection.state["indication_id"] == UNKNOWN
    op = OPERATIONS["StartLymphodepletion"]
    (regimen,) = op.fields_for(case)
    assert regimen.kind == "text" and not regimen.choices
    assert regimen.help == f"{UNKNOWN}: lymphodepletion: {NotInCatalog.MESSAGE}"
    form = render_to_string(
        "clinic/_next_step_form.html",
        {"form": form_of(op, case, "", {}, {}, None), "coi": case.coi, "version": 1},
    )
    assert FIELD in form and "<select" not in form and 'name="regimen"' in form
    assert NotInCatalog.MESSAGE in html.unescape(form)
