"""``cartflow coi new|check``: identifiers at the command line; 0 valid, 1 invalid, 2 usage."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cartflow.cli import main
from cartflow.domain.identifiers import parse_identifier


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        status = main(list(argv))
    except SystemExit as exc:  # argparse usage errors
        status = int(exc.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


# --- coi new -------------------------------------------------------------------------------


def test_new_prints_the_eye_readable_form_and_barcode_as_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, err = _run(
        capsys, "coi", "new", "--facility", "G1234", "--year", "98", "--sequence", "654321",
        "--json",
    )
    assert (status, err) == (0, "")
    payload = json.loads(out)
    assert payload["coi"] == "G1234 98 654321 H"
    assert payload["barcode"] == "=G12349865432177"
    assert payload["compact"] == "G123498654321H"
    assert payload["check_character"] == "H"


def test_new_upper_cases_the_facility_and_pads_the_sequence(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, _ = _run(
        capsys, "coi", "new", "--facility", "w0001", "--year", "05", "--sequence", "42"
    )
    assert status == 0
    first_line = out.splitlines()[0]
    assert first_line.startswith("W0001 05 000042 ")
    assert out.splitlines()[1].startswith("barcode: =W000105000042")


def test_new_without_year_or_sequence_makes_a_valid_identifier(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, _ = _run(capsys, "coi", "new", "--facility", "A1B2C", "--json")
    assert status == 0
    payload = json.loads(out)
    din = parse_identifier(payload["barcode"])
    assert din.facility == "A1B2C"
    assert parse_identifier(payload["coi"]) == din
    assert len(payload["sequence"]) == 6


@pytest.mark.parametrize("facility", ["12345", "G123", "G12345", "G12-4"])
def test_new_refuses_a_bad_facility_code(capsys: pytest.CaptureFixture[str], facility: str) -> None:
    status, out, err = _run(capsys, "coi", "new", "--facility", facility)
    assert (status, out) == (2, "")
    assert "facility code must be 5 characters: a letter, then 4 letters or digits" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [("--year", "2026", "not a 2-digit year"), ("--year", "ab", "not a 2-digit year"),
     ("--sequence", "1234567", "1 to 6 digits"), ("--sequence", "-5", "1 to 6 digits")],
)
def test_new_refuses_a_bad_year_or_sequence(
    capsys: pytest.CaptureFixture[str], option: str, value: str, words: str
) -> None:
    status, out, err = _run(capsys, "coi", "new", "--facility", "G1234", f"{option}={value}")
    assert (status, out) == (2, "")
    assert words in err


# --- coi check -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [["G1234 98 654321 H"], ["G1234", "98", "654321", "H"], ["g123498654321h"],
     ["=G12349865432177"]],
)
def test_check_accepts_every_written_form(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    status, out, err = _run(capsys, "coi", "check", *argv)
    assert (status, err) == (0, "")
    assert out == "valid: G1234 98 654321 H\n"


def test_check_reports_a_valid_identifier_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(capsys, "coi", "check", "=G12349865432177", "--json")
    payload = json.loads(out)
    assert (status, payload["valid"], payload["coi"]) == (0, True, "G1234 98 654321 H")


def test_check_reads_a_flag_00_barcode_as_valid_but_unchecked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, _ = _run(capsys, "coi", "check", "=G12349865432100", "--json")
    payload = json.loads(out)
    assert (status, payload["valid"], payload["checked"]) == (0, True, False)
    assert payload["coi"] == "G1234 98 654321 H"
    status, out, _ = _run(capsys, "coi", "check", "=G12349865432100")
    assert out.startswith("valid, unchecked")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("G1234 98 654321 J", "check character does not match"),
        ("G1234 98 65432", "14 are expected"),
        ("=G12349865432150", "flag characters '50' are not accepted"),
        ("1G234 98 654321 H", "facility code"),
    ],
)
def test_check_exits_1_with_the_reason_for_an_invalid_identifier(
    capsys: pytest.CaptureFixture[str], text: str, words: str
) -> None:
    status, out, err = _run(capsys, "coi", "check", text)
    assert (status, out) == (1, "")
    assert "invalid identifier" in err and words in err
    assert "Traceback" not in err


def test_check_puts_the_reason_in_the_json_output_too(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = _run(capsys, "coi", "check", "G1234 98 654321 J", "--json")
    assert status == 1
    payload = json.loads(out)
    assert payload["valid"] is False
    assert "check character does not match" in payload["reason"]
    assert "check character does not match" in err


def test_check_without_an_identifier_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = _run(capsys, "coi", "check")
    assert (status, out) == (2, "")
    assert "the following arguments are required: ID" in err


# --- the installed entry point -------------------------------------------------------------


def _entry_point() -> str:
    beside = Path(sys.executable).parent / "cartflow"
    found = str(beside) if beside.exists() else shutil.which("cartflow")
    assert found, "the cartflow entry point is not installed (pip install -e .)"
    return found


def test_the_installed_command_checks_an_identifier() -> None:
    done = subprocess.run(
        [_entry_point(), "coi", "check", "=G12349865432177", "--json"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["coi"] == "G1234 98 654321 H"


def test_the_installed_command_exits_1_without_a_traceback_on_a_bad_identifier() -> None:
    done = subprocess.run(
        [_entry_point(), "coi", "check", "G1234 98 654321 J"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 1
    assert "check character does not match" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_installed_command_exits_2_on_an_absurd_temperature() -> None:
    done = subprocess.run(
        [_entry_point(), "grade", "crs", "--temperature", "-400", "--hypotension", "none",
         "--oxygen", "none"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 2
    assert "35 to 43" in done.stderr
    assert "Traceback" not in done.stderr
