"""Seven people, each signed in as themselves in Chromium, take one patient from referral to
infusion and the first grade of CRS through the pages alone; a mismatched bag at the bedside
is refused and opens a deviation; a blocked step shows its rule; a manufacturing operator's
pages never show who the patient is. The screenshots in docs/screenshots are taken here.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from cartflow.domain.identifiers import new_identifier, parse_identifier
from tests.browser.conftest import SCREENSHOTS, Server
from tests.browser.network import (
    AFTER_INFUSION,
    FIRST_CHOICE,
    PATIENT,
    SECRET_WORDS,
    Network,
    PageStep,
    clinical,
    journey,
    local_text,
    password,
    username,
)

pytestmark = pytest.mark.browser

TIMEOUT_MS = 20_000
LANDINGS = {"Waiting on me", "Audit", "Users and sites"}


class Person:
    """One browser context, signed in through the login page as one person."""

    def __init__(
        self, browser: Any, server: Server, key: str, login: tuple[str, str] | None = None
    ) -> None:
        self.key = key
        name, secret = login or (username(key), password(key))
        self.server = server
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        self.page.goto(server.url + "/")
        assert "/login/" in self.page.url
        # The login form, with the keyboard alone: the user name field has the focus.
        _wait_for_focus(self.page, "username")
        self.page.keyboard.type(name)
        self.page.keyboard.press("Tab")
        self.page.keyboard.type(secret)
        with self.page.expect_navigation():
            self.page.keyboard.press("Enter")
        # Each person lands on their own page: the queue of what waits on them, or the
        # auditor's audit and the administrator's users and sites.
        landing = self.page.locator("h1").inner_text()
        assert landing in LANDINGS, self.page.content()[:2000]

    def open(self, path: str) -> Any:
        self.page.goto(self.server.url + path)
        return self.page

    def step(self, coi: str, step: PageStep) -> None:
        """Fill the operation's form on the case page and submit it (HTMX, then reload)."""
        page = self.open(f"/cases/{coi}/")
        form = page.locator(f"#form-{step.operation}")
        assert form.count() == 1, (step.operation, page.url, page.content()[:3000])
        for name, value in step.values.items():
            field = form.locator(f"#{step.operation}-{name}")
            if value == FIRST_CHOICE:
                chosen = field.evaluate(
                    "(e) => [...e.options].find(o => o.text.includes('Pages Test')).value"
                )
                field.select_option(chosen)
            elif field.evaluate("e => e.tagName") == "SELECT":
                field.select_option(value)
            else:
                field.fill(value)
        if step.at is not None:
            form.locator(f"#{step.operation}-occurred_at").fill(local_text(step.at))
        if step.signed:
            form.locator(f"#{step.operation}-password").fill(password(self.key))
        before = page.url
        # Enter submits the form, from its last text field or from its button.
        target = (
            form.locator("input:not([type=hidden]), select").last
            if _enter_ok(form)
            else form.locator("button[type=submit]")
        )
        with page.expect_navigation():
            target.press("Enter")
        assert page.url == before
        assert page.locator(".blocked").count() == 0, page.locator(".blocked").inner_text()

    def close(self) -> None:
        self.context.close()


PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _screenshots(page: Any, name: str) -> None:
    """The page at desktop width (``name.png``) and at phone width (``name-phone.png``), into
    a temporary folder, or docs/screenshots under `make screenshots`."""
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def _enter_ok(form: Any) -> bool:
    last = form.locator("input:not([type=hidden]), select").last
    if last.count() == 0:
        return False
    kind = last.evaluate("e => e.tagName + ':' + (e.type || '')")
    return kind in {"INPUT:text", "INPUT:password"}


def test_seven_people_take_one_patient_from_referral_to_the_first_crs_grade(
    browser: Any, server: Server
) -> None:
    people: dict[str, Person] = {}

    def as_(key: str) -> Person:
        if key not in people:
            people[key] = Person(browser, server, key)
        return people[key]

    net = Network(
        now=server.now,
        chair_day=clinical(server.now, 17, 8).date(),
        din=new_identifier("W8011", server.now.year % 100, 4242),
    )
    try:
        # The coordinator registers the patient.
        coordinator = as_("coordinator").page
        coordinator.get_by_role("link", name="Register a patient").click()
        coordinator.locator("#id_record_number").fill(PATIENT["record_number"])
        coordinator.locator("#id_given_name").fill(PATIENT["given_name"])
        coordinator.locator("#id_family_name").fill(PATIENT["family_name"])
        coordinator.locator("#id_birth_date").fill(PATIENT["birth_date"])
        coordinator.locator("#id_sex").select_option(PATIENT["sex"])
        with coordinator.expect_navigation():
            coordinator.locator("#id_family_name").press("Enter")
        assert coordinator.locator("h1").inner_text() == "Patient-901, Demo"

        # The physician finds the patient and refers them: a new therapy case.
        physician = as_("physician").open("/patients/")
        physician.get_by_role("link", name="Patient-901, Demo").click()
        physician.locator("#id_indication").select_option("tisagenlecleucel/lbcl")
        physician.locator("#id_referred_at").fill(local_text(clinical(server.now, 20, 8)))
        with physician.expect_navigation():
            physician.get_by_role("button", name="Refer: open a therapy case").click()
        coi = re.search(r"/cases/(\w+)/", physician.url).group(1)  # type: ignore[union-attr]
        barcode = parse_identifier(coi).barcode

        # Every step from the antigen test to the thaw, each by its own person.
        for step in journey(net, barcode):
            as_(step.who).step(coi, step)
        case_page = as_("physician").open(f"/cases/{coi}/")
        assert "thawed" in case_page.locator(".panel").first.inner_text()

        # The bedside, with a scanner: a bag of another case first. Refused, loudly.
        nurse = as_("nurse").open(f"/cases/{coi}/bedside/")
        _scan(nurse, PATIENT["record_number"])
        assert "Demo" in nurse.locator(".identity").inner_text()
        _wait_for_focus(nurse, "identity")  # the confirm button has the focus
        with nurse.expect_navigation():
            nurse.keyboard.press("Enter")
        wrong = new_identifier("W8001", server.now.year % 100, 999_999).eye_readable
        _scan(nurse, wrong)
        alert = nurse.locator("#mismatch")
        assert "STOP — do not infuse." in alert.inner_text()
        assert "deviation was opened" in alert.inner_text()

        # Then the right patient and bag; a physician signs with their own login.
        _scan(nurse, PATIENT["record_number"])
        _wait_for_focus(nurse, "identity")
        with nurse.expect_navigation():
            nurse.keyboard.press("Enter")
        _scan(nurse, parse_identifier(coi).eye_readable)
        _scan(nurse, net.bag_id)
        _screenshots(nurse, "bedside")
        _wait_for_focus(nurse, "second_username")
        nurse.keyboard.type(username("physician"))
        nurse.keyboard.press("Tab")
        nurse.keyboard.type(password("physician"))
        with nurse.expect_navigation():
            nurse.keyboard.press("Enter")
        assert f"Bag {net.bag_id} infused." in nurse.locator("#infused").inner_text()

        # Monitoring starts; completing it today is blocked by the label, in words.
        physician_person = as_("physician")
        physician_person.step(coi, AFTER_INFUSION[0])
        page = physician_person.open(f"/cases/{coi}/")
        page.locator("#form-CompleteMonitoring button[type=submit]").click()
        blocked = page.locator("#next-step .blocked")
        blocked.wait_for()
        assert page.url.endswith(f"/cases/{coi}/")  # swapped in by htmx, no page load
        text = blocked.inner_text()
        assert re.search(r"Monitoring may be completed from \d{1,2} \w+ \d{4}", text), text
        assert "label rule" in text and "What would unblock it" in text

        # The first grade of CRS.
        physician_person.step(coi, AFTER_INFUSION[1])
        page = physician_person.open(f"/cases/{coi}/")
        assert "CRS grade 2" in page.locator("#tox-h + .panel").inner_text()
        _screenshots(page, "case")
        queue = physician_person.open("/")
        assert coi in queue.locator("main").inner_text()
        _screenshots(queue, "queue")

        # Quality reviews the deviation: what happened in words, a comment, signed.
        quality = as_("quality").open("/quality/")
        deviation = quality.locator("form.tone-deviation").filter(has_text=coi)
        assert "did not name this case" in deviation.locator(".what").inner_text()
        quality.set_viewport_size(PHONE)  # the review, comment box included, fits a phone
        assert quality.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        quality.set_viewport_size(DESKTOP)
        deviation.locator("textarea[name=comment]").fill("label of another case; bag returned")
        deviation.locator("input[type=password]").fill(password("quality"))
        with quality.expect_navigation():
            deviation.get_by_role("button", name="Sign the review").click()
        confirmed = quality.locator(".messages").inner_text()
        assert "reviewed and signed by" in confirmed and coi in confirmed
        assert quality.locator("form.tone-deviation").filter(has_text=coi).count() == 0

        # At least six people in the case's events, and the chain verifies.
        page = as_("quality").open(f"/cases/{coi}/")
        actors = set(page.locator("#timeline .actor").all_inner_texts())
        assert len(actors) >= 6, actors
        assert "Deviation opened" in page.locator("#timeline").inner_text()
        audit = as_("quality").open(f"/cases/{coi}/audit/")
        assert "The chain verifies." in audit.locator("#chain-ok").inner_text()
        verified = server.cli("audit", "verify", "--case", coi)
        assert verified.returncode == 0, verified.stdout + verified.stderr

        board = as_("coordinator").open("/board/")
        assert coi in board.locator("#board").inner_text()
        # The screenshot: the demo network's coordinator, who sees a few dozen cases.
        demo = Person(browser, server, "demo", login=("coordinator", "demo-coordinator"))
        people["demo"] = demo
        demo.open("/board/")
        demo.page.screenshot(path=str(SCREENSHOTS / "board.png"), full_page=True)

        # What a manufacturing operator can reach never says who the patient is.
        seen = _crawl(as_("maker").page, server.url)
        assert f"/cases/{coi}/" in seen
        for url, html in seen.items():
            for word in SECRET_WORDS:
                assert word not in html, f"{word!r} shown to the manufacturing operator on {url}"
    finally:
        for person in people.values():
            person.close()


def _wait_for_focus(page: Any, *names: str) -> None:
    """Wait until the browser has given the focus to one of ``names`` (``autofocus`` is
    applied a moment after the page loads: a key pressed before that goes nowhere)."""
    page.wait_for_function(
        "(names) => document.activeElement && names.includes(document.activeElement.name)",
        arg=list(names),
    )


def _scan(page: Any, text: str) -> None:
    """What a barcode scanner does: type into the focused field, then press Enter."""
    _wait_for_focus(page, "wristband", "bag_label", "bag_id")
    page.keyboard.type(text)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def _crawl(page: Any, base: str, limit: int = 40) -> dict[str, str]:
    seen: dict[str, str] = {}
    queue = ["/"]
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if path in seen:
            continue
        answer = page.goto(base + path)
        html = page.content() if answer is not None and answer.ok else ""
        seen[path] = html
        for link in re.findall(r'href="(/[^"#]*)"', html):
            if not link.startswith(("/static/", "/api/")) and link not in seen:
                queue.append(link)
    return seen


def test_every_page_works_with_the_keyboard_and_shows_where_the_focus_is(
    browser: Any, server: Server
) -> None:
    person = Person(browser, server, "physician")
    try:
        page = person.open("/")
        # htmx is served from the django-htmx package (never copied into the repository).
        assert page.evaluate("typeof window.htmx") == "object"
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip"
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline not in {"", "none"}
        reached = set()
        for _ in range(12):
            page.keyboard.press("Tab")
            reached.add(page.evaluate("document.activeElement.textContent.trim()"))
        assert {"Journey board", "Patients", "Sign out"} <= reached, reached
    finally:
        person.close()
