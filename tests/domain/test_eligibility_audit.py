"""Eligibility under the facts the label audit filled (shared/reference/label-audit.md,
November 2026): each test names the source the audit read."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from cartflow.catalog_file import load_catalog
from cartflow.domain.eligibility import EligibilityResult, Status, evaluate_indication
from cartflow.domain.patient_facts import parse_patient_facts

CATALOG = load_catalog()
IDE, CILTA = "idecabtagene-vicleucel/mm", "ciltacabtagene-autoleucel/mm"
NOW = date(2026, 11, 30)

# The patient: 60, myeloma after two lines including a PI, an IMiD and an anti-CD38
# antibody, refractory to lenalidomide.
MYELOMA_AFTER_TWO_LINES = {
    "age_years": 60,
    "diagnosis": "MM",
    "disease_status": "refractory",
    "prior_lines": 2,
    "prior_therapies": ["proteasome_inhibitor", "immunomodulatory_agent", "anti_cd38"],
    "refractory_to": ["lenalidomide"],
    "antigens": {"BCMA": "positive"},
    "region": "US",
}
REFRACTORY_ALL = {
    "age_years": 20,
    "diagnosis": "B-ALL",
    "disease_status": "refractory",
    "antigens": {"CD19": "positive"},
    "region": "EU",
}


def judge(indication: str, on: date, **facts: Any) -> EligibilityResult:
    patient = parse_patient_facts(facts)
    return evaluate_indication(patient, CATALOG, CATALOG.indication(indication), on)


def texts(items: Any) -> list[str]:
    return [i.text for i in items]


@pytest.mark.parametrize("indication", [IDE, CILTA])
def test_the_adult_myeloma_patient_is_eligible_for_both_bcma_products_in_the_us_now(
    indication: str,
) -> None:
    """"Adult patients" is an age bound of 18: ide-cel (drugs.com/news/fda-approves-abecma-
    relapsed-refractory-multiple-myeloma-118620.html), cilta-cel (FDA D.I.S.C.O.)."""
    result = judge(indication, NOW, **MYELOMA_AFTER_TWO_LINES)
    assert result.status is Status.ELIGIBLE, texts(result.missing) + texts(result.unmet)
    assert "age bound" not in " ".join(texts(result.missing))


@pytest.mark.parametrize("indication", [IDE, CILTA])
def test_before_april_2024_the_same_patient_needed_four_prior_lines(indication: str) -> None:
    """Ide-cel: four or more lines until 4 Apr 2024 [67][68]. Cilta-cel: four or more lines
    including a PI, an IMiD and an anti-CD38 antibody until 5 Apr 2024, no lenalidomide test
    (FDA D.I.S.C.O.; mednous.com/news/new-position-carvykti)."""
    on = date(2024, 3, 1)
    two = judge(indication, on, **MYELOMA_AFTER_TWO_LINES)
    assert two.status is Status.NOT_ELIGIBLE
    assert "at least 4 prior lines of systemic therapy (2 prior line(s))" in texts(two.unmet)
    four = judge(indication, on, **{**MYELOMA_AFTER_TWO_LINES, "prior_lines": 4})
    assert four.status is Status.ELIGIBLE, texts(four.missing) + texts(four.unmet)


def test_cilta_cel_before_april_2024_did_not_ask_for_lenalidomide_refractory_disease() -> None:
    """FDA D.I.S.C.O.: the 2022 US indication has no lenalidomide test."""
    facts = {**MYELOMA_AFTER_TWO_LINES, "prior_lines": 4, "refractory_to": []}
    assert judge(CILTA, date(2024, 4, 4), **facts).status is Status.ELIGIBLE
    assert judge(CILTA, date(2024, 4, 5), **facts).status is Status.NOT_ELIGIBLE


def test_a_20_year_old_with_refractory_all_is_eligible_for_tisagenlecleucel_in_the_eu() -> None:
    """EU: "up to and including 25 years of age" (esmo.org report of the CHMP opinion of
    24 Mar 2022)."""
    result = judge("tisagenlecleucel/b-all", NOW, **REFRACTORY_ALL)
    assert result.status is Status.ELIGIBLE, texts(result.missing) + texts(result.unmet)


def test_the_same_patient_at_26_is_not() -> None:
    """The same EU bound (ESMO): 26 is past "up to and including 25"."""
    result = judge("tisagenlecleucel/b-all", NOW, **{**REFRACTORY_ALL, "age_years": 26})
    assert result.status is Status.NOT_ELIGIBLE
    assert texts(result.unmet) == ["age younger than 26 years; the patient is 26"]


LISO_PATIENTS = {
    "lisocabtagene-maraleucel/lbcl-second-line": {
        "diagnosis": "LBCL",
        "disease_status": "refractory",
        "prior_lines": 1,
        "prior_therapies": ["chemoimmunotherapy"],
    },
    "lisocabtagene-maraleucel/lbcl-third-line": {
        "diagnosis": "LBCL",
        "disease_status": "second_or_later_relapse",
        "prior_lines": 2,
    },
    "lisocabtagene-maraleucel/cll-sll": {
        "diagnosis": "CLL",
        "disease_status": "refractory",
        "prior_lines": 2,
        "prior_therapies": ["btk_inhibitor", "bcl2_inhibitor"],
    },
    "lisocabtagene-maraleucel/fl": {"diagnosis": "FL", "prior_lines": 2},
    "lisocabtagene-maraleucel/mcl": {
        "diagnosis": "MCL",
        "prior_lines": 2,
        "prior_therapies": ["btk_inhibitor"],
    },
    "lisocabtagene-maraleucel/mzl": {"diagnosis": "MZL", "prior_lines": 2},
}


@pytest.mark.parametrize("indication", list(LISO_PATIENTS))
def test_every_liso_cel_indication_is_for_adults(indication: str) -> None:
    """"Adult patients" in every US liso-cel indication: ACCC (second line), ACN brief summary
    (third line), OncLive and LLS (CLL/SLL), medphanut (FL), ONS (MCL), Pharmacy Times (MZL)."""
    facts = {**LISO_PATIENTS[indication], "antigens": {"CD19": "positive"}, "region": "US"}
    adult = judge(indication, NOW, age_years=45, **facts)
    assert adult.status is Status.ELIGIBLE, texts(adult.missing) + texts(adult.unmet)
    minor = judge(indication, NOW, age_years=17, **facts)
    assert minor.status is Status.NOT_ELIGIBLE
    assert texts(minor.unmet) == ["age at least 18 years; the patient is 17"]


def test_liso_cel_mzl_counts_from_4_december_2025() -> None:
    """Pharmacy Times: approved 4 Dec 2025; openFDA: "MZL (1.5) 12/2025"."""
    facts = {**LISO_PATIENTS["lisocabtagene-maraleucel/mzl"], "antigens": {"CD19": "positive"}}
    facts |= {"region": "US", "age_years": 60}
    indication = "lisocabtagene-maraleucel/mzl"
    assert judge(indication, date(2025, 12, 3), **facts).status is Status.NOT_ELIGIBLE
    assert judge(indication, date(2025, 12, 4), **facts).status is Status.ELIGIBLE


def test_tisagenlecleucel_dlbcl_in_the_eu_is_for_adults_after_two_lines() -> None:
    """ESMO: "Adult patients with r/r DLBCL after two or more lines of systemic therapy"."""
    facts = {
        "age_years": 50,
        "diagnosis": "LBCL",
        "disease_status": "first_relapse",
        "prior_lines": 2,
        "antigens": {"CD19": "positive"},
        "region": "EU",
    }
    assert judge("tisagenlecleucel/lbcl", NOW, **facts).status is Status.ELIGIBLE
    one_line = judge("tisagenlecleucel/lbcl", NOW, **{**facts, "prior_lines": 1})
    assert one_line.status is Status.NOT_ELIGIBLE


def test_brexu_cel_mcl_in_the_eu_is_for_adults() -> None:
    """kitecar-t.se/product-information/tecartus-in-mcl: "adult patients"."""
    facts = {
        "diagnosis": "MCL",
        "prior_lines": 2,
        "prior_therapies": ["btk_inhibitor"],
        "antigens": {"CD19": "positive"},
        "region": "EU",
    }
    mcl = "brexucabtagene-autoleucel/mcl"
    assert judge(mcl, NOW, age_years=40, **facts).status is Status.ELIGIBLE
    assert judge(mcl, NOW, age_years=17, **facts).status is Status.NOT_ELIGIBLE


def test_obe_cel_in_the_eu_is_for_26_and_above() -> None:
    """EMA EPAR: "adult patients 26 years of age and above"; EC authorisation 21 Jul 2025."""
    facts = {**REFRACTORY_ALL, "age_years": 25}
    obe = "obecabtagene-autoleucel/b-all"
    assert judge(obe, NOW, **facts).status is Status.NOT_ELIGIBLE
    assert judge(obe, NOW, **{**facts, "age_years": 26}).status is Status.ELIGIBLE
    assert judge(obe, date(2025, 7, 20), **{**facts, "age_years": 26}).status is (
        Status.NOT_ELIGIBLE
    )


@pytest.mark.parametrize(
    ("indication", "lines", "status"),
    [
        ("zevorcabtagene-autoleucel/mm", 3, Status.ELIGIBLE),
        ("zevorcabtagene-autoleucel/mm", 2, Status.NOT_ELIGIBLE),
        (CILTA, 3, Status.ELIGIBLE),
        (CILTA, 2, Status.NOT_ELIGIBLE),
    ],
)
def test_in_china_the_bcma_products_need_three_lines_including_a_pi_and_an_imid(
    indication: str, lines: int, status: Status
) -> None:
    """Zevor-cel: NMPA 23 Feb 2024 (marketscreener). Cilta-cel: NMPA, announced 27 Aug 2024
    (cgtlive, financetom)."""
    facts = {**MYELOMA_AFTER_TWO_LINES, "region": "CN", "prior_lines": lines}
    assert judge(indication, NOW, **facts).status is status


def test_ide_cel_in_the_eu_asks_a_clinician_to_confirm_progression_on_the_last_therapy() -> None:
    """EU extension (thepharmaletter 2024): two or more prior therapies including an IMiD, a PI
    and an anti-CD38 antibody, and progression on the last therapy, which the patient facts do
    not record."""
    result = judge(IDE, NOW, **{**MYELOMA_AFTER_TWO_LINES, "region": "EU"})
    assert result.status is Status.NEEDS_INFORMATION
    assert result.unmet == ()
    assert any("progressed on the last therapy" in t for t in texts(result.missing))
