"""The patient and family view in Chromium, on the demo network.

A coordinator records a planned date and issues access; the patient sets up a login from
the link on a phone-sized screen and sees their step and the next date (the date the case
records) in English, then in Chinese; after revocation the same link is refused. Each
patient or family login is tried against every case of the network and opens none; the
patient view's HTML names no staff member, no manufacturing site or courier and no patient.
A guardian's access to a child's case shows that case alone.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest

from tests.browser.conftest import ROOT, Server

pytestmark = pytest.mark.browser

TIMEOUT_MS = 20_000
PHONE = {"width": 390, "height": 844}
FAMILY_PASSWORD = "a long family passphrase"


def ask(server: Server, what: str) -> Any:
    done = subprocess.run(
        [sys.executable, "-m", "tests.browser.patient_facts", what],
        cwd=ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def context(browser: Any, viewport: dict[str, int] | None = None) -> Any:
    made = browser.new_context(viewport=viewport or {"width": 1280, "height": 900})
    made.set_default_timeout(TIMEOUT_MS)
    return made


def sign_in(browser: Any, server: Server, name: str, secret: str, **kw: Any) -> Any:
    page = context(browser, **kw).new_page()
    page.goto(server.url + "/login/")
    page.fill("#id_username", name)
    page.fill("#id_password", secret)
    with page.expect_navigation():
        page.click("main button[type=submit]")
    return page


def issue(
    coordinator: Any, server: Server, coi: str, holder: str = "patient", name: str = ""
) -> str:
    page = coordinator
    page.goto(f"{server.url}/cases/{coi}/patient-access/")
    page.check(f"input[name=holder][value={holder}]")
    if name:
        page.fill("#id_holder_name", name)
    with page.expect_navigation():
        page.click("text=Issue a set-up link")
    link = page.locator(".setup-link").inner_text().strip()
    assert "/access/" in link, page.content()[:3000]
    return link


def plan(coordinator: Any, server: Server, coi: str, field: str, on: str) -> None:
    coordinator.goto(f"{server.url}/cases/{coi}/patient-access/")
    coordinator.fill(f"#id_{field}", on)
    with coordinator.expect_navigation():
        coordinator.click("text=Record planned dates")


def set_up(browser: Any, link: str, username: str) -> Any:
    page = context(browser, PHONE).new_page()
    page.goto(link)
    page.fill("#id_username", username)
    page.fill("#id_password", FAMILY_PASSWORD)
    page.fill("#id_password_again", FAMILY_PASSWORD)
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert page.url.endswith("/my/"), page.content()[:2000]
    return page


def choose_language(page: Any, code: str) -> None:
    page.select_option("#language-switch", code)
    with page.expect_navigation():
        page.click("form.language button")


def assert_opens_no_case(page: Any, server: Server, cases: list[dict[str, str]]) -> None:
    for case in cases:
        coi = case["coi"]
        for path in (
            f"/cases/{coi}/",
            f"/cases/{coi}/patient-access/",
            f"/cases/{coi}/audit/",
            f"/api/cases/{coi}",
            f"/api/cases/{coi}/events",
        ):
            answer = page.request.get(server.url + path, max_redirects=0)
            assert answer.status in (302, 401, 403, 404), (path, answer.status)


def assert_names_nobody(html: str, facts: dict[str, Any]) -> None:
    for name in facts["staff_names"] + facts["hidden_sites"] + facts["patients"]:
        assert name not in html, name
    text = re.sub(r"<[^>]+>", " ", html)
    for username in facts["staff_usernames"]:
        assert not re.search(rf"(?<![\w-]){re.escape(username)}(?![\w-])", text), username
    for case in facts["cases"]:
        assert case["coi"] not in html


@pytest.fixture(scope="module")
def facts(server: Server) -> dict[str, Any]:
    return dict(ask(server, "facts"))


def test_a_patient_sets_up_access_and_follows_their_case_in_english_and_chinese(
    browser: Any, server: Server, facts: dict[str, Any]
) -> None:
    case = next(
        c for c in facts["cases"] if c["site"] == "demo-childrens" and c["step"] == "screened"
    )
    planned = (server.now + timedelta(days=12)).date().isoformat()
    coordinator = sign_in(browser, server, "coordinator", "demo-coordinator")
    plan(coordinator, server, case["coi"], "apheresis_on", planned)
    link = issue(coordinator, server, case["coi"])

    patient = set_up(browser, link, "browser-family")
    assert patient.locator(".where").get_attribute("data-step") == "1"
    assert "Collecting your cells" in patient.locator("[aria-current=step]").inner_text()
    next_date = patient.locator(".next-date time")
    assert next_date.get_attribute("datetime") == planned
    assert "Cell collection" in patient.locator(".next-date").inner_text()

    choose_language(patient, "zh-hans")
    assert "采集细胞" in patient.locator("[aria-current=step]").inner_text()
    assert patient.locator(".next-date time").get_attribute("datetime") == planned
    year, month, day = (int(p) for p in planned.split("-"))
    assert f"{year}年{month}月{day}日" in patient.locator(".next-date").inner_text()
    patient.reload()  # the choice is remembered
    assert "细胞采集" in patient.locator(".next-date").inner_text()
    assert_names_nobody(patient.content(), facts)

    coordinator.goto(f"{server.url}/cases/{case['coi']}/patient-access/")
    with coordinator.expect_navigation():
        coordinator.click("text=Revoke")
    assert "revoked" in coordinator.locator("table").inner_text()
    answer = patient.goto(link)
    assert answer is not None and answer.status == 404
    patient.goto(server.url + "/my/")
    assert patient.locator(".where").count() == 0
    patient.context.close()
    coordinator.context.close()


def test_no_patient_login_opens_another_case_or_names_anyone(
    browser: Any, server: Server, facts: dict[str, Any]
) -> None:
    assert len(facts["patient_logins"]) == 2
    for username, secret in facts["patient_logins"]:
        page = sign_in(browser, server, username, secret, viewport=PHONE)
        assert page.url.endswith("/my/")
        assert page.locator(".where").count() == 1
        assert_opens_no_case(page, server, facts["cases"])
        assert_names_nobody(page.content(), facts)
        page.goto(server.url + "/my/card/")
        assert_names_nobody(page.content(), facts)
        page.context.close()


def test_a_guardian_sees_the_child_s_case_and_nothing_else(
    browser: Any, server: Server, facts: dict[str, Any]
) -> None:
    child = ask(server, "child")["coi"]
    planned = (server.now + timedelta(days=9)).date().isoformat()
    coordinator = sign_in(browser, server, "coordinator", "demo-coordinator")
    plan(coordinator, server, child, "apheresis_on", planned)
    coordinator.goto(f"{server.url}/cases/{child}/patient-access/")
    coordinator.check("input[name=holder][value=patient]")
    with coordinator.expect_navigation():
        coordinator.click("text=Issue a set-up link")
    assert "parent or guardian" in coordinator.locator("[role=alert]").inner_text()
    link = issue(coordinator, server, child, "guardian", "Guardian Example (synthetic)")
    guardian = set_up(browser, link, "browser-guardian")
    assert "Your child" in guardian.locator("h1").inner_text()
    assert guardian.locator(".next-date time").get_attribute("datetime") == planned
    everything = [*facts["cases"], {"coi": child}]
    assert_opens_no_case(guardian, server, [c for c in everything if c["coi"] != child])
    assert_opens_no_case(guardian, server, [{"coi": child}])
    guardian.context.close()
    coordinator.context.close()
