"""Dosing: every dose rule shape with the label's numbers, BSA, lymphodepletion and renal
adjustment."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartflow.catalog_file import load_catalog
from cartflow.domain.catalog import SiteProtocolValue
from cartflow.domain.dosing import (
    DoseRange,
    bsa_mosteller,
    daily_mg,
    dose_for,
    dose_range,
    lymphodepletion_plan,
    reduced_dose_mg,
    renal_reduction_percent,
)
from cartflow.domain.errors import InvalidInput, NotInCatalog

CATALOG = load_catalog()
ON = date(2026, 11, 1)


def dose(indication: str, weight: float, region: str | None = "US", on: date = ON) -> DoseRange:
    return dose_for(CATALOG.indication(indication), weight, on, region)


# --- tisagenlecleucel B-ALL: <=50 kg 0.2-5.0x10^6/kg; >50 kg 0.1-2.5x10^8 [12] ----------------


@pytest.mark.parametrize(
    ("weight", "low", "high"),
    [
        (20, 4_000_000, 100_000_000),
        (50, 10_000_000, 250_000_000),
        (50.1, 10_000_000, 250_000_000),
        (90, 10_000_000, 250_000_000),
    ],
)
def test_kymriah_all_is_per_kg_up_to_50_kg_and_flat_above(
    weight: float, low: int, high: int
) -> None:
    found = dose("tisagenlecleucel/b-all", weight)
    assert (found.min_cells, found.max_cells) == (low, high)
    assert found.source == "label source [12]"


def test_kymriah_lbcl_is_flat_0_6_to_6_0_x10e8_whatever_the_weight() -> None:
    for weight in (40, 80, 150):
        found = dose("tisagenlecleucel/lbcl", weight)
        assert (found.min_cells, found.max_cells) == (60_000_000, 600_000_000)


def test_axi_cel_is_up_to_2x10e6_per_kg_capped_at_2x10e8_with_an_unknown_lower_bound() -> None:
    light = dose("axicabtagene-ciloleucel/lbcl-third-line", 70)
    assert (light.min_cells, light.max_cells) == (None, 140_000_000)
    heavy = dose("axicabtagene-ciloleucel/lbcl-third-line", 130)
    assert heavy.max_cells == 200_000_000
    assert heavy.to_dict()["min_status"] == "unknown"


def test_brexu_cel_all_is_up_to_1x10e6_per_kg_capped_at_1x10e8() -> None:
    assert dose("brexucabtagene-autoleucel/b-all", 80).max_cells == 80_000_000
    assert dose("brexucabtagene-autoleucel/b-all", 120).max_cells == 100_000_000
    assert dose("brexucabtagene-autoleucel/mcl", 80).max_cells == 160_000_000


def test_a_dose_within_an_unknown_lower_bound_is_blocked_not_passed() -> None:
    found = dose("axicabtagene-ciloleucel/fl", 70)
    with pytest.raises(NotInCatalog):
        found.verify(100_000_000)
    with pytest.raises(InvalidInput, match="above the maximum"):
        found.verify(150_000_000)


def test_verify_refuses_below_the_minimum_and_accepts_inside() -> None:
    found = dose("tisagenlecleucel/lbcl", 70)
    found.verify(60_000_000)
    found.verify(600_000_000)
    with pytest.raises(InvalidInput, match="below the minimum"):
        found.verify(59_999_999)
    with pytest.raises(InvalidInput, match="positive number of cells"):
        found.verify(-5)


def test_cilta_cel_us_is_0_5_to_1_0x10e6_per_kg_capped_at_1x10e8() -> None:
    found = dose("ciltacabtagene-autoleucel/mm", 80)
    assert (found.min_cells, found.max_cells) == (40_000_000, 80_000_000)
    heavy = dose("ciltacabtagene-autoleucel/mm", 150)
    assert (heavy.min_cells, heavy.max_cells) == (75_000_000, 100_000_000)


def test_cilta_cel_eu_is_per_kg_to_100_kg_and_0_5_to_1_0x10e8_above() -> None:
    assert (
        dose("ciltacabtagene-autoleucel/mm", 100, "EU").min_cells,
        dose("ciltacabtagene-autoleucel/mm", 100, "EU").max_cells,
    ) == (50_000_000, 100_000_000)
    above = dose("ciltacabtagene-autoleucel/mm", 101, "EU")
    assert (above.min_cells, above.max_cells) == (50_000_000, 100_000_000)
    assert dose("ciltacabtagene-autoleucel/mm", 60, "EU").max_cells == 60_000_000


def test_a_dose_that_differs_by_region_needs_a_region() -> None:
    # China: no package insert found, so its dose is unknown (label audit)
    with pytest.raises(InvalidInput, match=r"differs by region.*give a region, one of CN, EU, US"):
        dose("ciltacabtagene-autoleucel/mm", 80, None)


def test_ide_cel_range_widened_to_510x10e6_with_the_april_2024_label() -> None:
    before = dose("idecabtagene-vicleucel/mm", 70, on=date(2024, 4, 3))
    after = dose("idecabtagene-vicleucel/mm", 70, on=date(2024, 4, 4))
    assert (before.min_cells, before.max_cells) == (300_000_000, 460_000_000)
    assert (after.min_cells, after.max_cells) == (300_000_000, 510_000_000)


def test_liso_cel_gives_cd8_and_cd4_at_1_to_1() -> None:
    third_line = dose("lisocabtagene-maraleucel/lbcl-third-line", 70)
    assert (third_line.min_cells, third_line.max_cells) == (50_000_000, 110_000_000)
    assert [(c.name, c.min_cells, c.max_cells) for c in third_line.components] == [
        ("CD8", 25_000_000, 55_000_000),
        ("CD4", 25_000_000, 55_000_000),
    ]
    fl = dose("lisocabtagene-maraleucel/fl", 70)
    assert (fl.min_cells, fl.max_cells) == (90_000_000, 110_000_000)


@pytest.mark.parametrize(
    "indication",
    [
        "lisocabtagene-maraleucel/lbcl-second-line",
        "lisocabtagene-maraleucel/mcl",
        "obecabtagene-autoleucel/b-all",
        "inaticabtagene-autoleucel/b-all",
    ],
)
def test_an_unconfirmed_dose_is_not_in_the_catalog(indication: str) -> None:
    region = "CN" if indication.startswith("inati") else "US"
    with pytest.raises(NotInCatalog, match=indication):
        dose(indication, 70, region)


def test_a_split_dose_with_known_numbers_gives_each_days_part() -> None:
    rule = {
        "kind": "split",
        "tolerance_days": 2,
        "total": {"min": 1e8, "max": 4e8},
        "parts": [{"day": 1, "fraction": 0.25}, {"day": 10, "fraction": 0.75}],
    }
    found = dose_range(rule, 70)
    assert [(p.day, p.min_cells, p.max_cells) for p in found.parts] == [
        (1, 25_000_000, 100_000_000),
        (10, 75_000_000, 300_000_000),
    ]
    assert found.tolerance_days == 2


def test_a_target_rule_with_a_label_lower_bound_uses_it() -> None:
    rule = {
        "kind": "target_per_kg_with_cap",
        "target_per_kg": 2e6,
        "max_total": 2e8,
        "min_per_kg": 1e6,
    }
    assert (dose_range(rule, 50).min_cells, dose_range(rule, 50).max_cells) == (
        50_000_000,
        100_000_000,
    )


def test_a_malformed_rule_is_refused() -> None:
    with pytest.raises(InvalidInput, match="kind must be one of"):
        dose_range({"kind": "per_m2"}, 70)


@pytest.mark.parametrize("weight", [0, 0.5, -70, 351, 1e9, math.nan, math.inf])
def test_an_absurd_weight_is_refused_saying_what_is_accepted(weight: float) -> None:
    with pytest.raises(InvalidInput, match=r"weight_kg must be above 0\.5 and at most 350|number"):
        dose("tisagenlecleucel/b-all", weight)


@settings(deadline=None, derandomize=True, max_examples=200)
@given(st.floats(0.51, 350))
def test_every_per_kg_range_grows_with_weight_and_never_inverts(weight: float) -> None:
    for indication in ("tisagenlecleucel/b-all", "ciltacabtagene-autoleucel/mm"):
        found = dose(indication, weight)
        assert found.min_cells is not None
        assert 0 < found.min_cells <= found.max_cells
        assert found.max_cells <= (250_000_000 if indication.startswith("tisa") else 100_000_000)


def test_a_region_where_the_indication_is_not_approved_is_refused() -> None:
    with pytest.raises(InvalidInput, match="not approved in CN"):
        dose("tisagenlecleucel/b-all", 30, "CN")


# --- BSA and lymphodepletion -------------------------------------------------------------------


def test_bsa_is_mosteller() -> None:
    assert bsa_mosteller(180, 80) == pytest.approx(2.0)
    assert bsa_mosteller(170, 70) == pytest.approx(math.sqrt(170 * 70 / 3600))


@pytest.mark.parametrize(("height", "weight"), [(0, 70), (-170, 70), (400, 70), (170, 0)])
def test_an_absurd_height_or_weight_is_refused(height: float, weight: float) -> None:
    with pytest.raises(InvalidInput, match=r"height_cm|weight_kg"):
        bsa_mosteller(height, weight)


def test_daily_mg_is_mg_per_m2_times_bsa_to_a_tenth_of_a_mg() -> None:
    assert daily_mg(30, 1.73) == 51.9
    assert daily_mg(500, 1.73) == 865.0


def plan(indication: str, region: str | None = "US", **kw: Any) -> dict[str, Any]:
    found = lymphodepletion_plan(CATALOG.indication(indication), 180, 80, ON, region, **kw)
    return found.to_dict()


def test_kymriah_all_plan_is_flu_30_x4_and_cy_500_x2_and_infusion_2_to_14_days() -> None:
    out = plan("tisagenlecleucel/b-all", crcl_ml_min=None)
    assert out["bsa_m2"] == 2.0
    assert [(d["drug"], d["mg_per_m2"], d["daily_mg"], d["days"]) for d in out["regimen"]] == [
        ("fludarabine", 30, 60.0, 4),
        ("cyclophosphamide", 500, 1000.0, 2),
    ]
    assert out["infusion_window_days"] == [2, 14]
    assert any("creatinine clearance not given" in w for w in out["warnings"])


def test_kymriah_lbcl_plan_offers_bendamustine_as_the_alternative() -> None:
    out = plan("tisagenlecleucel/lbcl")
    assert [(d["drug"], d["daily_mg"], d["days"]) for d in out["regimen"]] == [
        ("fludarabine", 50.0, 3),
        ("cyclophosphamide", 500.0, 3),
    ]
    (alt,) = out["alternatives"]
    assert [(d["drug"], d["daily_mg"], d["days"]) for d in alt["drugs"]] == [
        ("bendamustine", 180.0, 2)
    ]
    assert "haemorrhagic cystitis" in alt["use_when"]
    assert out["infusion_window_days"] == [2, 11]
    assert any("WBC <= 1e+09/L" in n for n in out["notes"])


def test_the_eu_kymriah_lbcl_window_is_2_to_14_days_with_a_repeat_after_4_weeks() -> None:
    out = plan("tisagenlecleucel/lbcl", "EU")
    assert out["infusion_window_days"] == [2, 14]
    assert any("delayed more than 28 days" in n for n in out["notes"])


def test_brexu_cel_all_gives_cyclophosphamide_900_on_day_minus_2_only() -> None:
    out = plan("brexucabtagene-autoleucel/b-all")
    assert [(d["drug"], d["daily_mg"], d["days"], d["on_days"]) for d in out["regimen"]] == [
        ("fludarabine", 50.0, 3, [-4, -3, -2]),
        ("cyclophosphamide", 1800.0, 1, [-2]),
    ]
    assert out["infusion_window_days"] is None
    assert any(NotInCatalog.MESSAGE in w for w in out["warnings"])


@pytest.mark.parametrize(
    ("indication", "window"),
    [
        ("lisocabtagene-maraleucel/fl", [2, 7]),
        ("idecabtagene-vicleucel/mm", [2, 7]),
        ("ciltacabtagene-autoleucel/mm", [2, 4]),
        ("tisagenlecleucel/fl", [2, 6]),
    ],
)
def test_each_label_infusion_window_reaches_the_plan(indication: str, window: list[int]) -> None:
    assert plan(indication)["infusion_window_days"] == window


def test_an_unknown_regimen_blocks_the_plan() -> None:
    with pytest.raises(NotInCatalog, match="lymphodepletion"):
        plan("obecabtagene-autoleucel/b-all")


def test_any_clearance_with_no_renal_rule_warns_that_the_site_protocol_decides() -> None:
    out = plan("ciltacabtagene-autoleucel/mm", crcl_ml_min=95)
    (warning,) = out["warnings"]
    assert "creatinine clearance 95 mL/min" in warning
    assert NotInCatalog.MESSAGE in warning and "site protocol decides" in warning
    assert out["regimen"][1]["daily_mg"] == 60.0  # fludarabine unchanged


RENAL = SiteProtocolValue(
    "ciltacabtagene-autoleucel/mm",
    "fludarabine_renal_adjustment",
    {"crcl_below": 70, "reduce_by_percent": 20},
    "SOP-RENAL-2",
    "pharmacist",
    date(2026, 3, 1),
)


def test_a_site_protocol_renal_rule_reduces_fludarabine_and_says_so() -> None:
    out = plan("ciltacabtagene-autoleucel/mm", crcl_ml_min=50, site_values=[RENAL])
    flu = out["regimen"][1]
    assert (flu["drug"], flu["daily_mg"], flu["unadjusted_daily_mg"]) == ("fludarabine", 48.0, 60.0)
    assert out["regimen"][0]["daily_mg"] == 600.0  # cyclophosphamide unchanged
    (warning,) = out["warnings"]
    assert "fludarabine reduced by 20%" in warning and "site protocol SOP-RENAL-2" in warning
    assert "signed event" in warning


def test_a_clearance_at_the_site_threshold_is_not_reduced() -> None:
    out = plan("ciltacabtagene-autoleucel/mm", crcl_ml_min=70, site_values=[RENAL])
    assert out["regimen"][1]["daily_mg"] == 60.0 and out["warnings"] == []
    assert any(
        "no fludarabine adjustment" in n and "70 or more mL/min: full dose" in n
        for n in out["notes"]
    )


def test_reduced_dose_and_reduction_percent_compute_the_site_modification() -> None:
    assert reduced_dose_mg(60.0, 20) == 48.0
    assert renal_reduction_percent(69.9, {"crcl_below": 70, "reduce_by_percent": 25}) == 25
    assert renal_reduction_percent(70, {"crcl_below": 70, "reduce_by_percent": 25}) is None
    with pytest.raises(InvalidInput):
        reduced_dose_mg(60.0, 100)
    with pytest.raises(InvalidInput, match="crcl_ml_min"):
        renal_reduction_percent(-1, {"crcl_below": 70, "reduce_by_percent": 25})


@pytest.mark.parametrize("crcl", [-5, 251, math.nan])
def test_an_absurd_clearance_is_refused(crcl: float) -> None:
    with pytest.raises(InvalidInput, match="crcl_ml_min"):
        plan("ciltacabtagene-autoleucel/mm", crcl_ml_min=crcl)


def test_dose_range_also_takes_the_resolved_fact_a_guard_holds() -> None:
    fact = CATALOG.indication("tisagenlecleucel/lbcl").resolve("dose", ON, "US")
    assert dose_range(fact, 70).max_cells == 600_000_000


def test_a_site_protocol_dose_fills_an_unknown_and_says_so() -> None:
    site = SiteProtocolValue(
        "lisocabtagene-maraleucel/mcl",
        "dose",
        {"kind": "flat_range", "min": 9e7, "max": 1.1e8},
        "SOP-LISO-MCL",
        "physician",
        date(2026, 5, 1),
    )
    found = dose_for(CATALOG.indication("lisocabtagene-maraleucel/mcl"), 70, ON, "US", [site])
    assert (found.min_cells, found.max_cells, found.source) == (
        90_000_000,
        110_000_000,
        "site protocol SOP-LISO-MCL",
    )
