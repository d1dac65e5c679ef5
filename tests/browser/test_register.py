"""The site's register of signed protocol values in Chromium: the demo physician opens
"Protocol values", finds the Chinese centre's signed CNCT19 values in force, signs one more
with the password again, reads the confirmation, and the record still verifies."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.browser.conftest import Server
from tests.browser.test_journey import Person

pytestmark = pytest.mark.browser


def test_the_physician_signs_a_protocol_value_on_the_register_page(
    browser: Any, server: Server
) -> None:
    person = Person(browser, server, "demo-physician", login=("physician", "demo-physician"))
    try:
        page = person.page
        page.get_by_role("link", name="Protocol values").click()
        page.get_by_role("link", name="Demo East Hospital (synthetic)").click()
        assert (
            page.locator("h1").inner_text() == "Protocol values of Demo East Hospital (synthetic)"
        )
        signed = page.locator("section.register-product").filter(has_text="CNCT19")
        text = signed.inner_text()
        assert "DEMO-SOP-DOSE-001 (synthetic)" in text and "in force" in text
        assert "stay near the centre (days)" in text  # still open: the proximity period

        form = page.locator("form.register-form")
        form.locator("#r-indication").select_option("inaticabtagene-autoleucel/b-all")
        form.locator("#r-fact").select_option("proximity_days")
        form.locator("#r-value").fill("28")
        form.locator("#r-doc").fill("DEMO-SOP-PROXIMITY-002 (synthetic)")
        form.locator("#r-from").fill("2026-01-01")
        form.locator("#r-pw").fill("demo-physician")
        with page.expect_navigation():
            form.locator("#r-pw").press("Enter")
        assert (
            "Signed into the register of Demo East Hospital (synthetic)"
            in page.locator(".messages").inner_text()
        )
        assert (
            "DEMO-SOP-PROXIMITY-002 (synthetic)"
            in page.locator("section.register-product").filter(has_text="CNCT19").inner_text()
        )
    finally:
        person.close()

    shown = server.cli("register", "show", "--site", "demo-east", "--on", "2026-11-30", "--json")
    assert shown.returncode == 0, shown.stderr
    report = json.loads(shown.stdout)
    (cnct19,) = [p for p in report["products"] if p["product"] == "inaticabtagene-autoleucel"]
    facts = {s["fact"] for s in cnct19["indications"][0]["signed"]}
    assert {"dose", "lymphodepletion", "infusion_window_days", "proximity_days"} <= facts
    verified = server.cli("audit", "verify", "--no-replay")
    assert verified.returncode == 0, verified.stdout + verified.stderr
