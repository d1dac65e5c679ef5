"""A product's planning durations come from the catalog; a missing one means no plan."""

from __future__ import annotations

from datetime import date

from cartflow.catalog_file import load_catalog
from cartflow.domain.catalog import SiteProtocolValue
from cartflow.scheduling.timings import NoPlan, Timings, timings_for

CATALOG = load_catalog()
NOW = date(2026, 11, 30)


def test_tisagenlecleucel_all_is_planned_on_its_label_facts_with_their_sources() -> None:
    t = timings_for(CATALOG, "tisagenlecleucel/b-all", NOW, "US")
    assert isinstance(t, Timings)
    assert (t.window_min, t.window_max, t.ld_days, t.monitoring_days) == (2, 14, 4, 14)
    assert (t.turnaround_days, t.post_thaw_minutes) == (28, 30)
    assert any(s.fact == "manufacturing_turnaround_days" and "[17]" in s.source for s in t.sources)


def test_a_product_without_a_turnaround_gets_no_plan_and_the_fact_is_named() -> None:
    found = timings_for(CATALOG, "ciltacabtagene-autoleucel/mm", NOW, "US")
    assert isinstance(found, NoPlan)
    assert found.missing == ("manufacturing_turnaround_days",)
    assert "not in the catalog" in found.reason


def test_axicabtagene_lacks_its_infusion_window_and_thaw_limit_until_a_site_signs_them() -> None:
    found = timings_for(CATALOG, "axicabtagene-ciloleucel/lbcl-second-line", NOW, "US")
    assert isinstance(found, NoPlan)
    assert found.missing == ("infusion_window_days", "post_thaw_minutes")
    signed = [
        SiteProtocolValue(
            "axicabtagene-ciloleucel/lbcl-second-line", name, value, "SOP-7", "a physician", NOW
        )
        for name, value in (("infusion_window_days", [2, 7]), ("post_thaw_minutes", 30))
    ]
    t = timings_for(CATALOG, "axicabtagene-ciloleucel/lbcl-second-line", NOW, "US", signed)
    assert isinstance(t, Timings)
    assert t.turnaround_days == 14  # the US median after January 2024
    assert any(s.source == "site protocol SOP-7" for s in t.sources)


def test_outside_the_us_the_monitoring_period_is_missing() -> None:
    found = timings_for(CATALOG, "tisagenlecleucel/lbcl", NOW, "EU")
    assert isinstance(found, NoPlan)
    assert "monitoring_days" in found.missing
