"""Each working role of the demo network, in Chromium: it lands on its queue and finds there
cases that wait on it and none that waits on another role; a crawler from each role's
landing page fails on any link offered that answers 403, 404 or a server error; the queue,
the board, the case page and the bedside page have no horizontal scroll at 390 px."""

from __future__ import annotations

import re
from collections import deque
from typing import Any

import pytest

from tests.browser.conftest import SCREENSHOTS, Server
from tests.browser.test_journey import Person

pytestmark = pytest.mark.browser

WORKING = (
    "coordinator",
    "physician",
    "apheresis",
    "manufacturing",
    "courier",
    "pharmacy",
    "quality",
)
SKIP = ("/static/", "/api/", "/logout/", "/i18n/", "/my/", "/access/")
OPAQUE = re.compile(r"/[0-9A-Z*]{10,}|/[0-9a-f-]{36}")
PER_SHAPE = 2
PHONE = {"width": 390, "height": 844}


def _demo(browser: Any, server: Server, name: str) -> Person:
    # The demo's printed passwords (demo_seed.password_for; this process loads no Django).
    return Person(browser, server, name, login=(name, f"demo-{name}"))


def _links(page: Any) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    return [h.split("#")[0] for h in hrefs if h.startswith("/") and not h.startswith(SKIP)]


@pytest.mark.parametrize("name", WORKING)
def test_each_working_role_lands_on_the_cases_that_wait_on_it(
    browser: Any, server: Server, name: str
) -> None:
    person = _demo(browser, server, name)
    try:
        page = person.page
        assert page.locator("h1").inner_text() == "Waiting on me"
        cases = page.eval_on_selector_all(
            "#queue a[href^='/cases/']", "els => els.map(e => e.getAttribute('href'))"
        )
        assert cases, f"nothing waits on the demo {name}"
        for href in cases[:4]:
            case_page = person.open(href)
            waits_on = case_page.locator("#next-step").get_attribute("data-waits-on") or ""
            assert name in waits_on.split(), (href, waits_on)
    finally:
        person.close()


@pytest.mark.parametrize("name", [*WORKING, "auditor", "admin"])
def test_no_link_offered_from_a_role_s_landing_page_is_a_dead_end(
    browser: Any, server: Server, name: str
) -> None:
    person = _demo(browser, server, name)
    try:
        start = person.page.url.removeprefix(server.url)
        seen: dict[str, int] = {}
        shapes: dict[str, int] = {}
        queue = deque([start])
        while queue and len(seen) < 40:
            url = queue.popleft()
            shape = OPAQUE.sub("/*", url)
            if url in seen or shapes.get(shape, 0) >= PER_SHAPE:
                continue
            shapes[shape] = shapes.get(shape, 0) + 1
            answer = person.page.goto(server.url + url)
            seen[url] = answer.status if answer is not None else 0
            if seen[url] == 200:
                queue.extend(link for link in _links(person.page) if link not in seen)
        dead = {
            url: status for url, status in seen.items() if status in (403, 404) or status >= 500
        }
        assert not dead, dead
    finally:
        person.close()


def _no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
        .slice(0, 5).map(e => e.tagName + '.' + e.className)"""
    )
    assert width <= PHONE["width"], (page.url, width, wide)


def test_the_queue_board_case_and_bedside_fit_a_phone(browser: Any, server: Server) -> None:
    person = _demo(browser, server, "pharmacy")
    try:
        page = person.page
        page.screenshot(path=str(SCREENSHOTS / "queue-desktop.png"), full_page=False)
        page.set_viewport_size(PHONE)
        page.reload()
        _no_sideways_scroll(page)
        page.screenshot(path=str(SCREENSHOTS / "queue-phone.png"), full_page=False)
        href = page.locator("#queue a[href^='/cases/']").first.get_attribute("href")
        for path, shot in (
            ("/board/", "board-phone.png"),
            (href, "case-phone.png"),
            (f"{href}bedside/", "bedside-phone.png"),
        ):
            person.open(path)
            _no_sideways_scroll(page)
            page.screenshot(path=str(SCREENSHOTS / shot), full_page=False)
        page.set_viewport_size({"width": 1280, "height": 900})
        for path, shot in ((href, "case-desktop.png"), (f"{href}bedside/", "bedside-desktop.png")):
            person.open(path)
            page.screenshot(path=str(SCREENSHOTS / shot), full_page=False)
    finally:
        person.close()
