"""The pages, through Django's test client: one patient from registration to the first CRS
grade, each step by its own person; the bedside check; blocked steps; what a manufacturing
operator may never see."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from cartflow.clinic.models import Event, Slot, SlotKind, TherapyCase
from cartflow.clinic.services import verify_case
from cartflow.domain.identifiers import parse_identifier
from tests.browser.network import (
    AFTER_INFUSION,
    FIRST_CHOICE,
    PATIENT,
    SECRET_WORDS,
    Network,
    PageStep,
    build_network,
    clinical,
    journey,
    local_text,
    password,
)

pytestmark = pytest.mark.django_db


class Pages:
    """One client per person, each signed in as themselves."""

    def __init__(self, net: Network) -> None:
        self.net = net
        self.clients: dict[str, Client] = {}
        self.coi = ""

    def as_(self, who: str) -> Client:
        if who not in self.clients:
            client = Client()
            client.force_login(self.net.users[who])
            self.clients[who] = client
        return self.clients[who]

    def case(self) -> TherapyCase:
        return TherapyCase.objects.get(coi=self.coi)

    def register_and_refer(self) -> None:
        answer = self.as_("coordinator").post("/patients/new/", {"site": "pages-center", **PATIENT})
        assert answer.status_code == 302, answer.content.decode()[:2000]
        patient_url = answer["Location"]
        answer = self.as_("physician").post(
            patient_url + "refer/",
            {
                "indication_id": "tisagenlecleucel/lbcl",
                "occurred_at": local_text(clinical(self.net.now, 20, 8)),
            },
        )
        assert answer.status_code == 302, answer.content.decode()[:3000]
        self.coi = answer["Location"].strip("/").split("/")[-1]

    def form(self, step: PageStep) -> dict[str, str]:
        data = {"operation": step.operation, **step.values}
        for name, value in step.values.items():
            if value == FIRST_CHOICE:
                kind = (
                    SlotKind.APHERESIS_CHAIR
                    if step.operation == "ScheduleApheresis"
                    else SlotKind.MANUFACTURING
                )
                data[name] = str(Slot.objects.filter(kind=kind).first().public_id)  # type: ignore[union-attr]
        if step.at is not None:
            data["occurred_at"] = local_text(step.at)
        if step.signed:
            data["password"] = password(step.who)
        data["expected_version"] = str(self.case().projection.version)
        return data

    def do(self, step: PageStep) -> Any:
        answer = self.as_(step.who).post(f"/cases/{self.coi}/step/", self.form(step))
        assert answer.status_code == 302, (step.operation, answer.content.decode()[:4000])
        return answer

    def walk_to_thaw(self) -> None:
        self.register_and_refer()
        barcode = parse_identifier(self.coi).barcode
        for step in journey(self.net, barcode):
            self.do(step)
        assert self.case().projection.step == "thawed"

    def bedside(self, who: str = "nurse", **scans: str) -> Any:
        return self.as_(who).post(f"/cases/{self.coi}/bedside/", scans)

    def infuse(self) -> Any:
        scans = {
            "wristband": PATIENT["record_number"],
            "identity": "confirmed",
            "bag_label": parse_identifier(self.coi).eye_readable,
            "bag_id": self.net.bag_id,
        }
        answer = self.bedside(**scans)
        assert answer.status_code == 200 and b'name="second_username"' in answer.content
        return self.bedside(
            **scans,
            stage="second",
            second_username="pages-physician",
            second_password=password("physician"),
        )


@pytest.fixture
def pages() -> Pages:
    return Pages(build_network(timezone.now()))


@pytest.fixture
def thawed(pages: Pages) -> Pages:
    pages.walk_to_thaw()
    return pages


def test_each_person_takes_the_patient_from_registration_to_the_first_crs_grade(
    thawed: Pages,
) -> None:
    answer = thawed.infuse()
    assert answer.status_code == 200, answer.content.decode()[:3000]
    assert b"infused" in answer.content
    for step in AFTER_INFUSION:
        thawed.do(step)
    case = thawed.case()
    actors = set(Event.objects.filter(case=case).values_list("actor", flat=True))
    assert len(actors) >= 6, actors
    assert {"pages-nurse", "pages-physician", "pages-maker", "pages-courier"} <= actors
    assert verify_case(case).ok
    types = list(Event.objects.filter(case=case).order_by("seq").values_list("type", flat=True))
    assert "bedside.verified" in types and "product.infused" in types
    assert types[-1] == "toxicity.crs_graded"
    page = thawed.as_("physician").get(f"/cases/{thawed.coi}/").content.decode()
    assert "CRS grade <strong>2</strong>" in page
    assert "Signed by <strong>Test Physician Phil</strong>" in page
    assert "meaning: <em>infusion</em>" in page


def test_the_bedside_refuses_a_bag_of_another_case_and_opens_a_deviation(thawed: Pages) -> None:
    other = "W800126999999"  # a well-formed identifier of no case here
    scans = {"wristband": PATIENT["record_number"], "identity": "confirmed"}
    wrong = parse_identifier(_valid(other)).eye_readable
    answer = thawed.bedside(**scans, bag_label=wrong)
    assert answer.status_code == 422
    page = answer.content.decode()
    assert "STOP — do not infuse." in page and "Nothing was infused" in page
    events = list(
        Event.objects.filter(case=thawed.case()).order_by("seq").values_list("type", flat=True)
    )
    assert "product.infused" not in events
    assert events[-1] == "deviation.opened"
    assert thawed.case().projection.step == "thawed"
    quality = thawed.as_("quality").get("/quality/").content.decode()
    assert thawed.coi in quality and "Sign the review" in quality
    answer = thawed.as_("quality").post(
        f"/cases/{thawed.coi}/deviations/review/",
        {"number": "1", "comment": "wrong bag brought up", "password": password("quality")},
    )
    assert answer.status_code == 302
    assert "No open deviation." in thawed.as_("quality").get("/quality/").content.decode()
    assert verify_case(thawed.case()).ok


def test_the_bedside_refuses_a_wrong_wristband_without_keeping_the_number(thawed: Pages) -> None:
    answer = thawed.bedside(wristband="DEMO-0000")
    assert answer.status_code == 422
    deviation = Event.objects.filter(case=thawed.case(), type="deviation.opened").get()
    assert b"DEMO-0000" not in bytes(deviation.body)


def test_the_second_person_must_be_someone_else_who_may_sign_the_infusion(thawed: Pages) -> None:
    scans = {
        "wristband": PATIENT["record_number"],
        "identity": "confirmed",
        "bag_label": thawed.coi,
        "bag_id": thawed.net.bag_id,
        "stage": "second",
    }
    same = thawed.bedside(**scans, second_username="pages-nurse", second_password=password("nurse"))
    assert same.status_code == 422 and b"someone else" in same.content
    quality = thawed.bedside(
        **scans, second_username="pages-quality", second_password=password("quality")
    )
    assert quality.status_code == 422 and b"must be a physician" in quality.content
    wrong = thawed.bedside(**scans, second_username="pages-physician", second_password="nope")
    assert wrong.status_code == 422 and b"did not match" in wrong.content
    assert thawed.case().projection.step == "thawed"


def test_a_blocked_step_shows_its_rule_its_source_and_what_would_unblock_it(
    thawed: Pages,
) -> None:
    thawed.infuse()
    thawed.do(AFTER_INFUSION[0])
    form = thawed.form(PageStep("physician", "CompleteMonitoring"))
    answer = thawed.as_("physician").post(f"/cases/{thawed.coi}/step/", form)
    assert answer.status_code == 422
    page = answer.content.decode()
    assert "Blocked by a rule" in page
    # The rule in words, with the date it opens (the refusal's parameters, worded once).
    assert re.search(
        r"Monitoring may be completed from \d{1,2} \w+ \d{4}, \d+ days after the infusion", page
    )
    assert "label rule" in page and "What would unblock it" in page
    assert "“Complete the monitoring period” was refused" in page
    assert "CompleteMonitoring was refused" not in page


def test_an_htmx_refusal_comes_back_as_the_next_step_fragment(thawed: Pages) -> None:
    thawed.infuse()
    thawed.do(AFTER_INFUSION[0])
    form = thawed.form(PageStep("physician", "CompleteMonitoring"))
    answer = thawed.as_("physician").post(
        f"/cases/{thawed.coi}/step/", form, HTTP_HX_REQUEST="true"
    )
    assert answer.status_code == 200
    page = answer.content.decode()
    assert page.lstrip().startswith('<section id="next-step"') and "<html" not in page
    assert "Blocked by a rule" in page


def test_a_stale_form_is_answered_with_reload_not_saved(pages: Pages) -> None:
    pages.register_and_refer()
    step = journey(pages.net, parse_identifier(pages.coi).barcode)[0]
    form = pages.form(step)
    form["expected_version"] = "0"
    answer = pages.as_("physician").post(f"/cases/{pages.coi}/step/", form)
    assert answer.status_code == 422
    assert "Someone else saved this case a moment ago" in answer.content.decode()


def test_a_form_with_a_missing_field_names_it_and_records_nothing(pages: Pages) -> None:
    pages.register_and_refer()
    version = pages.case().projection.version
    answer = pages.as_("physician").post(
        f"/cases/{pages.coi}/step/", {"operation": "RecordAntigenTest", "positive": "yes"}
    )
    assert answer.status_code == 422
    assert "this field is required" in answer.content.decode()
    assert pages.case().projection.version == version


def test_signing_with_a_wrong_password_signs_nothing(pages: Pages) -> None:
    pages.register_and_refer()
    steps = journey(pages.net, parse_identifier(pages.coi).barcode)
    pages.do(steps[0])
    form = pages.form(steps[1])
    form["password"] = "not my password"
    answer = pages.as_("physician").post(f"/cases/{pages.coi}/step/", form)
    assert answer.status_code == 422
    assert "Not signed" in answer.content.decode()
    assert pages.case().projection.step == "antigen_tested"


def test_a_manufacturing_operator_never_sees_who_the_patient_is(thawed: Pages) -> None:
    thawed.infuse()
    seen = crawl(thawed.as_("maker"), "/")
    assert f"/cases/{thawed.coi}/" in seen
    for url, html in seen.items():
        for word in SECRET_WORDS:
            assert word not in html, f"{word!r} shown on {url}"


def crawl(client: Client, start: str, limit: int = 60) -> dict[str, str]:
    """Every page reachable by links from ``start`` (GET only, this site only)."""
    seen: dict[str, str] = {}
    queue = [start]
    while queue and len(seen) < limit:
        url = queue.pop(0)
        if url in seen:
            continue
        answer = client.get(url)
        html = answer.content.decode() if answer.status_code == 200 else ""
        seen[url] = html
        for link in re.findall(r'href="(/[^"#]*)"', html):
            if not link.startswith(("/static/", "/api/")) and link not in seen:
                queue.append(link)
    return seen


def test_the_board_groups_the_cases_by_step_with_their_clocks(thawed: Pages) -> None:
    page = thawed.as_("coordinator").get("/board/").content.decode()
    assert "5. Infusion" in page and thawed.coi in page
    assert "infusion: bedside scan and a physician" in page
    assert re.search(r"1[67] d", page)  # days since apheresis, and the vein-to-vein clock


def test_the_eligibility_page_judges_every_product_and_indication(pages: Pages) -> None:
    pages.register_and_refer()
    page = pages.as_("physician").get(f"/cases/{pages.coi}/eligibility/").content.decode()
    from cartflow.clinic.services.machine import catalog

    for indication in catalog().indications():
        assert indication.id in page
    assert "Missing information" in page
    assert "Patient-901" in page
    # each status in words, not its identifier with the underscore cut out
    assert ">needs information<" in page and ">not eligible<" in page
    assert "needsinformation" not in page and "noteligible" not in page


def _valid(prefix13: str) -> str:
    """A well-formed identifier (with its check character) of no case here."""
    from cartflow.domain.identifiers import new_identifier

    return new_identifier(prefix13[:5], int(prefix13[5:7]), int(prefix13[7:13])).compact


def test_a_record_number_registered_twice_is_refused_in_words(pages: Pages) -> None:
    client = pages.as_("coordinator")
    assert client.post("/patients/new/", {"site": "pages-center", **PATIENT}).status_code == 302
    again = client.post("/patients/new/", {"site": "pages-center", **PATIENT})
    assert again.status_code == 422
    assert "already registered" in again.content.decode()


def test_a_patient_without_a_birth_date_is_not_registered(pages: Pages) -> None:
    form = {"site": "pages-center", **PATIENT, "birth_date": ""}
    answer = pages.as_("coordinator").post("/patients/new/", form)
    assert answer.status_code == 422
    assert "this field is required" in answer.content.decode()


def test_crs_is_graded_only_after_an_infusion(thawed: Pages) -> None:
    form = thawed.form(PageStep("physician", "GradeCrs", dict(AFTER_INFUSION[1].values)))
    answer = thawed.as_("physician").post(f"/cases/{thawed.coi}/step/", form)
    assert answer.status_code == 422
    assert "CRS is graded after the infusion" in answer.content.decode()


def test_the_board_costs_the_same_few_queries_for_one_case_or_thirty(pages: Pages) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cartflow.clinic.demo_seed import seed

    pages.register_and_refer()
    with CaptureQueriesContext(connection) as one:
        assert pages.as_("coordinator").get("/board/").status_code == 200
    seed()
    demo = Client()
    demo.login(username="coordinator", password="demo-coordinator")
    demo.get("/board/")  # the first request upgrades the demo password's hash
    with CaptureQueriesContext(connection) as many:
        page = demo.get("/board/").content.decode()
    assert page.count('href="/cases/') > 20
    assert len(many) <= len(one) + 1, [q["sql"][:80] for q in many]


def test_quality_signs_the_quarantine_decision_on_the_case_page(pages: Pages) -> None:
    pages.register_and_refer()
    barcode = parse_identifier(pages.coi).barcode
    steps = journey(pages.net, barcode)
    shipped = [s.operation for s in steps].index("ShipProduct")
    for step in steps[: shipped + 1]:
        pages.do(step)
    pages.do(PageStep("courier", "RecordTemperature", {"celsius": "-60", "location": "shipper"}))
    assert pages.case().projection.step == "quarantined"
    assert pages.coi in pages.as_("quality").get("/quality/").content.decode()
    page = pages.as_("quality").get(f"/cases/{pages.coi}/").content.decode()
    assert "Quality decision on the quarantined product" in page
    assert "Electronic signature" in page and "quality decision</strong>" in page
    pages.do(
        PageStep(
            "quality",
            "DecideQuarantine",
            {"release": "yes", "reason": "excursion brief, product within stability data"},
            signed=True,
        )
    )
    page = pages.as_("quality").get(f"/cases/{pages.coi}/").content.decode()
    assert "quality.quarantine_released" in page
    assert "Signed by <strong>Test Quality Reviewer Quinn</strong>" in page
    assert 'class="tone-quality"' in page


def test_the_audit_pages_show_the_first_broken_link(thawed: Pages) -> None:
    from django.db import connection

    from tests.clinic.fixtures import triggers_dropped

    quality = thawed.as_("quality")
    assert "The chain verifies." in quality.get(f"/cases/{thawed.coi}/audit/").content.decode()
    assert "The ledger verifies." in quality.get("/audit/?verify=ledger").content.decode()
    event = Event.objects.filter(case=thawed.case(), seq=5).get()
    with triggers_dropped(), connection.cursor() as cursor:
        body = bytes(event.body).replace(b"HIV", b"HIX")
        cursor.execute("UPDATE clinic_event SET body = %s WHERE id = %s", [body, event.pk])
    page = quality.get(f"/cases/{thawed.coi}/audit/").content.decode()
    assert "The chain is broken." in page and "First broken link: event #5" in page
    ledger = quality.get("/audit/?verify=ledger").content.decode()
    assert "Broken." in ledger and thawed.coi in ledger


def test_the_physician_signs_eligibility_with_the_judged_facts(pages: Pages) -> None:
    pages.register_and_refer()
    pages.do(journey(pages.net, parse_identifier(pages.coi).barcode)[0])
    url = f"/cases/{pages.coi}/eligibility/"
    facts = {"diagnosis": "LBCL", "disease_status": "refractory", "prior_lines": "2"}
    forbidden = pages.as_("coordinator").post(
        url, {**facts, "sign": "yes", "password": password("coordinator")}
    )
    assert forbidden.status_code == 403
    page = pages.as_("physician").get(url).content.decode()
    assert "Sign eligibility with these facts" in page
    answer = pages.as_("physician").post(
        url, {**facts, "sign": "yes", "password": password("physician")}
    )
    assert answer.status_code == 302, answer.content.decode()[:3000]
    assert pages.case().projection.step == "eligible"
    signed = Event.objects.filter(case=pages.case(), type="eligibility.signed").get()
    assert b'"assessment":{' in bytes(signed.body) and b"tisagenlecleucel/lbcl" in bytes(
        signed.body
    )


def test_an_htmx_request_for_the_case_page_gets_the_next_step_fragment(pages: Pages) -> None:
    pages.register_and_refer()
    answer = pages.as_("physician").get(f"/cases/{pages.coi}/", HTTP_HX_REQUEST="true")
    page = answer.content.decode()
    assert page.lstrip().startswith('<section id="next-step"') and "<html" not in page
    assert 'id="form-RecordAntigenTest"' in page
