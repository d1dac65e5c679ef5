"""The product catalog: every fact of every indication, read against the label's numbers."""

from __future__ import annotations

import copy
import json
import time
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from cartflow.catalog_file import load_catalog
from cartflow.domain.catalog import (
    REGIONS,
    Catalog,
    CatalogError,
    Fact,
    FactName,
    FactStatus,
    FactVersion,
    ProductFactName,
    SiteProtocolValue,
    check_fact_value,
    parse_catalog,
)
from cartflow.domain.errors import InvalidInput, NotInCatalog

CATALOG = load_catalog()
UNK = "unknown"
PRE = date(2025, 1, 1)  # REMS era in the US
NOW = date(2026, 11, 1)  # after the US REMS ended on 26 Jun 2025


def _raw() -> dict[str, Any]:
    text = resources.files("cartflow").joinpath("data/products.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def render(name: str, value: Any) -> Any:
    """A compact form of a fact's value, written in the table below in the label's terms."""
    if isinstance(value, dict) and value.get("unknown") is True:
        return UNK
    if name == FactName.CONDITIONS:
        return _tree(value)
    if name == FactName.LYMPHODEPLETION:
        return " | ".join(
            f"{r['id']}: "
            + ", ".join(f"{d['drug']} {d['mg_per_m2']:g}x{d['days']}" for d in r["drugs"])
            for r in value
        )
    if name == FactName.DOSE:
        return _unknowns(value)
    if name == FactName.AGE:
        return (value["min"], value["below"])
    if isinstance(value, list):
        return [render(name, v) for v in value]
    return value


def _unknowns(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get("unknown") is True:
            return UNK
        return {k: _unknowns(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unknowns(v) for v in value]
    return value


def _tree(node: dict[str, Any]) -> str:
    for key in ("all", "any"):
        if key in node:
            return f"{key}(" + ", ".join(_tree(n) for n in node[key]) + ")"
    arg = next(
        (node[k] for k in ("values", "n", "classes", "drugs", "months", "value") if k in node), None
    )
    shown = ",".join(arg) if isinstance(arg, list) else str(arg).lower()
    return f"{node['test']}={shown}" if arg is not None else node["test"]


RR = "disease_status_in=refractory,first_relapse,second_or_later_relapse"
FLU_CY_KYM_LYMPHOMA = (
    "flu-cy: fludarabine 25x3, cyclophosphamide 250x3 | bendamustine: bendamustine 90x2"
)


def us_follow_up(
    subject: str, pre_monitoring: Any, pre_daily: int | None = None
) -> list[tuple[Any, ...]]:
    """The REMS-era and current US monitoring, proximity and driving periods [1][2].

    ``monitoring_days`` is the whole period in both eras: the REMS-era labels said "for at
    least 4 weeks" (label audit, section 11); ``daily_monitoring_days`` is its daily part,
    where the label states one (7 days since 26 Jun 2025 [1]).
    """
    daily = [(subject, "daily_monitoring_days", "US", PRE, pre_daily)] if pre_daily else []
    return [
        (subject, "monitoring_days", "US", PRE, pre_monitoring),
        (subject, "monitoring_days", "US", NOW, 14),
        *daily,
        (subject, "daily_monitoring_days", "US", NOW, 7),
        (subject, "proximity_days", "US", PRE, 28),
        (subject, "proximity_days", "US", NOW, 14),
        (subject, "driving_restriction_days", "US", PRE, 56),
        (subject, "driving_restriction_days", "US", NOW, 14),
    ]


def unknowns(subject: str, *names: str, region: str | None = None) -> list[tuple[Any, ...]]:
    return [(subject, name, region, NOW, UNK) for name in names]


K_ALL, K_LBCL, K_FL = "tisagenlecleucel/b-all", "tisagenlecleucel/lbcl", "tisagenlecleucel/fl"
AXI = (
    "axicabtagene-ciloleucel/lbcl-second-line",
    "axicabtagene-ciloleucel/lbcl-third-line",
    "axicabtagene-ciloleucel/fl",
)
TEC_MCL, TEC_ALL = "brexucabtagene-autoleucel/mcl", "brexucabtagene-autoleucel/b-all"
LISO = (
    "lisocabtagene-maraleucel/lbcl-second-line",
    "lisocabtagene-maraleucel/lbcl-third-line",
    "lisocabtagene-maraleucel/cll-sll",
    "lisocabtagene-maraleucel/fl",
    "lisocabtagene-maraleucel/mcl",
    "lisocabtagene-maraleucel/mzl",
)
IDE, CILTA = "idecabtagene-vicleucel/mm", "ciltacabtagene-autoleucel/mm"
OBE, INATI = "obecabtagene-autoleucel/b-all", "inaticabtagene-autoleucel/b-all"
RELMA_LBCL, RELMA_FL = "relmacabtagene-autoleucel/lbcl", "relmacabtagene-autoleucel/fl"
RELMA_MCL = "relmacabtagene-autoleucel/mcl"
ZEVOR = "zevorcabtagene-autoleucel/mm"
EQUE = "equecabtagene-autoleucel/mm"
KYM_DOSE_ALL = {
    "kind": "per_kg_with_weight_threshold",
    "threshold_kg": 50,
    "at_or_below": {"min_per_kg": 0.2e6, "max_per_kg": 5.0e6},
    "above": {"min": 0.1e8, "max": 2.5e8},
}
FLAT_KYM = {"kind": "flat_range", "min": 0.6e8, "max": 6.0e8}
SECOND_LINE_FAIL = "any(disease_status_in=refractory, relapse_within_months=12)"
AXI_DOSE_US = {
    "kind": "target_per_kg_with_cap",
    "target_per_kg": 2e6,
    "max_total": 2e8,
    "min_per_kg": UNK,
}
PROGRESSED = "clinician_confirms"


def _liso_dose(low: float, high: float) -> dict[str, Any]:
    return {
        "kind": "two_components",
        "components": [{"name": "CD8"}, {"name": "CD4"}],
        "ratio": "1:1",
        "total": {"min": low, "max": high},
    }


MT = "manufacturing_turnaround_days"
V2V = "typical_vein_to_vein_days"
LA_TO_INF = "leukapheresis_to_infusion"
AXI_16 = {"min": 16, "max": 16, "span": "leukapheresis_to_release"}


def turn(low: int, high: int, span: str) -> dict[str, Any]:
    return {"min": low, "max": high, "span": span}


# (subject, fact, region, date, expected value in the label's terms)
EXPECTED: list[tuple[Any, ...]] = [
    # Product facts: target antigen and costimulatory domain.
    ("tisagenlecleucel", "target_antigen", None, NOW, "CD19"),
    ("tisagenlecleucel", "costimulatory_domain", None, NOW, "4-1BB"),
    ("inaticabtagene-autoleucel", "target_antigen", None, NOW, "CD19"),
    # HI19α-4-1BB-ζ (J Hematol Oncol 2020, label audit section 2).
    ("inaticabtagene-autoleucel", "costimulatory_domain", None, NOW, "4-1BB"),
    ("axicabtagene-ciloleucel", "target_antigen", None, NOW, "CD19"),
    ("axicabtagene-ciloleucel", "costimulatory_domain", None, NOW, "CD28"),
    ("brexucabtagene-autoleucel", "target_antigen", None, NOW, "CD19"),
    ("brexucabtagene-autoleucel", "costimulatory_domain", None, NOW, "CD28"),
    ("lisocabtagene-maraleucel", "target_antigen", None, NOW, "CD19"),
    ("lisocabtagene-maraleucel", "costimulatory_domain", None, NOW, "4-1BB"),
    ("idecabtagene-vicleucel", "target_antigen", None, NOW, "BCMA"),
    ("idecabtagene-vicleucel", "costimulatory_domain", None, NOW, "4-1BB"),
    ("ciltacabtagene-autoleucel", "target_antigen", None, NOW, "BCMA"),
    ("ciltacabtagene-autoleucel", "costimulatory_domain", None, NOW, "4-1BB"),
    ("obecabtagene-autoleucel", "target_antigen", None, NOW, "CD19"),
    ("obecabtagene-autoleucel", "costimulatory_domain", None, NOW, "4-1BB"),
    ("relmacabtagene-autoleucel", "target_antigen", None, NOW, "CD19"),
    ("relmacabtagene-autoleucel", "costimulatory_domain", None, NOW, UNK),
    ("equecabtagene-autoleucel", "target_antigen", None, NOW, "BCMA"),
    ("equecabtagene-autoleucel", "costimulatory_domain", None, NOW, "4-1BB"),
    ("zevorcabtagene-autoleucel", "target_antigen", None, NOW, "BCMA"),
    ("zevorcabtagene-autoleucel", "costimulatory_domain", None, NOW, "4-1BB"),
    # Manufacturing turnaround (section 12 of the reference): (min, max, what it measures).
    ("tisagenlecleucel", MT, None, NOW, turn(21, 28, "manufacture_and_release")),
    ("inaticabtagene-autoleucel", MT, None, NOW, UNK),
    # US median 16 days, 14 after the process change approved in January 2024 [114].
    ("axicabtagene-ciloleucel", MT, "US", date(2024, 1, 29), AXI_16),
    ("axicabtagene-ciloleucel", MT, "US", NOW, turn(14, 14, "leukapheresis_to_release")),
    ("axicabtagene-ciloleucel", MT, "EU", NOW, turn(21, 28, "not_stated")),
    ("brexucabtagene-autoleucel", MT, None, NOW, UNK),
    ("lisocabtagene-maraleucel", MT, None, NOW, turn(21, 28, "receipt_to_delivery")),
    ("idecabtagene-vicleucel", MT, None, NOW, turn(28, 28, "not_stated")),
    ("ciltacabtagene-autoleucel", MT, None, NOW, UNK),
    ("obecabtagene-autoleucel", MT, None, NOW, UNK),
    ("relmacabtagene-autoleucel", MT, None, NOW, UNK),
    ("equecabtagene-autoleucel", MT, None, NOW, UNK),
    # Typical vein to vein: the real-world medians of the reference's section 12 [113].
    ("tisagenlecleucel", V2V, None, NOW, {"median": 48.0, "span": LA_TO_INF}),
    ("axicabtagene-ciloleucel", V2V, None, NOW, {"median": 30.9, "span": LA_TO_INF}),
    ("lisocabtagene-maraleucel", V2V, None, NOW, {"median": 35.9, "span": LA_TO_INF}),
    *(
        (product, V2V, None, NOW, UNK)
        for product in (
            "inaticabtagene-autoleucel",
            "brexucabtagene-autoleucel",
            "idecabtagene-vicleucel",
            "ciltacabtagene-autoleucel",
            "obecabtagene-autoleucel",
            "relmacabtagene-autoleucel",
            "equecabtagene-autoleucel",
            "zevorcabtagene-autoleucel",
        )
    ),
    ("zevorcabtagene-autoleucel", MT, None, NOW, UNK),
    # 1. Tisagenlecleucel, B-ALL up to 25 years [8], dose [12], LD [9][14], window 2-14 d.
    (K_ALL, "age", "US", NOW, (None, 26)),
    # EU: "up to and including 25 years of age" (ESMO report of the CHMP opinion, label audit).
    (K_ALL, "age", "EU", NOW, (None, 26)),
    (K_ALL, "conditions", "US", NOW, "all(disease_status_in=refractory,second_or_later_relapse)"),
    (
        K_ALL,
        "conditions",
        "EU",
        NOW,
        "any(disease_status_in=refractory,second_or_later_relapse, relapsed_after_transplant=true)",
    ),
    (K_ALL, "dose", "US", NOW, KYM_DOSE_ALL),
    (K_ALL, "lymphodepletion", "US", NOW, "flu-cy: fludarabine 30x4, cyclophosphamide 500x2"),
    (K_ALL, "infusion_window_days", "EU", NOW, [2, 14]),
    (K_ALL, "storage_max_celsius", "US", NOW, -120),
    (K_ALL, "post_thaw_minutes", "US", NOW, 30),
    (K_ALL, "fludarabine_renal_adjustment", "US", NOW, UNK),
    *us_follow_up(K_ALL, 28),
    # Tisagenlecleucel LBCL: adults, >=2 lines [8]; 0.6-6.0x10^8 [12]; window US 2-11, EU 2-14.
    (K_LBCL, "age", "US", NOW, (18, None)),
    (K_LBCL, "age", "EU", NOW, (18, None)),  # EU: adult patients (ESMO, label audit)
    (K_LBCL, "conditions", "US", NOW, f"all({RR}, min_prior_lines=2)"),
    (K_LBCL, "conditions", "EU", NOW, f"all({RR}, min_prior_lines=2)"),
    (K_LBCL, "dose", "US", NOW, FLAT_KYM),
    (K_LBCL, "lymphodepletion", "US", NOW, FLU_CY_KYM_LYMPHOMA),
    (K_LBCL, "infusion_window_days", "US", NOW, [2, 11]),
    (K_LBCL, "infusion_window_days", "EU", NOW, [2, 14]),
    (K_LBCL, "ld_repeat_after_days", "EU", NOW, 28),
    (K_LBCL, "ld_omission_wbc_max_per_l", "US", NOW, 1e9),
    (K_LBCL, "storage_max_celsius", "EU", NOW, -120),
    (K_LBCL, "post_thaw_minutes", "EU", NOW, 30),
    (K_LBCL, "fludarabine_renal_adjustment", "EU", NOW, UNK),
    *us_follow_up(K_LBCL, 28),
    # Tisagenlecleucel FL [9][10]: window 2-6 d.
    (K_FL, "age", "US", NOW, (18, None)),
    (K_FL, "age", "EU", NOW, (18, None)),  # EU FL (ESMO, label audit)
    (K_FL, "conditions", "US", NOW, f"all({RR}, min_prior_lines=2)"),
    (K_FL, "conditions", "EU", NOW, f"all({RR}, min_prior_lines=2)"),
    (K_FL, "dose", "US", NOW, FLAT_KYM),
    (K_FL, "lymphodepletion", "US", NOW, FLU_CY_KYM_LYMPHOMA),
    (K_FL, "infusion_window_days", "US", NOW, [2, 6]),
    (K_FL, "infusion_window_days", "EU", NOW, [2, 6]),  # EU SmPC [13]
    (K_FL, "ld_repeat_after_days", "EU", NOW, 28),
    (K_FL, "ld_omission_wbc_max_per_l", "US", NOW, 1e9),
    (K_FL, "storage_max_celsius", "US", NOW, -120),
    (K_FL, "post_thaw_minutes", "US", NOW, 30),
    (K_FL, "fludarabine_renal_adjustment", "US", NOW, UNK),
    *us_follow_up(K_FL, 28),
    # 10. Inaticabtagene autoleucel: adult r/r B-ALL (NMPA 2023-11-08); the rest UNCONFIRMED.
    (INATI, "age", "CN", NOW, (18, None)),
    (INATI, "conditions", "CN", NOW, f"all({RR})"),
    *unknowns(
        INATI,
        "dose",
        "lymphodepletion",
        "infusion_window_days",
        "storage_max_celsius",
        "post_thaw_minutes",
        "monitoring_days",
        "proximity_days",
        region="CN",
    ),
    # 2. Axicabtagene ciloleucel: 2x10^6/kg, max 2x10^8 [34]; cy 500 + flu 30 on -5..-3.
    *[
        (AXI[0], "conditions", region, NOW, f"all(prior_therapies_include=chemoimmunotherapy, "
         f"{SECOND_LINE_FAIL})")
        for region in ("US", "EU", "CN")
    ],
    *[(AXI[1], "conditions", region, NOW, f"all({RR}, min_prior_lines=2)") for region in REGIONS],
    (AXI[2], "conditions", "US", NOW, f"all({RR}, min_prior_lines=2)"),
    (AXI[2], "conditions", "EU", NOW, f"all({RR}, min_prior_lines=3)"),  # EU SmPC (audit C4)
    *[(subject, "age", region, NOW, (18, None)) for subject in AXI for region in ("US", "EU")],
    *[(subject, "age", "CN", NOW, UNK) for subject in AXI[:2]],
    # EU SmPC: a range of 1 to 2x10^6/kg (label audit D10); no Chinese insert was found.
    *[
        (subject, "dose", "EU", NOW, {**AXI_DOSE_US, "min_per_kg": 1e6})
        for subject in AXI
    ],
    *[(subject, "dose", "CN", NOW, UNK) for subject in AXI[:2]],
    *[
        row
        for subject in AXI
        for row in [
            (subject, "dose", "US", NOW, AXI_DOSE_US),
            (
                subject,
                "lymphodepletion",
                "US",
                NOW,
                "cy-flu: cyclophosphamide 500x3, fludarabine 30x3",
            ),
            (subject, "infusion_window_days", "US", NOW, UNK),
            (subject, "storage_max_celsius", "US", NOW, -150),  # EU leaflet (label audit)
            (subject, "post_thaw_minutes", "US", NOW, UNK),
            (subject, "fludarabine_renal_adjustment", "US", NOW, UNK),
            *us_follow_up(subject, 28, 7),
        ]
    ],
    # 3. Brexucabtagene autoleucel: MCL 2x10^6/kg (max 2x10^8); ALL 1x10^6/kg (max 1x10^8).
    (TEC_MCL, "age", "US", NOW, (18, None)),
    (TEC_MCL, "age", "EU", NOW, (18, None)),  # EU: adult patients [46] (label audit)
    (TEC_MCL, "conditions", "US", NOW, f"all({RR})"),
    (
        TEC_MCL,
        "conditions",
        "EU",
        NOW,
        "all(min_prior_lines=2, prior_therapies_include=btk_inhibitor)",
    ),
    (
        TEC_MCL,
        "dose",
        "US",
        NOW,
        {
            "kind": "target_per_kg_with_cap",
            "target_per_kg": 2e6,
            "max_total": 2e8,
            "min_per_kg": UNK,
        },
    ),
    (TEC_MCL, "lymphodepletion", "US", NOW, "cy-flu: cyclophosphamide 500x3, fludarabine 30x3"),
    (TEC_MCL, "infusion_window_days", "US", NOW, UNK),
    (TEC_MCL, "storage_max_celsius", "US", NOW, -150),
    # 30 min is the EU/Swiss SmPC's value [48]; the US label's was not reachable (label audit).
    (TEC_MCL, "post_thaw_minutes", "EU", NOW, 30),
    (TEC_MCL, "post_thaw_minutes", "US", NOW, UNK),
    (TEC_MCL, "fludarabine_renal_adjustment", "US", NOW, UNK),
    *us_follow_up(TEC_MCL, 28, 7),
    (TEC_ALL, "age", "US", NOW, (18, None)),
    (TEC_ALL, "age", "EU", NOW, (26, None)),
    (TEC_ALL, "conditions", "US", NOW, f"all({RR})"),
    (TEC_ALL, "conditions", "EU", NOW, f"all({RR})"),
    (
        TEC_ALL,
        "dose",
        "US",
        NOW,
        {
            "kind": "target_per_kg_with_cap",
            "target_per_kg": 1e6,
            "max_total": 1e8,
            "min_per_kg": UNK,
        },
    ),
    (TEC_ALL, "lymphodepletion", "US", NOW, "flu-cy: fludarabine 25x3, cyclophosphamide 900x1"),
    (TEC_ALL, "infusion_window_days", "US", NOW, UNK),
    (TEC_ALL, "storage_max_celsius", "US", NOW, -150),
    (TEC_ALL, "post_thaw_minutes", "EU", NOW, 30),
    (TEC_ALL, "post_thaw_minutes", "US", NOW, UNK),
    (TEC_ALL, "fludarabine_renal_adjustment", "US", NOW, UNK),
    *us_follow_up(TEC_ALL, 28, 14),
    # 4. Lisocabtagene maraleucel: flu 30 + cy 300 x3, infuse 2-7 d; doses 50-110 / 90-110x10^6.
    (
        LISO[0],
        "conditions",
        "US",
        NOW,
        f"any(all(prior_therapies_include=chemoimmunotherapy, {SECOND_LINE_FAIL}), "
        "all(disease_status_in=refractory,first_relapse, transplant_eligible=false))",
    ),
    (
        LISO[0],
        "conditions",
        "EU",
        NOW,
        f"all(prior_therapies_include=chemoimmunotherapy, {SECOND_LINE_FAIL})",
    ),
    (LISO[0], "dose", "US", NOW, UNK),
    (LISO[1], "conditions", "US", NOW, f"all({RR}, min_prior_lines=2)"),
    (LISO[1], "conditions", "EU", NOW, f"all({RR}, min_prior_lines=2)"),
    (LISO[1], "dose", "US", NOW, _liso_dose(50e6, 110e6)),
    (
        LISO[2],
        "conditions",
        "US",
        NOW,
        "all(min_prior_lines=2, prior_therapies_include=btk_inhibitor,bcl2_inhibitor)",
    ),
    (LISO[2], "dose", "US", NOW, _liso_dose(90e6, 110e6)),
    (LISO[3], "conditions", "US", NOW, "all(min_prior_lines=2)"),
    (LISO[3], "dose", "US", NOW, _liso_dose(90e6, 110e6)),
    (
        LISO[4],
        "conditions",
        "US",
        NOW,
        "all(min_prior_lines=2, prior_therapies_include=btk_inhibitor)",
    ),
    (LISO[4], "dose", "US", NOW, UNK),
    (LISO[5], "conditions", "US", NOW, "all(min_prior_lines=2)"),
    (LISO[5], "dose", "US", NOW, UNK),
    *[
        row
        for subject in LISO
        for row in [
            (subject, "age", "US", NOW, (18, None)),  # "adult patients" (label audit)
            (
                subject,
                "lymphodepletion",
                "US",
                NOW,
                "flu-cy: fludarabine 30x3, cyclophosphamide 300x3",
            ),
            (subject, "infusion_window_days", "US", NOW, [2, 7]),
            (subject, "storage_max_celsius", "US", NOW, -130),  # EU leaflet (label audit)
            (subject, "post_thaw_minutes", "US", NOW, 120),  # 2 h from storage (label audit)
            (subject, "fludarabine_renal_adjustment", "US", NOW, UNK),
            *us_follow_up(subject, UNK),
        ]
    ],
    # 5. Idecabtagene vicleucel: >=4 lines until 4 Apr 2024, >=2 from then; 300-460 -> 300-510.
    (IDE, "age", "US", NOW, (18, None)),  # "adult patients" (drugs.com, ONS; label audit)
    (
        IDE,
        "conditions",
        "US",
        date(2024, 4, 3),
        f"all({RR}, min_prior_lines=4, prior_therapies_include="
        "immunomodulatory_agent,proteasome_inhibitor,anti_cd38)",
    ),
    (
        IDE,
        "conditions",
        "US",
        date(2024, 4, 4),
        f"all({RR}, min_prior_lines=2, prior_therapies_include="
        "immunomodulatory_agent,proteasome_inhibitor,anti_cd38)",
    ),
    (IDE, "dose", "US", date(2024, 4, 3), {"kind": "flat_range", "min": 300e6, "max": 460e6}),
    (IDE, "dose", "US", date(2024, 4, 4), {"kind": "flat_range", "min": 300e6, "max": 510e6}),
    # EU: 260-500x10^6, target 420x10^6 (businesswire 2021, EU leaflet; label audit).
    (IDE, "dose", "EU", NOW, {"kind": "flat_range", "min": 260e6, "max": 500e6}),
    (IDE, "conditions", "EU", date(2024, 2, 29), f"all({RR}, min_prior_lines=3, {PROGRESSED})"),
    (IDE, "conditions", "EU", date(2024, 3, 15), UNK),
    (
        IDE,
        "conditions",
        "EU",
        NOW,
        f"all({RR}, min_prior_lines=2, prior_therapies_include="
        f"immunomodulatory_agent,proteasome_inhibitor,anti_cd38, {PROGRESSED})",
    ),
    (IDE, "lymphodepletion", "US", NOW, "cy-flu: cyclophosphamide 300x3, fludarabine 30x3"),
    (IDE, "infusion_window_days", "US", NOW, [2, 7]),
    (IDE, "storage_max_celsius", "US", NOW, -130),
    (IDE, "post_thaw_minutes", "US", NOW, 60),
    (IDE, "fludarabine_renal_adjustment", "US", NOW, UNK),
    *us_follow_up(IDE, 28, 7),
    # 6. Ciltacabtagene autoleucel: US 0.5-1.0x10^6/kg max 1x10^8 [78]; EU split at 100 kg [77].
    (CILTA, "age", "US", NOW, (18, None)),  # "adult patients" (FDA D.I.S.C.O.; label audit)
    (
        CILTA,
        "conditions",
        "US",
        date(2024, 4, 4),
        f"all({RR}, min_prior_lines=4, prior_therapies_include="
        "proteasome_inhibitor,immunomodulatory_agent,anti_cd38)",
    ),
    (
        CILTA,
        "conditions",
        "US",
        NOW,
        f"all({RR}, min_prior_lines=1, prior_therapies_include=proteasome_inhibitor,"
        "immunomodulatory_agent, refractory_to_include=lenalidomide)",
    ),
    (CILTA, "conditions", "EU", date(2024, 2, 22), f"all({RR}, min_prior_lines=3, {PROGRESSED})"),
    (CILTA, "conditions", "EU", date(2024, 4, 30), UNK),
    (
        CILTA,
        "conditions",
        "EU",
        NOW,
        f"all({RR}, min_prior_lines=1, prior_therapies_include=proteasome_inhibitor,"
        f"immunomodulatory_agent, {PROGRESSED}, refractory_to_include=lenalidomide)",
    ),
    (
        CILTA,
        "conditions",
        "CN",
        NOW,
        f"all({RR}, min_prior_lines=3, prior_therapies_include=proteasome_inhibitor,"
        "immunomodulatory_agent)",
    ),
    (CILTA, "dose", "CN", NOW, UNK),
    (
        CILTA,
        "dose",
        "US",
        NOW,
        {"kind": "per_kg_range", "min_per_kg": 0.5e6, "max_per_kg": 1.0e6, "max_total": 1e8},
    ),
    (
        CILTA,
        "dose",
        "EU",
        NOW,
        {
            "kind": "per_kg_with_weight_threshold",
            "threshold_kg": 100,
            "at_or_below": {"min_per_kg": 0.5e6, "max_per_kg": 1.0e6},
            "above": {"min": 0.5e8, "max": 1.0e8},
        },
    ),
    (CILTA, "lymphodepletion", "US", NOW, "cy-flu: cyclophosphamide 300x3, fludarabine 30x3"),
    (CILTA, "infusion_window_days", "US", NOW, [2, 4]),
    (CILTA, "ld_repeat_after_days", "US", NOW, 14),
    (CILTA, "storage_max_celsius", "US", NOW, -120),  # EU leaflet (label audit)
    (CILTA, "post_thaw_minutes", "US", NOW, 150),
    (CILTA, "fludarabine_renal_adjustment", "US", NOW, UNK),
    *us_follow_up(CILTA, 28, 10),
    # 7. Obecabtagene autoleucel: split Day 1 and Day 10 (±2), numbers UNCONFIRMED [86].
    (OBE, "age", "US", NOW, (18, None)),
    (OBE, "age", "EU", NOW, (26, None)),  # EU: 26 years of age and above (EMA; label audit)
    (OBE, "conditions", "US", NOW, f"all({RR})"),
    (OBE, "conditions", "EU", NOW, f"all({RR})"),
    (
        OBE,
        "dose",
        "US",
        NOW,
        {
            "kind": "split",
            "tolerance_days": 2,
            "parts": [{"day": 1, "fraction": UNK}, {"day": 10, "fraction": UNK}],
            "total": UNK,
            # drugs.com/dosage/aucatzyl.html (label text, label audit section 8)
            "second_dose_hold": {
                "postpone_at_crs_grade": 2,
                "latest_day": 21,
                "stop_at_crs_grade": 3,
                "stop_at_icans_grade": UNK,
            },
            "regimen_by_marrow_blasts": {"cutoff_percent": 20, "assessed_within_days_before_ld": 7},
        },
    ),
    *unknowns(
        OBE,
        "lymphodepletion",
        "infusion_window_days",
        "storage_max_celsius",
        "post_thaw_minutes",
        "monitoring_days",
        "proximity_days",
        region="US",
    ),
    # 8. Relmacabtagene autoleucel (NMPA): LBCL >=2 lines; FL refractory or relapsed in 24 mo.
    (RELMA_LBCL, "age", "CN", NOW, (18, None)),
    (RELMA_LBCL, "conditions", "CN", NOW, f"all({RR}, min_prior_lines=2)"),
    (RELMA_FL, "age", "CN", NOW, (18, None)),
    # MCL (NMPA; cgtlive, manufacturingchemist; label audit section 9).
    (RELMA_MCL, "age", "CN", NOW, (18, None)),
    (
        RELMA_MCL,
        "conditions",
        "CN",
        NOW,
        f"all({RR}, min_prior_lines=2, prior_therapies_include=btk_inhibitor)",
    ),
    (
        RELMA_FL,
        "conditions",
        "CN",
        NOW,
        "all(min_prior_lines=2, any(disease_status_in=refractory, clinician_confirms))",
    ),
    *[
        row
        for subject in (RELMA_LBCL, RELMA_FL, RELMA_MCL)
        for row in unknowns(
            subject,
            "dose",
            "lymphodepletion",
            "infusion_window_days",
            "storage_max_celsius",
            "post_thaw_minutes",
            "monitoring_days",
            "proximity_days",
            region="CN",
        )
    ],
    # 9. Equecabtagene autoleucel (NMPA 2023-06-30): >=3 lines incl. a PI and an IMiD [96].
    (EQUE, "age", "CN", NOW, (18, None)),
    (
        EQUE,
        "conditions",
        "CN",
        NOW,
        f"all({RR}, min_prior_lines=3, prior_therapies_include=proteasome_inhibitor,"
        "immunomodulatory_agent)",
    ),
    *unknowns(
        EQUE,
        "dose",
        "lymphodepletion",
        "infusion_window_days",
        "storage_max_celsius",
        "post_thaw_minutes",
        "monitoring_days",
        "proximity_days",
        region="CN",
    ),
    # 11. Zevorcabtagene autoleucel (NMPA 2024-02-23): >=3 lines incl. a PI and an IMiD
    # (marketscreener, label audit section C).
    (ZEVOR, "age", "CN", NOW, (18, None)),
    (
        ZEVOR,
        "conditions",
        "CN",
        NOW,
        f"all({RR}, min_prior_lines=3, prior_therapies_include=proteasome_inhibitor,"
        "immunomodulatory_agent)",
    ),
    *unknowns(
        ZEVOR,
        "dose",
        "lymphodepletion",
        "infusion_window_days",
        "storage_max_celsius",
        "post_thaw_minutes",
        "monitoring_days",
        "proximity_days",
        region="CN",
    ),
]


def _subject_fact(subject: str, name: str) -> Fact:
    if "/" in subject:
        return CATALOG.indication(subject).facts[name]
    return CATALOG.product(subject).facts[name]


def _version(row: tuple[Any, ...]) -> FactVersion:
    subject, name, region, on, _ = row
    version = _subject_fact(subject, name).at(on, region)
    assert version is not None, f"{subject} {name} has no version in {region} on {on}"
    return version


@pytest.mark.parametrize("row", EXPECTED, ids=lambda r: f"{r[0]}:{r[1]}:{r[2]}:{r[3]}")
def test_each_fact_in_the_file_has_the_labels_value(row: tuple[Any, ...]) -> None:
    version = _version(row)
    expected = row[4]
    if expected == UNK:
        assert version.status is FactStatus.UNKNOWN
        assert version.value is None
        assert version.note.startswith("UNCONFIRMED")
    else:
        assert version.status is FactStatus.LABEL
        assert render(row[1], version.value) == expected


def test_the_table_reads_every_version_of_every_fact_in_the_file() -> None:
    read = {id(_version(row)) for row in EXPECTED}
    unread = [
        f"{subject.id} {name} version {i + 1}"
        for subject in (*CATALOG.products, *CATALOG.indications())
        for name, fact in subject.facts.items()
        for i, version in enumerate(fact.versions)
        if id(version) not in read
    ]
    assert unread == []


def test_the_catalog_lists_the_eleven_products_in_the_seeds_order_then_the_audits() -> None:
    assert [p.id for p in CATALOG.products] == [
        "tisagenlecleucel",
        "inaticabtagene-autoleucel",
        "axicabtagene-ciloleucel",
        "brexucabtagene-autoleucel",
        "lisocabtagene-maraleucel",
        "idecabtagene-vicleucel",
        "ciltacabtagene-autoleucel",
        "obecabtagene-autoleucel",
        "relmacabtagene-autoleucel",
        "equecabtagene-autoleucel",
        "zevorcabtagene-autoleucel",  # NMPA 23 Feb 2024 (label audit, section C 15)
    ]
    assert [p.brand for p in CATALOG.products][:2] == ["KYMRIAH", "CNCT19"]


def test_it_says_as_of_when_and_that_it_is_not_exhaustive() -> None:
    assert CATALOG.as_of == date(2026, 11, 30)
    assert "not exhaustive" in _raw()["disclaimer"].lower()


def test_it_copies_the_reference_source_list() -> None:
    assert [str(n) for n in range(1, 120)] == [k for k in CATALOG.sources if k.isdigit()]
    assert CATALOG.sources["12"].startswith("120ty.net/bencandy.php?aid=55009")
    assert CATALOG.sources["1"].startswith("fda.einnews.com")


def test_every_known_version_names_a_source_and_every_unknown_says_unconfirmed() -> None:
    for subject in (*CATALOG.products, *CATALOG.indications()):
        for name, fact in subject.facts.items():
            for version in fact.versions:
                if version.known:
                    assert version.sources, f"{subject.id} {name}"
                    assert all(s in CATALOG.sources for s in version.sources)
                else:
                    assert version.note.startswith("UNCONFIRMED"), f"{subject.id} {name}"


# Every approval has a date: the approval day where a source gives it, else the earliest day a
# source proves it in force (a month's or a year's last day), with a note (label audit).
APPROVALS = {
    K_ALL: [("US", date(2017, 8, 30)), ("EU", date(2018, 8, 27))],
    K_LBCL: [("US", date(2018, 5, 31)), ("EU", date(2018, 8, 27))],
    K_FL: [("US", date(2022, 5, 27)), ("EU", date(2022, 5, 4))],
    INATI: [("CN", date(2023, 11, 8))],
    AXI[0]: [("US", date(2022, 4, 1)), ("EU", date(2022, 10, 31)), ("CN", date(2023, 12, 31))],
    AXI[1]: [("US", date(2017, 10, 18)), ("EU", date(2018, 8, 27)), ("CN", date(2021, 6, 23))],
    AXI[2]: [("US", date(2021, 3, 5)), ("EU", date(2026, 11, 30))],
    TEC_MCL: [("US", date(2020, 7, 24)), ("EU", date(2020, 12, 31))],
    TEC_ALL: [("US", date(2021, 10, 1)), ("EU", date(2022, 9, 30))],
    LISO[0]: [("US", date(2022, 6, 24)), ("EU", date(2023, 6, 6))],
    LISO[1]: [("US", date(2021, 2, 5)), ("EU", date(2022, 4, 5))],
    LISO[2]: [("US", date(2024, 3, 14))],
    LISO[3]: [("US", date(2024, 5, 15))],
    LISO[4]: [("US", date(2024, 5, 30))],
    LISO[5]: [("US", date(2025, 12, 4))],
    IDE: [("US", date(2021, 3, 27)), ("EU", date(2021, 8, 31))],
    CILTA: [("US", date(2022, 2, 28)), ("EU", date(2022, 12, 31)), ("CN", date(2024, 8, 27))],
    OBE: [("US", date(2024, 11, 8)), ("EU", date(2025, 7, 21))],
    RELMA_LBCL: [("CN", date(2021, 9, 30))],
    RELMA_FL: [("CN", date(2022, 10, 31))],
    RELMA_MCL: [("CN", date(2026, 11, 30))],
    EQUE: [("CN", date(2023, 6, 30))],
    ZEVOR: [("CN", date(2024, 2, 23))],
}


def test_each_indication_is_approved_where_and_since_when_the_sources_say() -> None:
    found = {i.id: [(a.region, a.valid_from) for a in i.approvals] for i in CATALOG.indications()}
    assert found == APPROVALS
    for indication in CATALOG.indications():
        for approval in indication.approvals:
            assert approval.sources and approval.valid_until is None
            assert all(s in CATALOG.sources for s in approval.sources)


def test_an_approval_counts_from_its_date_not_before() -> None:
    obe = CATALOG.indication(OBE)
    assert obe.approved_in(date(2024, 11, 7)) == ()
    assert obe.approved_in(date(2024, 11, 8)) == ("US",)


def test_liso_cel_cll_is_also_for_sll() -> None:
    indication = CATALOG.indication(LISO[2])
    assert indication.diseases == ("CLL", "SLL")
    assert CATALOG.find_indication("lisocabtagene-maraleucel", "SLL") is indication


def test_the_us_rems_end_halves_proximity_on_26_june_2025() -> None:
    fact = CATALOG.indication(K_ALL).facts["proximity_days"]
    assert fact.at(date(2025, 6, 25), "US").value == 28  # type: ignore[union-attr]
    assert fact.at(date(2025, 6, 26), "US").value == 14  # type: ignore[union-attr]
    assert fact.at(date(2025, 6, 26), "EU") is None


def test_find_indication_takes_an_id_a_short_name_or_a_disease() -> None:
    assert CATALOG.find_indication("tisagenlecleucel", "tisagenlecleucel/b-all").id == K_ALL
    assert CATALOG.find_indication("tisagenlecleucel", "b-all").id == K_ALL
    assert CATALOG.find_indication("tisagenlecleucel", "b-ALL").id == K_ALL


def test_an_ambiguous_disease_is_refused_with_the_choices() -> None:
    with pytest.raises(InvalidInput) as info:
        CATALOG.find_indication("axicabtagene-ciloleucel", "LBCL")
    assert "ambiguous" in str(info.value)
    assert AXI[0] in str(info.value) and AXI[1] in str(info.value)


def test_an_unknown_product_or_indication_is_refused_with_what_is_known() -> None:
    with pytest.raises(InvalidInput, match="known products: tisagenlecleucel"):
        CATALOG.product("kymriah")
    with pytest.raises(InvalidInput, match="its indications are"):
        CATALOG.find_indication("tisagenlecleucel", "MM")
    with pytest.raises(InvalidInput, match="unknown indication"):
        CATALOG.indication("tisagenlecleucel/cll")


def test_an_unknown_fact_blocks_with_the_not_in_catalog_message() -> None:
    with pytest.raises(NotInCatalog) as info:
        CATALOG.indication(INATI).resolve("dose", NOW, "CN")
    assert str(info.value).endswith(
        "not in the catalog: enter the site's protocol value or check the current label"
    )


def test_a_site_protocol_value_fills_an_unknown_and_is_shown_as_site_protocol() -> None:
    value = SiteProtocolValue(
        INATI, "post_thaw_minutes", 30, "SOP-CNCT19-4", "QA lead", date(2026, 1, 5)
    )
    resolved = CATALOG.indication(INATI).resolve("post_thaw_minutes", NOW, "CN", [value])
    assert resolved.status is FactStatus.SITE_PROTOCOL
    assert resolved.source == "site protocol SOP-CNCT19-4"
    assert "label" not in resolved.source


def test_a_site_protocol_value_never_overrides_a_known_label_value() -> None:
    value = SiteProtocolValue(K_ALL, "post_thaw_minutes", 90, "SOP-1", "QA", date(2026, 1, 5))
    resolved = CATALOG.indication(K_ALL).resolve("post_thaw_minutes", NOW, "US", [value])
    assert (resolved.value, resolved.status) == (30, FactStatus.LABEL)


def test_loading_is_cached_and_fast() -> None:
    assert load_catalog() is CATALOG
    start = time.perf_counter()
    for _ in range(1000):
        load_catalog()
    assert time.perf_counter() - start < 0.5


def test_a_file_path_is_loaded_and_a_bad_file_is_refused(tmp_path: Any) -> None:
    good = tmp_path / "products.json"
    good.write_text(json.dumps(_raw()), encoding="utf-8")
    assert [p.id for p in load_catalog(good).products] == [p.id for p in CATALOG.products]
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(CatalogError, match="not valid JSON"):
        load_catalog(bad)
    with pytest.raises(CatalogError, match="cannot read"):
        load_catalog(tmp_path / "missing.json")


# Malformed files: each mutation, and the words the message must contain.
def _ind(data: dict[str, Any], product: int = 0, indication: int = 0) -> dict[str, Any]:
    found: dict[str, Any] = data["products"][product]["indications"][indication]
    return found


def _set(path: list[Any], value: Any) -> Any:
    def mutate(data: dict[str, Any]) -> None:
        node: Any = data
        for key in path[:-1]:
            node = node[key]
        if value is KeyError:
            del node[path[-1]]
        else:
            node[path[-1]] = value

    return mutate


IND0 = ["products", 0, "indications", 0]
FACTS0 = [*IND0, "facts"]
MALFORMED = [
    (
        "a negative dose",
        _set([*FACTS0, "dose", 0, "value", "above", "min"], -1),
        ["tisagenlecleucel/b-all", "dose", "min"],
    ),
    (
        "a dose max below min",
        _set([*FACTS0, "dose", 0, "value", "above", "max"], 1e6),
        ["tisagenlecleucel/b-all", "dose", "max"],
    ),
    (
        "an unknown dose kind",
        _set([*FACTS0, "dose", 0, "value", "kind"], "per_m2"),
        ["tisagenlecleucel/b-all", "kind must be one of"],
    ),
    (
        "a version without a source",
        _set([*FACTS0, "dose", 0, "sources"], []),
        ["tisagenlecleucel/b-all", "dose", "at least one numbered source"],
    ),
    (
        "a source not in the list",
        _set([*FACTS0, "dose", 0, "sources"], ["999"]),
        ["tisagenlecleucel/b-all", "'999'"],
    ),
    (
        "an unknown without UNCONFIRMED",
        _set([*FACTS0, "fludarabine_renal_adjustment", 0, "note"], "no idea"),
        ["tisagenlecleucel/b-all", "fludarabine_renal_adjustment", "UNCONFIRMED"],
    ),
    (
        "a bad date",
        _set([*FACTS0, "proximity_days", 0, "until"], "2025-13-01"),
        ["tisagenlecleucel/b-all", "proximity_days", "until", "YYYY-MM-DD"],
    ),
    (
        "overlapping versions",
        _set([*FACTS0, "proximity_days", 0, "until"], "2025-07-01"),
        ["tisagenlecleucel/b-all", "proximity_days", "both in force"],
    ),
    (
        "an unknown region",
        _set([*FACTS0, "age", 0, "regions"], ["UK"]),
        ["tisagenlecleucel/b-all", "age", "US, EU, CN"],
    ),
    (
        "an unknown fact",
        _set([*FACTS0, "half_life"], [{"value": 1, "sources": ["1"]}]),
        ["tisagenlecleucel/b-all", "half_life"],
    ),
    (
        "an unknown condition test",
        _set([*FACTS0, "conditions", 0, "value", "all", 0, "test"], "vibes"),
        ["tisagenlecleucel/b-all", "conditions", "test"],
    ),
    (
        "an unknown therapy class",
        _set([*FACTS0, "conditions", 0, "value", "all", 0, "values"], ["sad"]),
        ["conditions", "newly_diagnosed"],
    ),
    (
        "an age with below under min",
        _set([*FACTS0, "age", 0, "value"], {"min": 30, "below": 20}),
        ["tisagenlecleucel/b-all", "age", "below"],
    ),
    (
        "an unknown drug",
        _set([*FACTS0, "lymphodepletion", 0, "value", 0, "drugs", 0, "drug"], "aspirin"),
        ["tisagenlecleucel/b-all", "lymphodepletion", "drug"],
    ),
    (
        "a window upside down",
        _set([*FACTS0, "infusion_window_days", 0, "value"], [14, 2]),
        ["tisagenlecleucel/b-all", "infusion_window_days", "below min"],
    ),
    (
        "a warm storage limit",
        _set([*FACTS0, "storage_max_celsius", 0, "value"], 25),
        ["tisagenlecleucel/b-all", "storage_max_celsius"],
    ),
    (
        "an indication of another product",
        _set([*IND0, "id"], "axicabtagene-ciloleucel/b-all"),
        ["tisagenlecleucel", "id must be"],
    ),
    ("an unknown disease", _set([*IND0, "disease"], "AML"), ["tisagenlecleucel/b-all", "disease"]),
    ("a missing brand", _set(["products", 0, "brand"], KeyError), ["product 1", "brand"]),
    ("a product id in capitals", _set(["products", 0, "id"], "Kymriah"), ["product 1", "id"]),
    (
        "a duplicate product",
        lambda d: d["products"].append(copy.deepcopy(d["products"][0])),
        ["duplicate product id 'tisagenlecleucel'"],
    ),
    (
        "no target antigen",
        _set(["products", 0, "facts", "target_antigen"], KeyError),
        ["tisagenlecleucel", "target_antigen"],
    ),
    (
        "an unknown antigen",
        _set(["products", 0, "facts", "target_antigen", 0, "value"], "CD22"),
        ["tisagenlecleucel", "target_antigen", "CD19, BCMA"],
    ),
    (
        "an approval without a source",
        _set([*IND0, "approvals", 0, "sources"], []),
        ["tisagenlecleucel/b-all", "approval 1", "source"],
    ),
    (
        "an approval without a date",
        _set([*IND0, "approvals", 0, "from"], KeyError),
        ["tisagenlecleucel/b-all", "approval 1", "from", "earliest date"],
    ),
    (
        "a version with an extra key",
        _set([*FACTS0, "dose", 0, "valu"], 1),
        ["tisagenlecleucel/b-all", "dose", "valu"],
    ),
    ("no as_of", _set(["as_of"], KeyError), ["top level", "as_of"]),
]


@pytest.mark.parametrize("case", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_file_is_refused_naming_the_product_and_field(case: Any) -> None:
    _, mutate, words = case
    data = _raw()
    mutate(data)
    with pytest.raises(CatalogError) as info:
        parse_catalog(data)
    for word in words:
        assert word in str(info.value)


def test_the_unmutated_file_parses_so_each_refusal_above_is_the_mutations_doing() -> None:
    assert isinstance(parse_catalog(_raw()), Catalog)


def test_a_site_value_can_be_checked_against_the_facts_shape_before_it_is_recorded() -> None:
    check_fact_value("fludarabine_renal_adjustment", {"crcl_below": 70, "reduce_by_percent": 20})
    with pytest.raises(CatalogError, match="reduce_by_percent"):
        check_fact_value("fludarabine_renal_adjustment", {"crcl_below": 70, "reduce_by_percent": 0})


def test_every_fact_name_is_documented_with_its_value_shape() -> None:
    text = (Path(__file__).parents[2] / "docs" / "catalog.md").read_text("utf-8")
    for name in (*FactName, *ProductFactName):
        assert f"`{name.value}`" in text, name


def test_a_turnaround_is_a_day_range_with_what_it_measures() -> None:
    check_fact_value(MT, turn(14, 21, "not_stated"))
    with pytest.raises(CatalogError, match=r"max \(14\) is below min"):
        check_fact_value(MT, turn(21, 14, "not_stated"))
    with pytest.raises(CatalogError, match="span must be one of"):
        check_fact_value(MT, turn(14, 14, "weeks"))


def test_a_product_without_a_turnaround_still_parses() -> None:
    data = _raw()
    for product in data["products"]:
        product["facts"].pop("manufacturing_turnaround_days")
    catalog = parse_catalog(data)
    assert catalog.product("tisagenlecleucel").fact("manufacturing_turnaround_days", NOW) is None
