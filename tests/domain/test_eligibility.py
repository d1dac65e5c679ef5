"""Eligibility: each label rule with the label's numbers, the antigen site policy, dates,
regions and the three-valued answer."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartflow.catalog_file import load_catalog
from cartflow.domain.catalog import (
    DISEASE_STATUSES,
    DISEASES,
    THERAPY_CLASSES,
    RuleKind,
    SiteProtocolValue,
)
from cartflow.domain.eligibility import (
    EligibilityResult,
    SitePolicy,
    Status,
    evaluate,
    evaluate_indication,
    matching_diagnosis_first,
)
from cartflow.domain.errors import InvalidInput, NotInCatalog
from cartflow.domain.patient_facts import PatientFacts, parse_patient_facts

CATALOG = load_catalog()
ON = date(2026, 11, 1)
NOT_IN_CATALOG = NotInCatalog.MESSAGE

CHILD_ALL = {
    "age_years": 12,
    "diagnosis": "B-ALL",
    "disease_status": "second_or_later_relapse",
    "relapsed_after_transplant": False,
    "antigens": {"CD19": "positive"},
    "region": "US",
}
MYELOMA = {
    "age_years": 64,
    "diagnosis": "MM",
    "disease_status": "refractory",
    "prior_lines": 3,
    "prior_therapies": ["immunomodulatory_agent", "proteasome_inhibitor", "anti_cd38"],
    "refractory_to": ["lenalidomide"],
    "antigens": {"BCMA": "positive"},
    "region": "US",
}


def judge(indication: str, on: date = ON, site: Any = (), **facts: Any) -> EligibilityResult:
    patient = parse_patient_facts(facts)
    return evaluate_indication(patient, CATALOG, CATALOG.indication(indication), on, site)


def texts(items: Any) -> list[str]:
    return [i.text for i in items]


# --- tisagenlecleucel B-ALL: up to 25 years (younger than 26) [8] --------------------------------


def test_a_child_in_second_relapse_is_eligible_for_tisagenlecleucel_in_the_us() -> None:
    result = judge("tisagenlecleucel/b-all", **CHILD_ALL)
    assert (result.status, result.eligible, result.unmet, result.missing) == (
        Status.ELIGIBLE,
        True,
        (),
        (),
    )
    assert result.eligible_in == ("US",)


@pytest.mark.parametrize(("age", "status"), [(25.99, Status.ELIGIBLE), (26, Status.NOT_ELIGIBLE)])
def test_up_to_25_years_means_younger_than_26(age: float, status: Status) -> None:
    result = judge("tisagenlecleucel/b-all", **{**CHILD_ALL, "age_years": age})
    assert result.status is status
    if status is Status.NOT_ELIGIBLE:
        assert texts(result.unmet) == ["age younger than 26 years; the patient is 26"]
        assert result.unmet[0].source == "label [8]"


def test_first_relapse_is_not_enough_for_tisagenlecleucel_in_the_us() -> None:
    result = judge("tisagenlecleucel/b-all", **{**CHILD_ALL, "disease_status": "first_relapse"})
    assert result.status is Status.NOT_ELIGIBLE
    assert texts(result.unmet) == [
        "refractory, or in second or later relapse (disease status is first_relapse)"
    ]


def test_in_the_eu_relapse_after_transplant_also_qualifies() -> None:
    """EU: "up to and including 25 years of age" (ESMO report of the CHMP opinion of 24 Mar
    2022, esmo.org/oncology-news/ema-recommends-extension-of-therapeutic-indications-for-
    tisagenlecleucel; label audit section 1)."""
    facts = {
        **CHILD_ALL,
        "region": "EU",
        "disease_status": "first_relapse",
        "relapsed_after_transplant": True,
    }
    result = judge("tisagenlecleucel/b-all", **facts)
    assert result.status is Status.ELIGIBLE
    assert (result.unmet, result.missing) == ((), ())


def test_a_site_protocol_age_bound_lets_a_decision_through_where_the_label_is_silent() -> None:
    # No NMPA notice the label audit found states an age bound for axi-cel in China.
    site = [
        SiteProtocolValue(
            AXI_2L, "age", {"min": 18, "below": None}, "SOP-CN-7", "physician", date(2026, 2, 1)
        )
    ]
    facts = {**LBCL_2L, "region": "CN", "months_from_first_line_to_relapse": 6}
    assert judge(AXI_2L, **facts).missing[0].text == f"{AXI_2L}: age bound: {NOT_IN_CATALOG}"
    assert judge(AXI_2L, site=site, **facts).status is Status.ELIGIBLE


def test_a_known_label_age_bound_wins_over_a_site_protocol_value() -> None:
    site = [
        SiteProtocolValue(
            "tisagenlecleucel/b-all",
            "age",
            {"min": None, "below": 40},
            "SOP-EU-7",
            "physician",
            date(2026, 2, 1),
        )
    ]
    facts = {**CHILD_ALL, "region": "EU", "age_years": 30}
    assert judge("tisagenlecleucel/b-all", site=site, **facts).status is Status.NOT_ELIGIBLE


# --- the antigen test: a site policy, on by default --------------------------------------------


def test_a_cd19_negative_patient_is_not_eligible_by_site_policy() -> None:
    result = judge("tisagenlecleucel/b-all", **{**CHILD_ALL, "antigens": {"CD19": "negative"}})
    assert result.status is Status.NOT_ELIGIBLE
    (item,) = result.unmet
    assert (item.source, item.kind) == ("site policy", RuleKind.SITE_POLICY)
    assert "CD19 tested negative" in item.text


@pytest.mark.parametrize("antigens", [{}, {"CD19": "not_tested"}, {"BCMA": "positive"}])
def test_an_untested_antigen_needs_information(antigens: dict[str, str]) -> None:
    result = judge("tisagenlecleucel/b-all", **{**CHILD_ALL, "antigens": antigens})
    assert result.status is Status.NEEDS_INFORMATION
    assert texts(result.missing) == [
        "CD19 not tested: a CD19-positive test is needed for tisagenlecleucel"
    ]


def test_a_site_may_switch_the_antigen_policy_off() -> None:
    patient = parse_patient_facts({**CHILD_ALL, "antigens": {}})
    indication = CATALOG.indication("tisagenlecleucel/b-all")
    result = evaluate_indication(patient, CATALOG, indication, ON, (), SitePolicy(False))
    assert result.status is Status.ELIGIBLE


def test_a_bcma_product_asks_for_bcma_not_cd19() -> None:
    result = judge("idecabtagene-vicleucel/mm", **{**MYELOMA, "antigens": {"CD19": "positive"}})
    assert "BCMA not tested: a BCMA-positive test is needed for idecabtagene-vicleucel" in texts(
        result.missing
    )


# --- diagnosis, regions and approval dates -----------------------------------------------------


def test_another_diagnosis_is_not_eligible_and_says_why() -> None:
    result = judge("tisagenlecleucel/b-all", **{**CHILD_ALL, "diagnosis": "LBCL"})
    assert result.status is Status.NOT_ELIGIBLE
    assert texts(result.unmet) == ["diagnosis is LBCL; this indication is for B-ALL"]
    assert result.unmet[0].source == "label [8] [ons-kymriah-2017]"


def test_a_region_where_the_indication_is_not_approved_is_not_eligible() -> None:
    # liso-cel FL: the CHMP's opinion is found, the EC's decision is not (label audit C 9)
    facts = {**CHILD_ALL, "region": "EU", "diagnosis": "FL"}
    result = judge("lisocabtagene-maraleucel/fl", **facts)
    assert result.status is Status.NOT_ELIGIBLE
    assert texts(result.unmet)[0].startswith("not approved in EU on 2026-11-01 (approved in: US)")


def test_without_a_region_each_approved_region_is_judged_and_one_suffices() -> None:
    # brexu-cel ALL: adults in the US [44][45], 26 years and older in the EU [47]
    facts = {**CHILD_ALL, "age_years": 20}
    del facts["region"]
    result = judge("brexucabtagene-autoleucel/b-all", **facts)
    assert result.approved_in == ("EU", "US")
    assert result.eligible_in == ("US",)
    assert result.status is Status.ELIGIBLE and result.unmet == () and result.missing == ()
    by_region = {r.region: r.status for r in result.by_region}
    assert by_region == {"EU": Status.NOT_ELIGIBLE, "US": Status.ELIGIBLE}


def test_a_china_only_product_is_judged_in_china_when_no_region_is_given() -> None:
    facts = {**CHILD_ALL, "age_years": 30}
    del facts["region"]
    result = judge("inaticabtagene-autoleucel/b-all", **facts)
    assert (result.status, result.approved_in) == (Status.ELIGIBLE, ("CN",))


def test_before_its_approval_date_an_indication_is_not_eligible_anywhere() -> None:
    facts = {**CHILD_ALL, "age_years": 30}
    del facts["region"]
    result = judge("obecabtagene-autoleucel/b-all", on=date(2024, 11, 7), **facts)
    assert result.status is Status.NOT_ELIGIBLE
    assert texts(result.unmet) == [
        "obecabtagene-autoleucel/b-all is not approved in any region on 2024-11-07"
    ]
    assert judge("obecabtagene-autoleucel/b-all", on=date(2024, 11, 8), **facts).eligible


# --- idecabtagene vicleucel: >=4 prior lines until 4 Apr 2024, >=2 from then [67][68] ---------


@pytest.mark.parametrize(
    ("lines", "on", "status"),
    [
        (3, date(2024, 4, 3), "unmet"),
        (4, date(2024, 4, 3), "met"),
        (2, date(2024, 4, 4), "met"),
        (1, date(2024, 4, 4), "unmet"),
    ],
)
def test_ide_cel_prior_lines_follow_the_label_in_force_on_the_date(
    lines: int, on: date, status: str
) -> None:
    result = judge("idecabtagene-vicleucel/mm", on=on, **{**MYELOMA, "prior_lines": lines})
    unmet = [t for t in texts(result.unmet) if "prior line" in t]
    if status == "met":
        assert unmet == []
        assert result.status is Status.ELIGIBLE  # "adult patients" (label audit section 6)
    else:
        assert result.status is Status.NOT_ELIGIBLE
        needed = 4 if on < date(2024, 4, 4) else 2
        assert unmet == [
            f"at least {needed} prior lines of systemic therapy ({lines} prior line(s))"
        ]


def test_ide_cel_needs_an_imid_a_pi_and_an_anti_cd38() -> None:
    result = judge(
        "idecabtagene-vicleucel/mm", **{**MYELOMA, "prior_therapies": ["immunomodulatory_agent"]}
    )
    assert result.status is Status.NOT_ELIGIBLE
    assert any("(no proteasome_inhibitor, anti_cd38)" in t for t in texts(result.unmet))


# --- ciltacabtagene autoleucel US: >=1 line incl. a PI and an IMiD, lenalidomide-refractory ----


def test_cilta_cel_in_the_us_needs_lenalidomide_refractory_disease() -> None:
    result = judge("ciltacabtagene-autoleucel/mm", **{**MYELOMA, "refractory_to": []})
    assert texts(result.unmet) == ["refractory to lenalidomide (not refractory to lenalidomide)"]
    missing_refractory = judge("ciltacabtagene-autoleucel/mm", **{**MYELOMA, "refractory_to": None})
    assert "refractory to lenalidomide: refractory_to not given" in texts(
        missing_refractory.missing
    )


def test_cilta_cel_in_the_eu_needed_three_prior_lines_in_2023() -> None:
    """EU 2022: three or more prior therapies, worsened since the last (elixi-int.com, [77])."""
    facts = {**MYELOMA, "region": "EU", "prior_lines": 2}
    result = judge("ciltacabtagene-autoleucel/mm", on=date(2023, 6, 1), **facts)
    assert texts(result.unmet) == ["at least 3 prior lines of systemic therapy (2 prior line(s))"]
    assert result.unmet[0].source == "label [elixi-carvykti-eu], [77]"


# --- second-line LBCL: refractory to, or relapse within 12 months of, first-line therapy -------

AXI_2L = "axicabtagene-ciloleucel/lbcl-second-line"
LBCL_2L = {
    "age_years": 58,
    "diagnosis": "LBCL",
    "disease_status": "first_relapse",
    "prior_lines": 1,
    "prior_therapies": ["chemoimmunotherapy"],
    "antigens": {"CD19": "positive"},
    "region": "US",
}


@pytest.mark.parametrize(("months", "status"), [(12, Status.ELIGIBLE), (12.5, Status.NOT_ELIGIBLE)])
def test_axi_cel_second_line_counts_relapse_within_12_months(months: float, status: Status) -> None:
    facts = {**LBCL_2L, "months_from_first_line_to_relapse": months}
    result = judge("axicabtagene-ciloleucel/lbcl-second-line", **facts)
    assert result.status is status
    if status is Status.NOT_ELIGIBLE:
        assert texts(result.unmet) == [
            "none of: refractory to first-line chemoimmunotherapy (disease status is "
            "first_relapse); or relapsed within 12 months of first-line chemoimmunotherapy "
            "(relapsed after 12.5 months)"
        ]


def test_an_unknown_relapse_interval_needs_information_rather_than_a_guess() -> None:
    result = judge("axicabtagene-ciloleucel/lbcl-second-line", **LBCL_2L)
    assert result.status is Status.NEEDS_INFORMATION
    assert texts(result.missing) == [
        "relapsed within 12 months of first-line chemoimmunotherapy: "
        "months_from_first_line_to_relapse not given"
    ]


def test_refractory_disease_qualifies_for_second_line_without_a_relapse_interval() -> None:
    result = judge(
        "axicabtagene-ciloleucel/lbcl-second-line", **{**LBCL_2L, "disease_status": "refractory"}
    )
    assert result.status is Status.ELIGIBLE


def test_liso_cel_second_line_accepts_a_late_relapse_when_transplant_is_not_an_option() -> None:
    facts = {**LBCL_2L, "months_from_first_line_to_relapse": 30}
    late = judge(
        "lisocabtagene-maraleucel/lbcl-second-line",
        site=[
            SiteProtocolValue(
                "lisocabtagene-maraleucel/lbcl-second-line",
                "age",
                {"min": 18, "below": None},
                "SOP-9",
                "md",
                date(2026, 1, 1),
            )
        ],
        **{**facts, "transplant_eligible": False},
    )
    assert late.status is Status.ELIGIBLE
    fit = judge(
        "lisocabtagene-maraleucel/lbcl-second-line", **{**facts, "transplant_eligible": True}
    )
    assert fit.status is Status.NOT_ELIGIBLE


def test_third_line_lbcl_needs_two_prior_lines() -> None:
    result = judge("tisagenlecleucel/lbcl", **{**LBCL_2L, "prior_lines": 1})
    assert texts(result.unmet) == ["at least 2 prior lines of systemic therapy (1 prior line(s))"]
    ok = judge("tisagenlecleucel/lbcl", **{**LBCL_2L, "prior_lines": 2})
    assert ok.status is Status.ELIGIBLE


def test_liso_cel_cll_needs_a_btk_and_a_bcl2_inhibitor_and_accepts_sll() -> None:
    facts = {
        "diagnosis": "SLL",
        "prior_lines": 2,
        "prior_therapies": ["btk_inhibitor"],
        "antigens": {"CD19": "positive"},
        "region": "US",
        "age_years": 70,
    }
    result = judge("lisocabtagene-maraleucel/cll-sll", **facts)
    assert texts(result.unmet) == [
        "prior therapy included a BTK inhibitor and a BCL-2 inhibitor (no bcl2_inhibitor)"
    ]


def test_an_mcl_patient_in_the_eu_needs_a_btk_inhibitor_for_brexu_cel() -> None:
    facts = {
        "diagnosis": "MCL",
        "disease_status": "refractory",
        "prior_lines": 2,
        "prior_therapies": ["chemoimmunotherapy"],
        "antigens": {"CD19": "positive"},
        "region": "EU",
        "age_years": 66,
    }
    result = judge("brexucabtagene-autoleucel/mcl", **facts)
    assert "prior therapy included a BTK inhibitor (no btk_inhibitor)" in texts(result.unmet)


def test_brexu_cel_all_in_the_eu_starts_at_26() -> None:
    facts = {**CHILD_ALL, "region": "EU", "age_years": 25}
    assert texts(judge("brexucabtagene-autoleucel/b-all", **facts).unmet) == [
        "age at least 26 years; the patient is 25"
    ]
    assert judge("brexucabtagene-autoleucel/b-all", **{**facts, "age_years": 26}).eligible


def test_relma_cel_fl_asks_a_clinician_to_confirm_a_relapse_within_24_months() -> None:
    facts = {
        "diagnosis": "FL",
        "disease_status": "second_or_later_relapse",
        "prior_lines": 2,
        "antigens": {"CD19": "positive"},
        "region": "CN",
        "age_years": 50,
    }
    result = judge("relmacabtagene-autoleucel/fl", **facts)
    assert result.status is Status.NEEDS_INFORMATION
    assert texts(result.missing)[0].startswith("relapsed within 24 months of second-line")
    refractory = judge("relmacabtagene-autoleucel/fl", **{**facts, "disease_status": "refractory"})
    assert refractory.eligible


def test_equecabtagene_needs_three_lines_including_a_pi_and_an_imid() -> None:
    facts = {**MYELOMA, "region": "CN"}
    assert judge("equecabtagene-autoleucel/mm", **facts).eligible
    two = judge("equecabtagene-autoleucel/mm", **{**facts, "prior_lines": 2})
    assert two.status is Status.NOT_ELIGIBLE


def test_an_unknown_eu_condition_blocks_with_the_not_in_catalog_message() -> None:
    # Between the CHMP opinion (23 Feb 2024) and the EC's 67-day limit, either EU wording of
    # cilta-cel may hold: the catalog does not guess (label audit section 7).
    facts = {**MYELOMA, "region": "EU", "prior_lines": 4}
    result = judge("ciltacabtagene-autoleucel/mm", on=date(2024, 3, 15), **facts)
    assert f"ciltacabtagene-autoleucel/mm: eligibility conditions: {NOT_IN_CATALOG}" in texts(
        result.missing
    )
    assert result.status is Status.NEEDS_INFORMATION


# --- the whole catalog ---------------------------------------------------------------------------


def test_evaluate_answers_for_every_indication_in_catalog_order() -> None:
    results = evaluate(parse_patient_facts(CHILD_ALL), CATALOG, ON)
    assert [r.indication for r in results] == [i.id for i in CATALOG.indications()]
    eligible = [r.indication for r in results if r.eligible]
    assert eligible == ["tisagenlecleucel/b-all"]


def test_the_result_dictionary_has_the_keys_the_cli_promises() -> None:
    out = evaluate(parse_patient_facts(CHILD_ALL), CATALOG, ON)[0].to_dict()
    assert {
        "product",
        "indication",
        "status",
        "eligible",
        "unmet",
        "missing",
        "approved_in",
        "eligible_in",
    } <= set(out)


patients = st.builds(
    PatientFacts,
    age_years=st.none() | st.floats(0, 120),
    diagnosis=st.none() | st.sampled_from(DISEASES),
    disease_status=st.none() | st.sampled_from(DISEASE_STATUSES),
    relapsed_after_transplant=st.none() | st.booleans(),
    months_from_first_line_to_relapse=st.none() | st.floats(0, 60),
    prior_lines=st.none() | st.integers(0, 6),
    prior_therapies=st.none() | st.frozensets(st.sampled_from(THERAPY_CLASSES)),
    refractory_to=st.none() | st.frozensets(st.sampled_from(["lenalidomide", "bortezomib"])),
    transplant_eligible=st.none() | st.booleans(),
    antigens=st.dictionaries(
        st.sampled_from(["CD19", "BCMA"]), st.sampled_from(["positive", "negative", "not_tested"])
    ),
    region=st.none() | st.sampled_from(["US", "EU", "CN"]),
)


@settings(deadline=None, derandomize=True, max_examples=150)
@given(patients, st.dates(date(2020, 1, 1), date(2027, 12, 31)))
def test_the_status_always_agrees_with_the_lists(patient: PatientFacts, on: date) -> None:
    for result in evaluate(patient, CATALOG, on):
        assert result.eligible == (result.status is Status.ELIGIBLE)
        if result.status is Status.ELIGIBLE:
            assert result.eligible_in and set(result.eligible_in) <= set(result.approved_in)
        elif result.status is Status.NEEDS_INFORMATION:
            assert result.missing and not result.unmet
        else:
            assert result.unmet
        if patient.region is not None:
            assert [r.region for r in result.by_region] in ([patient.region], [])


@settings(deadline=None, derandomize=True, max_examples=150)
@given(patients)
def test_a_patient_missing_a_fact_is_never_eligible_where_a_rule_needs_it(
    patient: PatientFacts,
) -> None:
    for result in evaluate(patient, CATALOG, ON):
        if result.eligible:
            assert patient.diagnosis is not None and patient.age_years is not None
            product = CATALOG.product(result.product)
            antigen = product.facts["target_antigen"].versions[0].value
            assert patient.antigens.get(antigen) == "positive"


def test_a_malformed_site_protocol_value_is_refused_not_trusted() -> None:
    site = [
        SiteProtocolValue(
            AXI_2L, "age", {"min": "adult"}, "SOP-CN-7", "physician", date(2026, 2, 1)
        )
    ]
    with pytest.raises(InvalidInput, match="site protocol SOP-CN-7"):
        judge(AXI_2L, site=site, **{**LBCL_2L, "region": "CN"})


def test_indications_of_the_patients_diagnosis_come_first_in_catalog_order() -> None:
    patient = parse_patient_facts({**MYELOMA, "region": None})
    results = evaluate(patient, CATALOG, ON)
    ordered = matching_diagnosis_first(results, CATALOG, patient.diagnosis)
    assert sorted(r.indication for r in ordered) == sorted(r.indication for r in results)
    myeloma = [i.id for i in CATALOG.indications() if "MM" in i.diseases]
    assert [r.indication for r in ordered[: len(myeloma)]] == myeloma
    rest = [r.indication for r in results if r.indication not in myeloma]
    assert [r.indication for r in ordered[len(myeloma) :]] == rest
    assert matching_diagnosis_first(results, CATALOG, None) == results


def test_sll_finds_the_cll_sll_indication_first() -> None:
    patient = parse_patient_facts({"diagnosis": "SLL"})
    ordered = matching_diagnosis_first(evaluate(patient, CATALOG, ON), CATALOG, "SLL")
    assert ordered[0].indication == "lisocabtagene-maraleucel/cll-sll"
