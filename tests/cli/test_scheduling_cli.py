"""``cartflow plan`` and ``cartflow simulate capacity``: JSON out, exit 2 with what is accepted."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from cartflow.cli import main

ON = ["--on", "2026-12-07"]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_synthetic_network_is_planned_without_violations(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["plan", *ON, "--synthetic", "8", "--centres", "3", "--time-limit", "2", "--json"]
    code, out, _ = run(argv, capsys)
    assert code == 0
    payload = json.loads(out)
    assert payload["violations"] == []
    assert len(payload["plans"]) == 8
    assert payload["cpsat"]["objective"] <= payload["greedy"]["objective"]


def test_a_case_whose_product_lacks_a_fact_gets_no_plan_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = [
        {
            "id": "a",
            "centre": "C01",
            "indication": "ciltacabtagene-autoleucel/mm",
            "ready": "2026-12-08",
        },
        {
            "id": "b",
            "centre": "C01",
            "indication": "tisagenlecleucel/b-all",
            "ready_day": 0,
            "priority": "rapidly_progressing",
        },
    ]
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(cases), encoding="utf-8")
    code, out, _ = run(
        ["plan", *ON, "--cases", str(path), "--centres", "2", "--time-limit", "2", "--json"],
        capsys,
    )
    assert code == 0
    payload = json.loads(out)
    assert [p["case"] for p in payload["plans"]] == ["b"]
    assert payload["no_plan"][0]["missing"] == ["manufacturing_turnaround_days"]


def test_a_late_courier_shows_what_moved_and_why(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["plan", *ON, "--synthetic", "3", "--centres", "2", "--time-limit", "2", "--json"]
    _, out, _ = run(base, capsys)
    plan = json.loads(out)["plans"][0]
    code, out, _ = run([*base, "--slip", f"{plan['case']},courier_late,0,3"], capsys)
    assert code == 2  # day 0 is before the shipment: refused, with the days it may fall on
    day = (date.fromisoformat(plan["legs"]["shipment"]) - date(2026, 12, 7)).days
    code, out, _ = run([*base, "--slip", f"{plan['case']},courier_late,{day},3"], capsys)
    assert code == 0
    moved = json.loads(out)["replan"]["moved"]
    assert "arrival" in {m["leg"] for m in moved}
    assert all("3 day(s) late" in m["why"] for m in moved)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["plan", "--slip", "x,explode,1"], "KIND one of manufacturing_failed, courier_late"),
        (["plan", "--objective", "best"], "invalid choice"),
        (["plan", "--on", "tomorrow"], "--on must be a date YYYY-MM-DD"),
        (["simulate", "capacity", "--mix", "nope/x"], "known indications"),
        (["simulate", "capacity", "--failure-rate", "2"], "at least 0 and below 1"),
        (
            ["simulate", "capacity", "--mix", "ciltacabtagene-autoleucel/mm"],
            "manufacturing_turnaround_days",
        ),
    ],
)
def test_bad_input_exits_2_saying_what_is_accepted(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(argv, capsys)
    assert code == 2
    assert message in err


def test_a_small_what_if_reports_the_distribution_and_utilisation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    png = tmp_path / "capacity.png"
    argv = [
        "simulate",
        "capacity",
        *ON,
        "--centres",
        "3",
        "--referrals",
        "40",
        "--days",
        "90",
        "--replications",
        "2",
        "--workers",
        "1",
        "--plot",
        str(png),
        "--json",
    ]
    code, out, _ = run(argv, capsys)
    assert code == 0
    payload = json.loads(out)
    assert payload["replications"] == 2
    assert set(payload["vein_to_vein_days"]) == {"median", "p90", "mean"}
    assert any(k.startswith("slot ") for k in payload["utilisation"])
    assert png.stat().st_size > 0
