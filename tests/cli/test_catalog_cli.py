"""``cartflow catalog``: the table of docs/catalog.md and the count of unknown facts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cartflow.cli import main

DOCS = Path(__file__).parents[2] / "docs" / "catalog.md"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_table_in_the_docs_is_the_commands_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["catalog", "table"], capsys)
    assert code == 0
    found = re.search(
        r"<!-- catalog-table:start -->\n(.*)<!-- catalog-table:end -->",
        DOCS.read_text("utf-8"),
        re.S,
    )
    assert found is not None, "docs/catalog.md lost its catalog-table markers"
    assert found.group(1) == out, "paste `cartflow catalog table` into docs/catalog.md"


def test_the_table_lists_every_approval_with_its_date_and_unknown_facts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(["catalog", "table", "--json"], capsys)
    assert code == 0
    rows = {(r["indication"], r["region"]): r for r in json.loads(out)["rows"]}
    zevor = rows[("zevorcabtagene-autoleucel/mm", "CN")]
    assert zevor["approved_from"] == "2024-02-23"
    assert "dose" in zevor["unknown_facts"] and "age" not in zevor["unknown_facts"]
    ide = rows[("idecabtagene-vicleucel/mm", "US")]
    assert "age" not in ide["unknown_facts"]
    assert rows[("lisocabtagene-maraleucel/mzl", "US")]["approved_from"] == "2025-12-04"


def test_the_table_reads_the_facts_in_force_on_a_date(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["catalog", "table", "--on", "2024-03-15", "--json"], capsys)
    assert code == 0
    rows = {(r["indication"], r["region"]): r for r in json.loads(out)["rows"]}
    # between the CHMP opinion and the EC's decision the EU wording is not known
    assert "conditions" in rows[("ciltacabtagene-autoleucel/mm", "EU")]["unknown_facts"]


def test_it_counts_the_unknown_fact_versions(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["catalog", "unknowns", "--json"], capsys)
    assert code == 0
    counts = json.loads(out)
    assert counts["indication_fact_versions_unknown"] < counts["indication_fact_versions"]
    code, text, _ = run(["catalog", "unknowns"], capsys)
    assert code == 0
    assert re.fullmatch(
        r"catalog \S+: \d+ of \d+ indication fact versions are unknown, \d+ of \d+ product fact "
        r"versions, and \d+ numbers inside known values\n",
        text,
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["catalog", "table", "--on", "30/11/2026"], "--on must be a date YYYY-MM-DD"),
        (["catalog", "unknowns", "--catalog", "/no/such/file.json"], "cannot read"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(argv, capsys)
    assert (code, out) == (2, "")
    assert message in err


def test_a_malformed_catalog_file_is_refused_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "products.json"
    bad.write_text(json.dumps({"catalog_version": "x"}), "utf-8")
    code, _, err = run(["catalog", "table", "--catalog", str(bad)], capsys)
    assert code == 2
    assert "missing key(s)" in err
