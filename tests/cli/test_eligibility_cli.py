"""``cartflow eligibility``: JSON in, a result for every indication out; bad input exits 2."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from cartflow.catalog_file import load_catalog
from cartflow.cli import main

PATIENT = {
    "age_years": 12,
    "diagnosis": "B-ALL",
    "disease_status": "refractory",
    "antigens": {"CD19": "positive"},
    "region": "US",
}


def run(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    stdin: str | None = None,
) -> tuple[int, str, str]:
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    try:
        code = main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, content: Any) -> str:
    path = tmp_path / "patient.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content), "utf-8")
    return str(path)


def test_it_answers_for_every_indication_as_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run(["eligibility", "--patient", write(tmp_path, PATIENT), "--json",
                          "--on", "2026-11-01"], capsys, monkeypatch)
    assert (code, err) == (0, "")
    results = json.loads(out)["results"]
    assert [r["indication"] for r in results] == [i.id for i in load_catalog().indications()]
    first = results[0]
    assert {k: first[k] for k in ("product", "indication", "status", "eligible")} == {
        "product": "tisagenlecleucel", "indication": "tisagenlecleucel/b-all",
        "status": "eligible", "eligible": True}
    assert first["approved_in"] == ["EU", "US"] and first["eligible_in"] == ["US"]
    assert all(isinstance(r["unmet"], list) and isinstance(r["missing"], list) for r in results)


def test_it_reads_standard_input_when_the_file_is_a_dash(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(["eligibility", "--patient", "-", "--json", "--on", "2026-11-01"],
                       capsys, monkeypatch, stdin=json.dumps(PATIENT))
    assert code == 0 and json.loads(out)["results"][0]["eligible"] is True


def test_it_reads_standard_input_when_no_file_is_given(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(["eligibility", "--on", "2026-11-01"], capsys, monkeypatch,
                       stdin=json.dumps({**PATIENT, "antigens": {"CD19": "negative"}}))
    assert code == 0
    assert "tisagenlecleucel/b-all: not_eligible" in out
    assert "CD19 tested negative" in out


def test_the_date_decides_which_label_is_in_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    patient = write(tmp_path, {**PATIENT, "age_years": 40})
    _, before, _ = run(["eligibility", "--patient", patient, "--json", "--on", "2024-11-07"],
                       capsys, monkeypatch)
    _, after, _ = run(["eligibility", "--patient", patient, "--json", "--on", "2024-11-08"],
                      capsys, monkeypatch)

    def obe(text: str) -> str:
        found = [r for r in json.loads(text)["results"]
                 if r["indication"] == "obecabtagene-autoleucel/b-all"]
        return str(found[0]["status"])

    assert (obe(before), obe(after)) == ("not_eligible", "eligible")


BAD_FILES = [
    ("{not json", "not valid JSON (line 1"),
    ("[1, 2]", "must be a JSON object"),
    (json.dumps({**PATIENT, "name": "x"}), "unknown key(s) in the patient facts: name"),
    (json.dumps({**PATIENT, "age_years": -4}), "age_years must be at least 0 and at most 120"),
    (json.dumps({**PATIENT, "age_years": 1000}), "age_years must be at least 0"),
    (json.dumps({**PATIENT, "weight_kg": -70}), "weight_kg must be above 0.5"),
    (json.dumps({**PATIENT, "antigens": {"CD22": "positive"}}), "antigen must be one of CD19"),
    (json.dumps({**PATIENT, "diagnosis": "AML"}), "diagnosis must be one of B-ALL"),
    ("", "not valid JSON"),
]


@pytest.mark.parametrize(("content", "message"), BAD_FILES, ids=[b[1] for b in BAD_FILES])
def test_a_bad_patient_file_exits_2_with_a_clear_message(
    content: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out, err = run(["eligibility", "--patient", write(tmp_path, content), "--json"],
                         capsys, monkeypatch)
    assert (code, out) == (2, "")
    assert err.startswith("cartflow: error: ") and message in err
    assert "Traceback" not in err


def test_a_missing_file_or_a_bad_date_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run(["eligibility", "--patient", str(tmp_path / "nope.json")], capsys,
                       monkeypatch)
    assert code == 2 and "cannot read the patient file" in err
    code, _, err = run(["eligibility", "--patient", write(tmp_path, PATIENT), "--on", "26/11"],
                       capsys, monkeypatch)
    assert code == 2 and "--on must be a date YYYY-MM-DD" in err


def test_a_binary_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "p.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    code, _, err = run(["eligibility", "--patient", str(path)], capsys, monkeypatch)
    assert code == 2 and "not UTF-8" in err
