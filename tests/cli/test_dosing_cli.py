"""``cartflow dose`` and ``cartflow lymphodepletion``: numbers from the label; bad input exits 2."""

from __future__ import annotations

import json

import pytest

from cartflow.cli import main
from cartflow.domain.errors import NotInCatalog


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_dose_gives_min_and_max_cells_for_a_weight(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["dose", "--product", "tisagenlecleucel", "--indication", "B-ALL",
                          "--weight-kg", "30", "--json", "--on", "2026-11-01"], capsys)
    assert (code, err) == (0, "")
    payload = json.loads(out)
    assert (payload["min_cells"], payload["max_cells"]) == (6_000_000, 150_000_000)
    assert payload["indication"] == "tisagenlecleucel/b-all"


def test_dose_prints_plain_words_without_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["dose", "--product", "axicabtagene-ciloleucel", "--indication", "fl",
                        "--weight-kg", "70", "--region", "US"], capsys)
    assert code == 0
    assert "unknown (not in the label) to 1.4e+08" in out


def test_axi_cel_in_the_eu_has_the_smpcs_lower_bound(capsys: pytest.CaptureFixture[str]) -> None:
    """EU SmPC: 1 to 2x10^6 cells/kg (rxreasoner.com/monographs/yescarta/usage, label audit)."""
    code, out, _ = run(["dose", "--product", "axicabtagene-ciloleucel", "--indication", "fl",
                        "--weight-kg", "70", "--region", "EU", "--json"], capsys)
    assert code == 0
    assert (json.loads(out)["min_cells"], json.loads(out)["max_cells"]) == (70_000_000,
                                                                            140_000_000)


def test_dose_takes_a_region(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["dose", "--product", "ciltacabtagene-autoleucel", "--indication", "MM",
                        "--weight-kg", "120", "--region", "eu", "--json"], capsys)
    assert code == 0
    assert (json.loads(out)["min_cells"], json.loads(out)["max_cells"]) == (50_000_000,
                                                                            100_000_000)


def test_liso_cel_dose_shows_both_components(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["dose", "--product", "lisocabtagene-maraleucel", "--indication",
                        "lbcl-third-line", "--weight-kg", "70", "--json"], capsys)
    assert code == 0
    assert [c["name"] for c in json.loads(out)["components"]] == ["CD8", "CD4"]


def test_lymphodepletion_gives_bsa_daily_mg_and_the_window(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(["lymphodepletion", "--product", "tisagenlecleucel", "--indication",
                          "b-all", "--height-cm", "180", "--weight-kg", "80", "--region", "US",
                          "--crcl", "45", "--json"], capsys)
    assert (code, err) == (0, "")
    payload = json.loads(out)
    assert payload["bsa_m2"] == 2.0
    assert [(d["drug"], d["mg_per_m2"], d["daily_mg"], d["days"]) for d in payload["regimen"]] \
        == [("fludarabine", 30, 60.0, 4), ("cyclophosphamide", 500, 1000.0, 2)]
    assert payload["infusion_window_days"] == [2, 14]
    assert any(NotInCatalog.MESSAGE in w and "45 mL/min" in w for w in payload["warnings"])


def test_lymphodepletion_prints_plain_words(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["lymphodepletion", "--product", "tisagenlecleucel", "--indication",
                        "lbcl", "--height-cm", "180", "--weight-kg", "80", "--region", "US"],
                       capsys)
    assert code == 0
    assert "fludarabine 25 mg/m2 = 50 mg daily x 3 day(s)" in out
    assert "or bendamustine when prior grade 4" in out


BAD = [
    (["dose", "--product", "tisagenlecleucel", "--indication", "b-all", "--weight-kg", "-70"],
     "weight_kg must be above 0.5 and at most 350; got -70"),
    (["dose", "--product", "tisagenlecleucel", "--indication", "b-all", "--weight-kg", "9000"],
     "weight_kg must be above 0.5 and at most 350"),
    (["dose", "--product", "tisagenlecleucel", "--indication", "b-all", "--weight-kg", "heavy"],
     "expected a number"),
    (["dose", "--product", "tisagenlecleucel", "--indication", "b-all", "--weight-kg", "nan"],
     "expected a finite number"),
    (["dose", "--product", "kymriah", "--indication", "b-all", "--weight-kg", "30"],
     "unknown product 'kymriah'; known products: tisagenlecleucel"),
    (["dose", "--product", "tisagenlecleucel", "--indication", "MM", "--weight-kg", "30"],
     "tisagenlecleucel has no indication 'MM'; its indications are"),
    (["dose", "--product", "axicabtagene-ciloleucel", "--indication", "LBCL", "--weight-kg",
      "70"], "'LBCL' is ambiguous for axicabtagene-ciloleucel: choose one of "
             "axicabtagene-ciloleucel/lbcl-second-line, axicabtagene-ciloleucel/lbcl-third-line"),
    (["dose", "--product", "tisagenlecleucel", "--indication", "b-all", "--weight-kg", "30",
      "--region", "UK"], "expected one of US, EU, CN"),
    (["dose", "--product", "tisagenlecleucel", "--indication", "b-all", "--weight-kg", "30",
      "--region", "CN"], "not approved in CN"),
    (["dose", "--product", "obecabtagene-autoleucel", "--indication", "B-ALL", "--weight-kg",
      "70"], NotInCatalog.MESSAGE),
    (["dose", "--product", "ciltacabtagene-autoleucel", "--indication", "MM", "--weight-kg",
      "70"], "differs by region"),
    (["dose", "--product", "tisagenlecleucel", "--indication", "b-all"],
     "the following arguments are required: --weight-kg"),
    (["lymphodepletion", "--product", "tisagenlecleucel", "--indication", "b-all",
      "--weight-kg", "70", "--height-cm", "-170", "--region", "US"],
     "height_cm must be at least 30 and at most 250"),
    (["lymphodepletion", "--product", "tisagenlecleucel", "--indication", "b-all",
      "--weight-kg", "70", "--height-cm", "2000", "--region", "US"], "height_cm must be"),
    (["lymphodepletion", "--product", "tisagenlecleucel", "--indication", "b-all",
      "--weight-kg", "0", "--height-cm", "170", "--region", "US"], "weight_kg must be above"),
    (["lymphodepletion", "--product", "tisagenlecleucel", "--indication", "b-all",
      "--weight-kg", "70", "--height-cm", "170", "--region", "US", "--crcl", "-3"],
     "crcl_ml_min must be at least 0 and at most 250"),
    (["lymphodepletion", "--product", "obecabtagene-autoleucel", "--indication", "b-all",
      "--weight-kg", "70", "--height-cm", "170"], NotInCatalog.MESSAGE),
    (["lymphodepletion", "--product", "nope", "--indication", "b-all",
      "--weight-kg", "70", "--height-cm", "170"], "unknown product 'nope'"),
    (["lymphodepletion", "--product", "tisagenlecleucel", "--indication", "b-all",
      "--weight-kg", "70", "--height-cm", "170", "--on", "yesterday"], "--on must be a date"),
]


@pytest.mark.parametrize(("argv", "message"), BAD, ids=[b[1][:50] for b in BAD])
def test_bad_input_exits_2_saying_what_was_wrong(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run([*argv, "--json"], capsys)
    assert (code, out) == (2, "")
    assert message in err
    assert "Traceback" not in err
