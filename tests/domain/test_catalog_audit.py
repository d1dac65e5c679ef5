"""The label audit of November 2026 (shared/reference/label-audit.md): every fact it gives stays
known. If one of these becomes unknown again, a label value the audit found has been lost."""

from __future__ import annotations

from datetime import date

import pytest

from cartflow.catalog_file import load_catalog
from cartflow.domain.catalog import FactVersion
from cartflow.domain.catalog_summary import is_unknown

CATALOG = load_catalog()
NOW = date(2026, 11, 30)
REMS_ERA = date(2025, 1, 1)  # before the US REMS ended on 26 Jun 2025

LISO = (
    "lisocabtagene-maraleucel/lbcl-second-line",
    "lisocabtagene-maraleucel/lbcl-third-line",
    "lisocabtagene-maraleucel/cll-sll",
    "lisocabtagene-maraleucel/fl",
    "lisocabtagene-maraleucel/mcl",
    "lisocabtagene-maraleucel/mzl",
)
AXI = (
    "axicabtagene-ciloleucel/lbcl-second-line",
    "axicabtagene-ciloleucel/lbcl-third-line",
    "axicabtagene-ciloleucel/fl",
)
KYMRIAH = ("tisagenlecleucel/b-all", "tisagenlecleucel/lbcl", "tisagenlecleucel/fl")
IDE, CILTA = "idecabtagene-vicleucel/mm", "ciltacabtagene-autoleucel/mm"

# (product or indication, fact, region, date, where the audit read it)
AUDIT_KNOWN: list[tuple[str, str, str, date, str]] = [
    ("inaticabtagene-autoleucel", "costimulatory_domain", "CN", NOW, "J Hematol Oncol 2020"),
    ("tisagenlecleucel/b-all", "age", "EU", NOW, "ESMO, CHMP opinion 24 Mar 2022"),
    ("tisagenlecleucel/lbcl", "age", "EU", NOW, "ESMO"),
    ("tisagenlecleucel/lbcl", "conditions", "EU", NOW, "ESMO; EMA EPAR"),
    ("tisagenlecleucel/fl", "age", "EU", NOW, "ESMO"),
    ("tisagenlecleucel/fl", "conditions", "EU", NOW, "ESMO"),
    ("tisagenlecleucel/fl", "infusion_window_days", "EU", NOW, "rxreasoner EU SmPC"),
    *[(i, "monitoring_days", "US", REMS_ERA, "hcp.novartis.com safety profile") for i in KYMRIAH],
    *[(i, "storage_max_celsius", "US", NOW, "EU leaflet, yescarta.fsh") for i in AXI],
    *[(i, "monitoring_days", "US", REMS_ERA, "ASH Clinical News reprint") for i in AXI],
    *[(i, "daily_monitoring_days", "US", REMS_ERA, "ASH Clinical News reprint") for i in AXI],
    *[(i, "dose", "EU", NOW, "rxreasoner EU SmPC: 1-2x10^6/kg") for i in AXI],
    ("brexucabtagene-autoleucel/mcl", "age", "EU", NOW, "kitecar-t.se"),
    ("brexucabtagene-autoleucel/mcl", "monitoring_days", "US", REMS_ERA, "tecartushcp.com"),
    ("brexucabtagene-autoleucel/b-all", "monitoring_days", "US", REMS_ERA, "MPR summary"),
    ("brexucabtagene-autoleucel/b-all", "daily_monitoring_days", "US", REMS_ERA, "MPR"),
    *[(i, "age", "US", NOW, "adult patients: ACCC, ACN, OncLive, ONS, ...") for i in LISO],
    *[(i, "storage_max_celsius", "US", NOW, "EU leaflet, breyanzi.fsh") for i in LISO],
    *[(i, "post_thaw_minutes", "US", NOW, "themeditary, from the US PI") for i in LISO],
    (IDE, "age", "US", NOW, "drugs.com news; ONS"),
    (IDE, "age", "EU", NOW, "drugs.com news; ONS"),
    (IDE, "monitoring_days", "US", REMS_ERA, "abecma.com"),
    (IDE, "dose", "EU", NOW, "businesswire 2021; EU leaflet"),
    (IDE, "conditions", "EU", NOW, "thepharmaletter 2024"),
    (CILTA, "age", "US", NOW, "FDA D.I.S.C.O."),
    (CILTA, "age", "CN", NOW, "cgtlive"),
    (CILTA, "storage_max_celsius", "US", NOW, "EU leaflet, carvykti.fsh"),
    (CILTA, "monitoring_days", "US", REMS_ERA, "jnjmedicalconnect.com"),
    (CILTA, "daily_monitoring_days", "US", REMS_ERA, "jnjmedicalconnect.com"),
    (CILTA, "conditions", "US", date(2024, 3, 1), "FDA D.I.S.C.O.; mednous"),
    (CILTA, "conditions", "EU", date(2023, 1, 1), "elixi-int.com"),
    (CILTA, "conditions", "EU", NOW, "medtourcn; mpeurope CHMP 23 Feb 2024"),
    (CILTA, "conditions", "CN", NOW, "cgtlive; financetom"),
    ("obecabtagene-autoleucel/b-all", "age", "EU", NOW, "EMA EPAR"),
    ("obecabtagene-autoleucel/b-all", "conditions", "EU", NOW, "EMA EPAR"),
    ("relmacabtagene-autoleucel/mcl", "conditions", "CN", NOW, "cgtlive; manufacturingchemist"),
    ("zevorcabtagene-autoleucel", "target_antigen", "CN", NOW, "marketscreener"),
    ("zevorcabtagene-autoleucel/mm", "age", "CN", NOW, "marketscreener"),
    ("zevorcabtagene-autoleucel/mm", "conditions", "CN", NOW, "marketscreener"),
]


def _version(subject: str, fact: str, region: str, on: date) -> FactVersion | None:
    if "/" in subject:
        return CATALOG.indication(subject).fact(fact, on, region)
    return CATALOG.product(subject).fact(fact, on, region)


@pytest.mark.parametrize("row", AUDIT_KNOWN, ids=lambda r: f"{r[0]}:{r[1]}:{r[2]}:{r[3]}")
def test_a_fact_the_audit_gives_stays_known(row: tuple[str, str, str, date, str]) -> None:
    subject, fact, region, on, where = row
    version = _version(subject, fact, region, on)
    assert version is not None, f"{subject} {fact} has no version in {region} on {on} ({where})"
    assert not is_unknown(version), f"{subject} {fact} is unknown again; the audit read {where}"
    assert version.sources and all(s in CATALOG.sources for s in version.sources)


def test_every_approval_the_audit_adds_is_in_the_catalog() -> None:
    added = {
        ("tisagenlecleucel/fl", "EU"),
        ("axicabtagene-ciloleucel/lbcl-third-line", "EU"),
        ("axicabtagene-ciloleucel/lbcl-second-line", "EU"),
        ("axicabtagene-ciloleucel/fl", "EU"),
        ("axicabtagene-ciloleucel/lbcl-third-line", "CN"),
        ("axicabtagene-ciloleucel/lbcl-second-line", "CN"),
        ("lisocabtagene-maraleucel/lbcl-third-line", "EU"),
        ("lisocabtagene-maraleucel/lbcl-second-line", "EU"),
        ("idecabtagene-vicleucel/mm", "EU"),
        ("ciltacabtagene-autoleucel/mm", "CN"),
        ("obecabtagene-autoleucel/b-all", "EU"),
        ("relmacabtagene-autoleucel/mcl", "CN"),
        ("zevorcabtagene-autoleucel/mm", "CN"),
    }
    approved = {(i.id, a.region) for i in CATALOG.indications() for a in i.approvals}
    assert added <= approved


def test_the_rems_era_monitoring_is_the_whole_period_with_its_daily_part_beside_it() -> None:
    """Label audit section 11: REMS-era labels said "for at least 4 weeks"; since 26 Jun 2025
    "at least 2 weeks, including daily monitoring for at least 1 week" [1]."""
    for indication in CATALOG.indications():
        for on in (REMS_ERA, NOW):
            whole = indication.fact("monitoring_days", on, "US")
            daily = indication.fact("daily_monitoring_days", on, "US")
            if whole is None or not whole.known:
                continue
            assert whole.value == (28 if on == REMS_ERA else 14), indication.id
            if daily is not None:
                assert daily.value <= whole.value


def test_a_daily_part_longer_than_the_whole_period_is_refused() -> None:
    import json
    from importlib import resources

    from cartflow.domain.catalog import CatalogError, parse_catalog

    raw = json.loads(resources.files("cartflow").joinpath("data/products.json").read_text("utf-8"))
    cilta = next(p for p in raw["products"] if p["id"] == "ciltacabtagene-autoleucel")
    daily = cilta["indications"][0]["facts"]["daily_monitoring_days"]
    daily[0]["value"] = 30  # REMS era: the whole period is 28 days
    with pytest.raises(CatalogError, match=r"daily_monitoring_days \(30\) is longer than"):
        parse_catalog(raw)
