"""The coordinator of the demo network, in Chromium: opens the proposed plan of a screened
case, sees it as a timeline against today, accepts it and reads the confirmation; the plan
page and the capacity page have no horizontal scroll at 390 px."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import SCREENSHOTS, Server
from tests.browser.test_journey import Person
from tests.browser.test_queue_and_links import PHONE, _no_sideways_scroll

pytestmark = pytest.mark.browser


def test_the_coordinator_accepts_a_proposed_plan_on_a_phone(browser: Any, server: Server) -> None:
    person = Person(browser, server, "coordinator", login=("coordinator", "demo-coordinator"))
    try:
        page = person.page
        page.set_viewport_size(PHONE)
        hrefs = page.eval_on_selector_all(
            "#queue a[href^='/cases/']", "els => els.map(e => e.getAttribute('href'))"
        )
        plan_url = ""
        for href in dict.fromkeys(hrefs):
            person.open(href)
            link = page.locator("a", has_text="Vein-to-vein plan")
            if link.count() == 0:
                continue
            link.first.click()
            page.wait_for_load_state()
            if page.get_by_role("button", name="Accept this plan").count() == 1:
                plan_url = page.url
                break
        assert plan_url, "no case of the coordinator's queue has a plan to accept"
        assert page.locator("svg.plan-chart").count() == 1
        assert "today" in (page.locator("svg.plan-chart").text_content() or "")
        infusion = page.locator("table.legs tr", has_text="Infusion").locator("time").inner_text()
        _no_sideways_scroll(page)
        page.screenshot(path=str(SCREENSHOTS / "plan-phone.png"), full_page=True)
        with page.expect_navigation():
            page.get_by_role("button", name="Accept this plan").click()
        status = page.locator(".messages").inner_text()
        assert "Plan accepted" in status and infusion in status, status
        assert "Next:" in status
        assert "Accepted plan" in page.locator("h2#accepted-h").inner_text()
        assert page.get_by_role("button", name="Accept this plan").count() == 0
        _no_sideways_scroll(page)
        person.open("/capacity/")
        assert page.locator("svg.capacity-chart").count() == 1
        _no_sideways_scroll(page)
        page.screenshot(path=str(SCREENSHOTS / "capacity-phone.png"), full_page=True)
    finally:
        person.close()
