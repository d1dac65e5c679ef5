"""``cartflow grade crs|icans``: the domain's grading, exit 2 with a clear message on bad input."""

from __future__ import annotations

import json

import pytest

from cartflow.cli import main

ICANS_NORMAL = ["--seizure", "none", "--motor", "none", "--edema", "none"]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        status = main(list(argv))
    except SystemExit as exc:  # argparse usage errors
        status = int(exc.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


def _refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    status, out, err = _run(capsys, *argv)
    assert status == 2
    assert out == ""
    assert "Traceback" not in err
    return err


# --- CRS -----------------------------------------------------------------------------------


def test_crs_prints_grade_crs_and_reason_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(
        capsys, "grade", "crs", "--temperature", "39.1", "--hypotension", "one-vasopressor",
        "--oxygen", "low-flow", "--json",
    )
    assert status == 0
    payload = json.loads(out)
    assert payload["grade"] == 3
    assert payload["crs"] is True
    assert "set by hypotension" in payload["reason"]
    assert "ASTCT 2019 (Lee et al.)" in payload["reason"]
    assert payload["deciding_domains"] == ["hypotension"]


def test_crs_without_fever_says_to_look_for_another_cause(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, _ = _run(
        capsys, "grade", "crs", "--temperature", "37.2", "--hypotension", "no-vasopressors",
        "--oxygen", "none", "--json",
    )
    payload = json.loads(out)
    assert (status, payload["grade"], payload["crs"]) == (0, 0, False)
    assert payload["reason"].startswith("not CRS by ASTCT: look for another cause")


def test_crs_with_a_masked_fever_grades_by_hypoxia(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(
        capsys, "grade", "crs", "--temperature", "36.9", "--hypotension", "none",
        "--oxygen", "positive-pressure", "--fever-masked", "--json",
    )
    assert (status, json.loads(out)["grade"]) == (0, 4)


def test_crs_prints_plain_words_without_json(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(
        capsys, "grade", "crs", "--temperature", "38", "--hypotension", "none", "--oxygen", "none"
    )
    assert status == 0
    assert out.startswith("CRS grade 1\n")


def test_an_absurd_temperature_is_refused_with_the_accepted_range(
    capsys: pytest.CaptureFixture[str],
) -> None:
    err = _refused(
        capsys, "grade", "crs", "--temperature", "390", "--hypotension", "none", "--oxygen", "none"
    )
    assert "not a plausible body temperature" in err and "35 to 43" in err


def test_a_temperature_that_is_not_a_number_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    err = _refused(
        capsys, "grade", "crs", "--temperature", "hot", "--hypotension", "none", "--oxygen", "none"
    )
    assert "--temperature" in err and "invalid float value" in err


def test_an_unknown_hypotension_value_is_refused_with_the_choices(
    capsys: pytest.CaptureFixture[str],
) -> None:
    err = _refused(
        capsys, "grade", "crs", "--temperature", "39", "--hypotension", "two-pressors",
        "--oxygen", "none",
    )
    assert "invalid choice: 'two-pressors'" in err
    assert "multiple-vasopressors" in err


def test_an_unknown_oxygen_value_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    err = _refused(
        capsys, "grade", "crs", "--temperature", "39", "--hypotension", "none", "--oxygen", "cpap"
    )
    assert "positive-pressure" in err


def test_a_missing_crs_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    err = _refused(capsys, "grade", "crs", "--temperature", "39")
    assert "--hypotension" in err


# --- ICANS ---------------------------------------------------------------------------------


def test_icans_prints_the_grade_and_the_deciding_domains(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, _ = _run(
        capsys, "grade", "icans", "--consciousness", "alert", "--ice", "5", "--age", "45",
        *ICANS_NORMAL, "--json",
    )
    payload = json.loads(out)
    assert status == 0
    assert payload["grade"] == 2
    assert payload["instrument"] == "ICE"
    assert payload["deciding_domains"] == ["ice"]


def test_icans_for_a_child_uses_capd(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(
        capsys, "grade", "icans", "--consciousness", "voice", "--capd", "4", "--age", "7",
        *ICANS_NORMAL, "--json",
    )
    payload = json.loads(out)
    assert (status, payload["grade"], payload["instrument"]) == (0, 2, "CAPD")


def test_icans_with_a_prolonged_seizure_is_grade_4(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(
        capsys, "grade", "icans", "--consciousness", "alert", "--ice", "10",
        "--seizure", "prolonged", "--motor", "none", "--edema", "none",
    )
    assert status == 0
    assert out.startswith("ICANS grade 4 (ICE)")


def test_an_unarousable_patient_needs_no_score(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(
        capsys, "grade", "icans", "--consciousness", "unarousable", *ICANS_NORMAL, "--json"
    )
    assert (status, json.loads(out)["grade"]) == (0, 4)


def test_a_negative_ice_is_refused_with_the_accepted_range(
    capsys: pytest.CaptureFixture[str],
) -> None:
    err = _refused(
        capsys, "grade", "icans", "--consciousness", "alert", "--ice", "-1", *ICANS_NORMAL
    )
    assert "ICE score -1 is out of range; accepted: 0 to 10" in err


def test_an_ice_score_for_a_child_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    err = _refused(
        capsys, "grade", "icans", "--consciousness", "alert", "--ice", "10", "--age", "11.99",
        *ICANS_NORMAL,
    )
    assert "ICE score was given for a child under 12" in err and "CAPD" in err


def test_a_capd_score_for_an_adult_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    err = _refused(
        capsys, "grade", "icans", "--consciousness", "alert", "--capd", "3", "--age", "12",
        *ICANS_NORMAL,
    )
    assert "CAPD score was given" in err


def test_a_missing_score_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    err = _refused(capsys, "grade", "icans", "--consciousness", "voice", *ICANS_NORMAL)
    assert "ICE score (0-10) is required" in err


def test_both_scores_at_once_are_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    err = _refused(
        capsys, "grade", "icans", "--consciousness", "alert", "--ice", "9", "--capd", "3",
        *ICANS_NORMAL,
    )
    assert "not allowed with argument" in err


def test_an_unknown_consciousness_level_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    err = _refused(
        capsys, "grade", "icans", "--consciousness", "drowsy", "--ice", "9", *ICANS_NORMAL
    )
    assert "invalid choice: 'drowsy'" in err and "unarousable" in err


def test_an_impossible_age_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    err = _refused(
        capsys, "grade", "icans", "--consciousness", "alert", "--ice", "9", "--age", "-3",
        *ICANS_NORMAL,
    )
    assert "out of range" in err
