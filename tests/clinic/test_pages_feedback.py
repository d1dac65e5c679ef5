"""No dead ends and no silent saves: every write is acknowledged with what comes next and who
does it; a case scheduled without a chair slot is one its apheresis unit can open; a refused
page says why and leads back to the work queue; the bedside page asks for the bag's number
without showing it."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from cartflow.clinic.case_state import case_state
from cartflow.clinic.services.audit import verify_case
from cartflow.domain.identifiers import parse_identifier
from tests.browser.network import (
    PATIENT,
    PageStep,
    build_network,
    journey,
    local_text,
    password,
)
from tests.clinic.test_pages_journey import Pages

pytestmark = pytest.mark.django_db


@pytest.fixture
def pages() -> Pages:
    return Pages(build_network(timezone.now()))


@pytest.fixture
def thawed(pages: Pages) -> Pages:
    pages.walk_to_thaw()
    return pages


def _to_screened(pages: Pages) -> list[PageStep]:
    pages.register_and_refer()
    steps = journey(pages.net, parse_identifier(pages.coi).barcode)
    schedule = [s.operation for s in steps].index("ScheduleApheresis")
    for step in steps[:schedule]:
        pages.do(step)
    return steps[schedule:]


def test_a_case_scheduled_without_a_chair_slot_is_one_the_apheresis_unit_opens(
    pages: Pages,
) -> None:
    rest = _to_screened(pages)
    values = {"slot_at": rest[0].values["slot_at"], "slot_id": ""}
    step = PageStep("coordinator", "ScheduleApheresis", values, rest[0].at)
    unnamed = pages.as_("coordinator").post(f"/cases/{pages.coi}/step/", pages.form(step))
    assert unnamed.status_code == 422
    assert "choose the apheresis unit that collects" in unnamed.content.decode()
    assert pages.as_("apheresis").get(f"/cases/{pages.coi}/").status_code == 404
    named = PageStep("coordinator", "ScheduleApheresis", {**values, "unit": "pages-unit"}, step.at)
    answer = pages.as_("coordinator").post(
        f"/cases/{pages.coi}/step/", pages.form(named), follow=True
    )
    page = answer.content.decode()
    assert "Recorded: Schedule the apheresis. Next: the collection, by the apheresis unit." in page
    assert pages.as_("apheresis").get(f"/cases/{pages.coi}/").status_code == 200
    queue = pages.as_("apheresis").get("/").content.decode()
    assert pages.coi in queue
    pages.do(rest[1])  # the unit records the collection
    assert pages.case().projection.step == "collected"


def test_registering_a_patient_says_that_a_physician_refers_next(pages: Pages) -> None:
    answer = pages.as_("coordinator").post(
        "/patients/new/", {"site": "pages-center", **PATIENT}, follow=True
    )
    assert "Patient registered. Next: a physician refers the patient" in answer.content.decode()
    referred = pages.as_("physician").post(
        answer.redirect_chain[-1][0] + "refer/",
        {"indication_id": "tisagenlecleucel/lbcl", "occurred_at": local_text(pages.net.now)},
        follow=True,
    )
    assert "Next: an antigen test, by a physician." in referred.content.decode()


def test_a_refused_page_says_why_and_leads_back_to_the_queue(pages: Pages) -> None:
    pages.register_and_refer()
    forbidden = pages.as_("maker").get("/patients/new/")
    assert forbidden.status_code == 403
    text = forbidden.content.decode()
    assert "Not yours to do" in text and 'href="/"' in text and "<nav" in text
    hidden = pages.as_("maker").get("/cases/W000000000000/")
    assert hidden.status_code == 404
    assert "Not found" in hidden.content.decode() and 'href="/"' in hidden.content.decode()
    anonymous = Client().get("/no-such-page/")
    assert anonymous.status_code == 404 and 'href="/login/"' in anonymous.content.decode()


def test_the_bedside_asks_for_the_bag_number_without_showing_it(thawed: Pages) -> None:
    scans: dict[str, Any] = {
        "wristband": PATIENT["record_number"],
        "identity": "confirmed",
        "bag_label": parse_identifier(thawed.coi).eye_readable,
    }
    page = thawed.bedside(**scans).content.decode()
    assert 'name="bag_id"' in page
    form = page.split('id="bedside-form"', 1)[1]
    assert thawed.net.bag_id not in form
    assert '<li aria-current="step">Bag number</li>' in page
    # The time the thawed bag must be infused by, before anyone is refused for it.
    assert re.search(
        r'id="deadline">The thawed bag is infused within \d+ minutes of the thaw: by '
        r"\d{1,2} \w+ \d{4}, \d{2}:\d{2}\.",
        page,
    )


def test_the_same_refusal_repeated_is_one_deviation_row_with_a_count_and_one_review(
    thawed: Pages,
) -> None:
    scans = {
        "wristband": PATIENT["record_number"],
        "identity": "confirmed",
        "bag_label": parse_identifier(thawed.coi).eye_readable,
        "bag_id": "WRONG-BAG-7",
    }
    for _ in range(3):
        assert thawed.bedside(**scans).status_code == 422
    page = thawed.as_("quality").get("/quality/").content.decode()
    assert page.count('class="panel tone-deviation deviation"') == 1
    assert "repeated 3 times" in page and "WRONG-BAG-7" in page
    assert "What happened" in page and "the bag&#x27;s number" in page
    assert "the bag&#x27;s number scanned was not this case&#x27;s thawed bag" in page
    numbers = re.findall(r'name="number" value="(\d+)"', page)
    assert numbers == ["1", "2", "3"]
    quality = thawed.as_("quality")
    url = f"/cases/{thawed.coi}/deviations/review/"
    # No comment: nothing is signed, and the page says what is missing.
    blank = quality.post(url, {"number": numbers, "password": password("quality")})
    assert blank.status_code == 422 and "the comment is required" in blank.content.decode()
    wrong = quality.post(url, {"number": numbers, "comment": "ok", "password": "nope"})
    assert wrong.status_code == 422 and "password is not correct" in wrong.content.decode()
    assert not any(d.reviewed for d in case_state(thawed.case()).deviations)
    answer = quality.post(
        url,
        {
            "number": numbers,
            "comment": "shelf mix-up; bag 7 quarantined",
            "password": password("quality"),
        },
        follow=True,
    )
    text = answer.content.decode()
    assert "3 deviations on case" in text and "reviewed and signed by" in text
    assert "No open deviation." in text
    reviewed = case_state(thawed.case()).deviations
    assert [d.review_comment for d in reviewed] == ["shelf mix-up; bag 7 quarantined"] * 3
    assert {d.reviewed_by for d in reviewed} == {"pages-quality"}
    # The review is the case's own record: on its timeline, signed, and the chain verifies.
    case_page = quality.get(f"/cases/{thawed.coi}/").content.decode()
    assert "Deviation reviewed" in case_page and "shelf mix-up" in case_page
    panels = re.findall(r'data-deviation="\d+">(.*?)</div>', case_page)
    assert len(panels) == 3 and all("reviewed by quality" in p for p in panels)
    assert "open: quality reviews it" not in case_page
    assert verify_case(thawed.case()).ok
    again = quality.post(
        url, {"number": ["1"], "comment": "again", "password": password("quality")}
    )
    assert again.status_code == 422 and "already reviewed" in again.content.decode()


def test_the_infusion_window_is_shown_with_its_dates_before_anyone_tries(thawed: Pages) -> None:
    page = thawed.as_("physician").get(f"/cases/{thawed.coi}/").content.decode()
    found = re.search(
        r"Infusion may start on (\d{1,2} \w+ \d{4}) \(2 days after lymphodepletion ended\) "
        r"and no later than (\d{1,2} \w+ \d{4})\.",
        page,
    )
    assert found, page[page.find('id="next-step"') :][:1500]
    first, last = (datetime.strptime(found.group(n), "%d %B %Y").date() for n in (1, 2))
    assert (last - first).days == 9  # tisagenlecleucel in LBCL (US): days 2 to 11


def test_the_grades_are_drawn_over_the_days_after_infusion(thawed: Pages) -> None:
    from tests.browser.network import AFTER_INFUSION

    thawed.infuse()
    thawed.do(AFTER_INFUSION[0])
    thawed.do(AFTER_INFUSION[1])
    page = thawed.as_("physician").get(f"/cases/{thawed.coi}/").content.decode()
    chart = page[page.find('<svg viewBox="0 0 640 200"') :]
    assert 'class="tox-chart"' in chart[:200] and chart.count("<circle") >= 1


def test_after_lymphodepletion_the_repeat_is_not_the_main_button(pages: Pages) -> None:
    pages.register_and_refer()
    steps = journey(pages.net, parse_identifier(pages.coi).barcode)
    thaw = [s.operation for s in steps].index("ThawBag")
    for step in steps[:thaw]:
        pages.do(step)
    assert pages.case().projection.step == "lymphodepleted"
    page = pages.as_("physician").get(f"/cases/{pages.coi}/").content.decode()
    others = page.split("<summary>Other actions</summary>", 1)
    assert len(others) == 2 and 'id="form-StartLymphodepletion"' in others[1]
    assert 'id="form-StartLymphodepletion"' not in others[0]


def test_a_field_s_message_is_in_plain_words(pages: Pages) -> None:
    form = {"site": "pages-center", **PATIENT, "birth_date": "the fifth of May"}
    answer = pages.as_("coordinator").post("/patients/new/", form)
    assert answer.status_code == 422
    text = answer.content.decode()
    assert "a date, e.g. 2026-03-01" in text and "Input should" not in text


def test_a_time_block_is_shown_before_anyone_tries_in_the_words_the_refusal_uses(
    thawed: Pages,
) -> None:
    from tests.browser.network import AFTER_INFUSION

    thawed.infuse()
    thawed.do(AFTER_INFUSION[0])  # monitoring started
    page = thawed.as_("physician").get(f"/cases/{thawed.coi}/").content.decode()
    block = re.search(
        r'data-rule-id="monitoring.minimum_days"><strong>Not yet possible: Complete the '
        r"monitoring period.</strong> (Monitoring may be completed from [^<]+)",
        page,
    )
    assert block, page[page.find('id="next-step"') :][:1500]
    # The refusal met by trying says the same words: one renderer for the page and the API.
    form = thawed.form(PageStep("physician", "CompleteMonitoring"))
    tried = thawed.as_("physician").post(f"/cases/{thawed.coi}/step/", form)
    assert tried.status_code == 422 and block.group(1).strip() in tried.content.decode()
    api = thawed.as_("physician").post(
        f"/api/cases/{thawed.coi}/monitoring/completion", {}, content_type="application/json"
    )
    body = api.json()
    assert api.status_code == 422 and body["rule_id"] == "monitoring.minimum_days"
    assert body["words"] == block.group(1).strip().replace("&#x27;", "'")
    assert set(body["params"]) == {"days", "day", "earliest"}


def test_withdrawing_a_case_on_its_page_is_signed_and_confirmed(pages: Pages) -> None:
    pages.register_and_refer()
    form = {
        "operation": "WithdrawCase",
        "expected_version": str(pages.case().projection.version),
        "reason": "the patient chose another treatment",
    }
    coordinator = pages.as_("coordinator")
    unsigned = coordinator.post(f"/cases/{pages.coi}/step/", form)
    assert unsigned.status_code == 422 and pages.case().projection.step != "withdrawn"
    page = coordinator.get(f"/cases/{pages.coi}/").content.decode()
    withdraw = page.split('id="form-WithdrawCase"', 1)[1].split("</form>", 1)[0]
    assert 'type="password"' in withdraw and "Sign the withdrawal" in withdraw
    signed = coordinator.post(
        f"/cases/{pages.coi}/step/", {**form, "password": password("coordinator")}, follow=True
    )
    text = signed.content.decode()
    assert pages.case().projection.step == "withdrawn"
    assert "Recorded and signed by" in text and "(meaning: responsibility)" in text
    assert "Withdraw the case. The case is closed." in text
    state = case_state(pages.case())
    assert state.signatures[-1].event_type == "case.withdrawn"


def test_the_board_draws_each_case_s_vein_to_vein_time_against_the_typical_time(
    thawed: Pages,
) -> None:
    page = thawed.as_("coordinator").get("/board/").content.decode()
    card = page.split(thawed.coi, 1)[1].split("</li>", 1)[0]
    assert 'class="v2v-bar v2v-running"' in card and 'class="v2v-typical"' in card
    # tisagenlecleucel: the real-world median of 48 days, its source linked.
    assert "typical 48 d" in card and "113" in card
    assert "days from collection so far; typically 48 days for this product" in card
