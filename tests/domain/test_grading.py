"""ASTCT 2019 grading of CRS and ICANS, row by row (labels.md section 11)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartflow.domain.errors import InvalidInput
from cartflow.domain.grading import (
    NOT_CRS,
    SOURCE,
    Consciousness,
    Edema,
    Hypotension,
    Instrument,
    Motor,
    Oxygen,
    Seizure,
    grade_crs,
    grade_icans,
    hypotension_from_vasopressors,
    instrument_for,
    oxygen_from_flow,
)

SETTINGS = settings(deadline=None, derandomize=True, max_examples=300)

# The tables of labels.md section 11, written out independently of the code under test.
HYPOTENSION_ROWS = [
    ("none", 0),
    ("no-vasopressors", 2),
    ("one-vasopressor", 3),
    ("multiple-vasopressors", 4),
]
OXYGEN_ROWS = [("none", 0), ("low-flow", 2), ("high-flow", 3), ("positive-pressure", 4)]
CONSCIOUSNESS_ROWS = [
    ("alert", 0),
    ("spontaneous", 1),
    ("voice", 2),
    ("touch", 3),
    ("unarousable", 4),
]
SEIZURE_ROWS = [("none", 0), ("rapidly-resolving", 3), ("prolonged", 4)]
MOTOR_ROWS = [("none", 0), ("deep-focal-weakness", 4)]
EDEMA_ROWS = [("none", 0), ("focal", 3), ("diffuse", 4)]
ICE_ROWS = [(10, 0), (9, 1), (8, 1), (7, 1), (6, 2), (5, 2), (4, 2), (3, 2), (2, 3), (1, 3), (0, 3)]
CAPD_ROWS = [(0, 0), (1, 1), (8, 1), (9, 3), (20, 3), (32, 3)]


# --- CRS -----------------------------------------------------------------------------------


def test_fever_alone_is_grade_1() -> None:
    result = grade_crs(38.0, "none", "none")
    assert (result.grade, result.crs) == (1, True)
    assert result.deciding_domains == ("fever",)
    assert "fever alone" in result.reason and SOURCE in result.reason


@pytest.mark.parametrize(("hypotension", "expected"), HYPOTENSION_ROWS[1:])
def test_hypotension_with_fever_sets_its_row_grade(hypotension: str, expected: int) -> None:
    result = grade_crs(39.2, hypotension, "none")
    assert (result.grade, result.crs, result.deciding_domains) == (expected, True, ("hypotension",))
    assert "set by hypotension" in result.reason


@pytest.mark.parametrize(("oxygen", "expected"), OXYGEN_ROWS[1:])
def test_hypoxia_with_fever_sets_its_row_grade(oxygen: str, expected: int) -> None:
    result = grade_crs(38.5, "none", oxygen)
    assert (result.grade, result.deciding_domains) == (expected, ("hypoxia",))
    assert "set by hypoxia" in result.reason


@pytest.mark.parametrize(("hypotension", "h"), HYPOTENSION_ROWS)
@pytest.mark.parametrize(("oxygen", "o"), OXYGEN_ROWS)
def test_the_more_severe_of_hypotension_and_hypoxia_sets_the_grade(
    hypotension: str, h: int, oxygen: str, o: int
) -> None:
    assert grade_crs(38.1, hypotension, oxygen).grade == max(h, o, 1)


def test_both_domains_are_named_when_they_tie() -> None:
    result = grade_crs(39.0, "one-vasopressor", "high-flow")
    assert result.deciding_domains == ("hypotension", "hypoxia")


@pytest.mark.parametrize(
    ("hypotension", "oxygen"),
    [("none", "none"), ("multiple-vasopressors", "positive-pressure")],
)
def test_without_fever_it_is_not_crs_and_another_cause_is_sought(
    hypotension: str, oxygen: str
) -> None:
    result = grade_crs(37.99, hypotension, oxygen)
    assert (result.grade, result.crs) == (0, False)
    assert result.reason.startswith(NOT_CRS)


def test_a_masked_fever_lets_hypotension_and_hypoxia_grade() -> None:
    result = grade_crs(36.8, "no-vasopressors", "high-flow", fever_masked=True)
    assert (result.grade, result.crs, result.deciding_domains) == (3, True, ("hypoxia",))
    assert "masked" in result.reason


def test_a_masked_fever_without_hypotension_or_hypoxia_has_no_grade_now() -> None:
    result = grade_crs(36.8, "none", "none", fever_masked=True)
    assert (result.grade, result.crs) == (0, False)
    assert "no CRS grade at present" in result.reason


def test_a_fever_still_present_under_treatment_is_grade_1() -> None:
    assert grade_crs(38.4, "none", "none", fever_masked=True).grade == 1


@pytest.mark.parametrize("temperature", [25.0, 34.9, 43.1, 45.0, -5.0, 380.0, float("nan")])
def test_an_implausible_body_temperature_is_refused(temperature: float) -> None:
    """A highest temperature below 35 °C or above 43 °C is a typing or unit error."""
    with pytest.raises(InvalidInput, match="35 to 43"):
        grade_crs(temperature, "none", "none")


@pytest.mark.parametrize("temperature", [35.0, 43.0])
def test_the_plausible_temperature_range_includes_its_ends(temperature: float) -> None:
    assert grade_crs(temperature, "none", "none").grade == (1 if temperature >= 38 else 0)


def test_an_unknown_hypotension_value_is_refused_listing_the_accepted_ones() -> None:
    with pytest.raises(InvalidInput, match="accepted: none, no-vasopressors, one-vasopressor"):
        grade_crs(39.0, "two-vasopressors", "none")


def test_an_unknown_oxygen_value_is_refused_listing_the_accepted_ones() -> None:
    with pytest.raises(InvalidInput, match="low-flow, high-flow, positive-pressure"):
        grade_crs(39.0, "none", "cpap")


@pytest.mark.parametrize(
    ("drugs", "hypotensive", "expected"),
    [
        ([], False, Hypotension.NONE),
        ([], True, Hypotension.NO_VASOPRESSORS),
        (["norepinephrine"], True, Hypotension.ONE_VASOPRESSOR),
        (["vasopressin"], True, Hypotension.ONE_VASOPRESSOR),
        (["Norepinephrine", "vasopressin"], True, Hypotension.ONE_VASOPRESSOR),
        (["norepinephrine", " NOREPINEPHRINE "], True, Hypotension.ONE_VASOPRESSOR),
        (["norepinephrine", "phenylephrine"], True, Hypotension.MULTIPLE_VASOPRESSORS),
        (["norepinephrine", "epinephrine", "vasopressin"], True, Hypotension.MULTIPLE_VASOPRESSORS),
    ],
)
def test_vasopressin_never_counts_toward_multiple_vasopressors(
    drugs: list[str], hypotensive: bool, expected: Hypotension
) -> None:
    assert hypotension_from_vasopressors(drugs, hypotensive=hypotensive) is expected


def test_vasopressors_without_hypotension_are_refused_as_contradictory() -> None:
    with pytest.raises(InvalidInput, match="vasopressors were listed but hypotension was not"):
        hypotension_from_vasopressors(["norepinephrine"], hypotensive=False)


def test_an_unnamed_vasopressor_is_refused() -> None:
    with pytest.raises(InvalidInput, match="must be named"):
        hypotension_from_vasopressors(["  "], hypotensive=True)


@pytest.mark.parametrize(
    ("flow", "expected"),
    [
        (0, Oxygen.NONE),
        (0.5, Oxygen.LOW_FLOW),
        (6, Oxygen.LOW_FLOW),
        (6.01, Oxygen.HIGH_FLOW),
        (40, Oxygen.HIGH_FLOW),
    ],
)
def test_at_most_6_litres_per_minute_is_low_flow(flow: float, expected: Oxygen) -> None:
    assert oxygen_from_flow(flow) is expected


@pytest.mark.parametrize("flow", [-1, 101, float("inf")])
def test_an_impossible_oxygen_flow_is_refused(flow: float) -> None:
    with pytest.raises(InvalidInput):
        oxygen_from_flow(flow)


@SETTINGS
@given(
    st.floats(min_value=35, max_value=43),
    st.sampled_from(list(Hypotension)),
    st.sampled_from(list(Oxygen)),
    st.booleans(),
)
def test_crs_grade_never_falls_when_hypotension_or_hypoxia_worsens(
    temperature: float, hypotension: Hypotension, oxygen: Oxygen, masked: bool
) -> None:
    base = grade_crs(temperature, hypotension, oxygen, fever_masked=masked).grade
    hypo = list(Hypotension)
    oxy = list(Oxygen)
    for worse in hypo[hypo.index(hypotension) :]:
        assert grade_crs(temperature, worse, oxygen, fever_masked=masked).grade >= base
    for worse_o in oxy[oxy.index(oxygen) :]:
        assert grade_crs(temperature, hypotension, worse_o, fever_masked=masked).grade >= base


# --- ICANS: adults (ICE) -------------------------------------------------------------------


def _adult(**kwargs: object) -> int:
    args: dict[str, object] = {"consciousness": "alert", "ice": 10, "age_years": 40}
    args.update(kwargs)
    return grade_icans(**args).grade  # type: ignore[arg-type]


def _child(**kwargs: object) -> int:
    args: dict[str, object] = {"consciousness": "alert", "capd": 0, "age_years": 6}
    args.update(kwargs)
    return grade_icans(**args).grade  # type: ignore[arg-type]


def test_an_alert_adult_with_ice_10_and_no_findings_has_no_icans() -> None:
    result = grade_icans(consciousness="alert", ice=10, age_years=40)
    assert (result.grade, result.icans, result.instrument) == (0, False, Instrument.ICE)
    assert result.deciding_domains == ()


@pytest.mark.parametrize(("ice", "expected"), ICE_ROWS)
def test_each_ice_score_gives_its_row_grade(ice: int, expected: int) -> None:
    assert _adult(ice=ice) == expected


@pytest.mark.parametrize(("level", "expected"), CONSCIOUSNESS_ROWS)
def test_each_level_of_consciousness_gives_its_row_grade(level: str, expected: int) -> None:
    score = 0 if level == "unarousable" else 10
    assert _adult(consciousness=level, ice=score) == max(expected, 3 if score == 0 else 0)


@pytest.mark.parametrize(("seizure", "expected"), SEIZURE_ROWS)
def test_each_seizure_row_gives_its_grade(seizure: str, expected: int) -> None:
    assert _adult(seizure=seizure) == expected
    assert _child(seizure=seizure) == expected


@pytest.mark.parametrize(("motor", "expected"), MOTOR_ROWS)
def test_each_motor_row_gives_its_grade(motor: str, expected: int) -> None:
    assert _adult(motor=motor) == expected
    assert _child(motor=motor) == expected


@pytest.mark.parametrize(("edema", "expected"), EDEMA_ROWS)
def test_each_oedema_row_gives_its_grade(edema: str, expected: int) -> None:
    assert _adult(edema=edema) == expected
    assert _child(edema=edema) == expected


def test_ice_0_awake_is_grade_3_and_unarousable_is_grade_4_through_consciousness() -> None:
    awake = grade_icans(consciousness="alert", ice=0, age_years=40)
    assert (awake.grade, awake.deciding_domains) == (3, ("ice",))
    asleep = grade_icans(consciousness="unarousable", ice=0, age_years=40)
    assert (asleep.grade, asleep.deciding_domains) == (4, ("consciousness",))


def test_an_unarousable_adult_needs_no_ice_score() -> None:
    assert grade_icans(consciousness="unarousable", age_years=40).grade == 4


def test_an_ice_above_0_for_an_unarousable_patient_is_refused() -> None:
    with pytest.raises(InvalidInput, match="cannot be done by an unarousable patient"):
        grade_icans(consciousness="unarousable", ice=5, age_years=40)


def test_the_worst_domain_sets_the_grade_and_every_tie_is_named() -> None:
    result = grade_icans(consciousness="touch", ice=2, seizure="rapidly-resolving", age_years=30)
    assert result.grade == 3
    assert result.deciding_domains == ("ice", "consciousness", "seizure")
    assert "set by ice, consciousness and seizure" in result.reason


def test_without_an_age_the_patient_is_graded_with_ice() -> None:
    assert instrument_for(None) is Instrument.ICE
    assert grade_icans(consciousness="alert", ice=8).grade == 1


# --- ICANS: children and developmental delay (CAPD) -----------------------------------------


@pytest.mark.parametrize(("capd", "expected"), CAPD_ROWS)
def test_each_capd_score_in_an_alert_child_gives_its_grade(capd: int, expected: int) -> None:
    assert _child(capd=capd) == expected


@pytest.mark.parametrize(
    ("capd", "level", "expected"),
    [
        (5, "spontaneous", 1),  # CAPD <9 and wakes spontaneously
        (5, "voice", 2),  # CAPD <9 and wakes to voice
        (9, "spontaneous", 3),  # CAPD >= 9
        (3, "touch", 3),  # wakes only to tactile stimulus
        (0, "unarousable", 4),
    ],
)
def test_the_child_bands_combine_capd_and_consciousness(
    capd: int, level: str, expected: int
) -> None:
    assert _child(capd=capd, consciousness=level) == expected


def test_an_alert_child_with_capd_0_has_no_icans() -> None:
    result = grade_icans(consciousness="alert", capd=0, age_years=6)
    assert (result.grade, result.instrument) == (0, Instrument.CAPD)


def test_a_child_who_cannot_perform_capd_is_recorded_unarousable_and_grade_4() -> None:
    result = grade_icans(consciousness="unarousable", age_years=6)
    assert (result.grade, result.deciding_domains) == (4, ("consciousness",))


def test_age_11_99_uses_capd_and_age_12_uses_ice() -> None:
    assert instrument_for(11.99) is Instrument.CAPD
    assert instrument_for(12) is Instrument.ICE
    assert grade_icans(consciousness="alert", capd=4, age_years=11.99).grade == 1
    assert grade_icans(consciousness="alert", ice=4, age_years=12).grade == 2
    with pytest.raises(InvalidInput, match="ICE score was given for a child under 12"):
        grade_icans(consciousness="alert", ice=10, age_years=11.99)
    with pytest.raises(InvalidInput, match="CAPD score was given"):
        grade_icans(consciousness="alert", capd=0, age_years=12)


def test_developmental_delay_uses_capd_at_any_age() -> None:
    assert instrument_for(40, developmental_delay=True) is Instrument.CAPD
    assert (
        grade_icans(consciousness="alert", capd=12, age_years=40, developmental_delay=True).grade
        == 3
    )
    with pytest.raises(InvalidInput, match="with developmental delay"):
        grade_icans(consciousness="alert", ice=10, age_years=40, developmental_delay=True)


def test_a_capd_score_without_an_age_is_refused_rather_than_graded_as_an_adult() -> None:
    with pytest.raises(InvalidInput, match="CAPD score was given"):
        grade_icans(consciousness="alert", capd=3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"consciousness": "alert", "age_years": 40}, "ICE score \\(0-10\\) is required"),
        ({"consciousness": "alert", "age_years": 5}, "CAPD score \\(0-32\\) is required"),
        ({"consciousness": "alert", "ice": -1, "age_years": 40}, "accepted: 0 to 10"),
        ({"consciousness": "alert", "ice": 11, "age_years": 40}, "accepted: 0 to 10"),
        ({"consciousness": "alert", "capd": 33, "age_years": 5}, "accepted: 0 to 32"),
        ({"consciousness": "alert", "capd": -2, "age_years": 5}, "accepted: 0 to 32"),
        ({"consciousness": "alert", "ice": 10, "age_years": -1}, "age -1 years is out of range"),
        ({"consciousness": "alert", "ice": 10, "age_years": 200}, "accepted: 0 to 130"),
        ({"consciousness": "drowsy", "ice": 10}, "accepted: alert, spontaneous, voice"),
        ({"consciousness": "alert", "ice": 10, "seizure": "brief"}, "rapidly-resolving"),
        ({"consciousness": "alert", "ice": 10, "motor": "tremor"}, "deep-focal-weakness"),
        ({"consciousness": "alert", "ice": 10, "edema": "mild"}, "focal, diffuse"),
        ({"consciousness": "alert", "ice": 9.5}, "whole number"),
    ],
)
def test_icans_input_outside_the_rules_is_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        grade_icans(**kwargs)  # type: ignore[arg-type]


# --- ICANS properties ----------------------------------------------------------------------

CONSCIOUSNESS = [Consciousness(v) for v, _ in CONSCIOUSNESS_ROWS]
SEIZURES = [Seizure(v) for v, _ in SEIZURE_ROWS]
MOTORS = [Motor(v) for v, _ in MOTOR_ROWS]
EDEMAS = [Edema(v) for v, _ in EDEMA_ROWS]
TABLE = {
    **dict(CONSCIOUSNESS_ROWS),
    **{f"s:{k}": v for k, v in SEIZURE_ROWS},
    **{f"m:{k}": v for k, v in MOTOR_ROWS},
    **{f"e:{k}": v for k, v in EDEMA_ROWS},
}

adult_cases = st.fixed_dictionaries(
    {
        "consciousness": st.sampled_from(CONSCIOUSNESS[:-1]),
        "seizure": st.sampled_from(SEIZURES),
        "motor": st.sampled_from(MOTORS),
        "edema": st.sampled_from(EDEMAS),
        "ice": st.integers(0, 10),
        "age_years": st.floats(12, 100),
    }
)
child_cases = st.fixed_dictionaries(
    {
        "consciousness": st.sampled_from(CONSCIOUSNESS[:-1]),
        "seizure": st.sampled_from(SEIZURES),
        "motor": st.sampled_from(MOTORS),
        "edema": st.sampled_from(EDEMAS),
        "capd": st.integers(0, 32),
        "age_years": st.floats(0, 11.99),
    }
)


def _expected(case: dict[str, Any]) -> int:
    """The grade from the reference tables, computed independently of the code."""
    if "ice" in case:
        score = dict(ICE_ROWS)[case["ice"]]
    else:
        score = dict(CAPD_ROWS).get(case["capd"], 1 if case["capd"] < 9 else 3)
    return max(
        score,
        TABLE[str(case["consciousness"])],
        TABLE[f"s:{case['seizure']}"],
        TABLE[f"m:{case['motor']}"],
        TABLE[f"e:{case['edema']}"],
    )


@SETTINGS
@given(st.one_of(adult_cases, child_cases))
def test_the_icans_grade_is_the_worst_of_its_domains(case: dict[str, Any]) -> None:
    result = grade_icans(**case)
    assert result.grade == _expected(case)
    assert result.grade == max(result.domain_grades.values())
    assert all(result.domain_grades[d] == result.grade for d in result.deciding_domains)


@SETTINGS
@given(
    st.one_of(adult_cases, child_cases),
    st.sampled_from(["consciousness", "seizure", "motor", "edema", "score"]),
)
def test_the_icans_grade_never_falls_when_one_domain_worsens(
    case: dict[str, Any], domain: str
) -> None:
    base = grade_icans(**case).grade
    if domain == "score":
        key = "ice" if "ice" in case else "capd"
        # a lower ICE is worse; a higher CAPD is worse
        score = int(case[key])
        worse_scores = range(0, score) if key == "ice" else range(score, 33)
        worse_cases = [{**case, key: s} for s in worse_scores]
    else:
        orders: dict[str, list[Any]] = {
            "consciousness": CONSCIOUSNESS[:-1],
            "seizure": SEIZURES,
            "motor": MOTORS,
            "edema": EDEMAS,
        }
        order = orders[domain]
        start = order.index(case[domain])
        worse_cases = [{**case, domain: level} for level in order[start:]]
    for worse in worse_cases:
        assert grade_icans(**worse).grade >= base
