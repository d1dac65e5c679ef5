"""Patient facts: every key validated, unknown keys refused, nothing guessed."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartflow.domain.errors import InvalidInput
from cartflow.domain.patient_facts import (
    KEYS,
    PatientFacts,
    parse_patient_facts,
    parse_patient_json,
)

FULL = {
    "age_years": 19.5,
    "weight_kg": 62,
    "diagnosis": "B-ALL",
    "disease_status": "second_or_later_relapse",
    "relapsed_after_transplant": False,
    "months_from_first_line_to_relapse": 9,
    "prior_lines": 3,
    "prior_therapies": ["chemoimmunotherapy", "stem_cell_transplant"],
    "refractory_to": ["Blinatumomab "],
    "transplant_eligible": True,
    "antigens": {"CD19": "positive", "BCMA": "not_tested"},
    "region": "US",
}


def test_a_complete_patient_is_read_with_every_value() -> None:
    facts = parse_patient_facts(FULL)
    assert facts == PatientFacts(
        age_years=19.5,
        weight_kg=62.0,
        diagnosis="B-ALL",
        disease_status="second_or_later_relapse",
        relapsed_after_transplant=False,
        months_from_first_line_to_relapse=9.0,
        prior_lines=3,
        prior_therapies=frozenset({"chemoimmunotherapy", "stem_cell_transplant"}),
        refractory_to=frozenset({"blinatumomab"}),
        transplant_eligible=True,
        antigens={"CD19": "positive", "BCMA": "not_tested"},
        region="US",
    )


def test_an_empty_object_is_a_patient_about_whom_nothing_is_known() -> None:
    assert parse_patient_facts({}) == PatientFacts()


def test_null_counts_as_not_given() -> None:
    assert parse_patient_facts({"age_years": None, "region": None}) == PatientFacts()


def test_an_unknown_key_is_refused_with_the_accepted_keys() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_patient_facts({"age": 30, "name": "x"})
    assert "unknown key(s) in the patient facts: age, name" in str(info.value)
    assert "accepted keys: " + ", ".join(KEYS) in str(info.value)


BAD = [
    ({"age_years": -1}, "age_years must be at least 0 and at most 120"),
    ({"age_years": 130}, "age_years must be at least 0"),
    ({"age_years": "thirty"}, "age_years must be a number"),
    ({"age_years": True}, "age_years must be a number"),
    ({"age_years": float("nan")}, "age_years must be a number"),
    ({"weight_kg": 0}, "weight_kg must be above 0.5 and at most 350"),
    ({"weight_kg": -70}, "weight_kg must be above 0.5"),
    ({"weight_kg": 5000}, "at most 350"),
    ({"diagnosis": "AML"}, "diagnosis must be one of B-ALL, LBCL, FL, MCL, CLL, SLL, MZL, MM"),
    ({"disease_status": "relapsed"}, "disease_status must be one of newly_diagnosed"),
    ({"relapsed_after_transplant": "yes"}, "relapsed_after_transplant must be true or false"),
    ({"transplant_eligible": 1}, "transplant_eligible must be true or false"),
    ({"months_from_first_line_to_relapse": -2}, "months_from_first_line_to_relapse must be"),
    ({"prior_lines": 2.5}, "prior_lines must be a whole number"),
    ({"prior_lines": -1}, "prior_lines must be between 0 and 30"),
    ({"prior_therapies": "btk_inhibitor"}, "prior_therapies must be a list"),
    ({"prior_therapies": ["aspirin"]}, "prior_therapies must be one of chemoimmunotherapy"),
    ({"refractory_to": [""]}, "refractory_to must list drug names"),
    ({"antigens": ["CD19"]}, "antigens must be an object"),
    ({"antigens": {"CD22": "positive"}}, "antigen must be one of CD19, BCMA"),
    ({"antigens": {"CD19": "weak"}}, "antigens.CD19 must be one of positive, negative"),
    ({"region": "UK"}, "region must be one of US, EU, CN"),
]


@pytest.mark.parametrize(("raw", "message"), BAD, ids=[str(b[0]) for b in BAD])
def test_a_bad_value_is_refused_saying_what_is_accepted(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_patient_facts(raw)
    assert message in str(info.value)


def test_a_json_list_or_text_is_not_a_patient() -> None:
    with pytest.raises(InvalidInput, match="must be a JSON object"):
        parse_patient_facts([1, 2])
    with pytest.raises(InvalidInput, match=r"not valid JSON \(line 1"):
        parse_patient_json("{age_years: 3}")


@settings(deadline=None, derandomize=True, max_examples=200)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_any_age_from_0_to_120_is_read_and_any_other_refused(age: float) -> None:
    if 0 <= age <= 120:
        assert parse_patient_facts({"age_years": age}).age_years == age
    else:
        with pytest.raises(InvalidInput):
            parse_patient_facts({"age_years": age})


@settings(deadline=None, derandomize=True, max_examples=200)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_any_weight_above_half_a_kilo_up_to_350_is_read_and_any_other_refused(w: float) -> None:
    if 0.5 < w <= 350:
        assert parse_patient_facts({"weight_kg": w}).weight_kg == w
    else:
        with pytest.raises(InvalidInput):
            parse_patient_facts({"weight_kg": w})


@settings(deadline=None, derandomize=True, max_examples=100)
@given(st.text(min_size=1, max_size=24).filter(lambda k: k not in KEYS), st.integers())
def test_any_key_outside_the_list_is_refused(key: str, value: int) -> None:
    with pytest.raises(InvalidInput, match="unknown key"):
        parse_patient_facts({"age_years": 30, key: value})
