"""``cartflow kinetics``: JSON on standard output, figures on request, exit 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cartflow.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    payload = json.loads(captured.out) if code == 0 and "--json" in argv else {}
    return code, payload, captured.err


def test_simulate_stein_gives_the_typical_curve(capsys):
    code, out, _ = run(capsys, "kinetics", "simulate", "--model", "stein2019", "--days",
                       "0,7,14,28,90", "--json")
    assert code == 0
    assert out["days"] == [0, 7, 14, 28, 90]
    assert len(out["copies_per_ug"]) == 5
    assert out["cmax"] == pytest.approx(24_000)
    assert out["tmax"] == pytest.approx(9.3)
    assert out["auc_0_28"] > 0


def test_simulate_stein_takes_parameter_overrides(capsys):
    _, out, _ = run(capsys, "kinetics", "simulate", "--model", "stein2019", "--cmax", "5000",
                    "--tmax", "12", "--days", "12", "--json")
    assert out["copies_per_ug"] == [pytest.approx(5000)]
    assert out["tmax"] == 12


def test_simulate_cartmath_gives_each_population(capsys):
    code, out, _ = run(capsys, "kinetics", "simulate", "--model", "cartmath", "--cell-line",
                       "hdlm2", "--json")
    assert code == 0
    assert {"effector", "memory", "tumour", "days"} <= set(out)
    assert 45 <= out["tumour_extinct_from_day"] <= 47
    code, out, _ = run(capsys, "kinetics", "simulate", "--model", "cartmath", "--cell-line",
                       "raji", "--json")
    assert code == 0 and out["days"][-1] == 15


def test_population_is_reproducible(capsys):
    args = ("kinetics", "population", "--model", "stein2019", "--n", "500", "--seed", "3",
            "--json")
    _, first, _ = run(capsys, *args)
    _, second, _ = run(capsys, *args)
    assert first == second
    assert first["n"] == 500
    assert {"tmax_median", "cmax_geomean", "auc_0_28_geomean", "percentiles"} <= set(first)


def test_fit_reports_parameters_percentiles_and_the_flag(capsys, tmp_path: Path):
    csv = tmp_path / "obs.csv"
    csv.write_text("day,copies_per_ug,lloq\n1,40,50\n4,900,50\n7,8000,50\n14,12000,50\n"
                   "28,1500,50\n90,,50\n")
    code, out, _ = run(capsys, "kinetics", "fit", "--model", "stein2019", "--observations",
                       str(csv), "--json")
    assert code == 0
    assert out["n_censored"] == 2
    assert set(out["parameters"]) == {"foldx", "tmax", "cmax", "alpha", "fb", "beta"}
    cmax = out["cmax"]
    assert cmax["lower"] < cmax["estimate"] < cmax["upper"]
    assert 0 <= out["cmax_percentile"] <= 100 and 0 <= out["auc_0_28_percentile"] <= 100
    assert out["poor_expansion"] is False
    fitted = out["fitted"]
    assert len(fitted["copies_per_ug"]) == 6
    assert all(lo < c < hi for lo, c, hi in
               zip(fitted["lower"], fitted["copies_per_ug"], fitted["upper"], strict=True))
    assert fitted["observed"][0] is None and fitted["lloq"][0] == 50  # 40 < LLOQ: censored


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_plot_writes_the_figure(capsys, tmp_path: Path, suffix: str):
    target = tmp_path / f"figure{suffix}"
    code, _, err = run(capsys, "kinetics", "simulate", "--model", "stein2019", "--plot",
                       str(target))
    assert code == 0 and target.stat().st_size > 1000
    assert "figure written" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("simulate", "--model", "kimmel2021"), "unknown model"),
        (("simulate", "--model", "cartmath", "--cell-line", "jurkat"), "unknown cell line"),
        (("simulate", "--model", "cartmath"), "needs --cell-line"),
        (("simulate", "--model", "stein2019", "--days=-1,7"), "zero or later"),
        (("simulate", "--model", "stein2019", "--days", "a,b"), "numbers"),
        (("simulate", "--model", "stein2019", "--plot", "x.pdf"), ".png or .svg"),
        (("population", "--model", "stein2019", "--n", "0"), "at least 1"),
        (("population", "--model", "cartmath", "--plot", "x.png"), "no figure"),
        (("fit", "--model", "stein2019", "--observations", "/nonexistent.csv"), "no such"),
    ],
)
def test_bad_input_exits_2_with_a_message(capsys, argv, message):
    code = main(["kinetics", *argv])
    assert code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "message"),
    [("", "empty"), ("day,copies_per_ug\n3,100\n", "two time points"),
     ("day;copies\n1;2\n", "lacks the column")],
)
def test_bad_observation_files_exit_2(capsys, tmp_path: Path, content: str, message: str):
    csv = tmp_path / "obs.csv"
    csv.write_text(content)
    assert main(["kinetics", "fit", "--model", "stein2019", "--observations", str(csv)]) == 2
    assert message in capsys.readouterr().err


def test_a_cartmath_population_says_which_backend_ran_it(capsys):
    code, out, _ = run(capsys, "kinetics", "population", "--model", "cartmath", "--n", "40",
                       "--seed", "1", "--backend", "numpy", "--json")
    assert code == 0
    assert out["backend"] == "numpy" and "asked for" in out["backend_reason"]
    assert out["n"] == 40 and 0.0 <= out["tumour_cleared_fraction"] <= 1.0
    assert main(["kinetics", "population", "--model", "cartmath", "--n", "40",
                 "--backend", "numpy"]) == 0
    assert "backend: numpy" in capsys.readouterr().out


def test_auto_runs_a_cartmath_population_on_jax_where_a_gpu_is_visible(capsys, monkeypatch):
    from cartflow.kinetics import backend

    calls = []

    def fake_solve(name, pop, days):
        calls.append(name)
        return backend.solve_population(pop, days)[0]

    monkeypatch.setattr(backend, "detect", lambda: backend.Available(True, True))
    monkeypatch.setattr(backend, "solve_on", fake_solve)
    code, out, _ = run(capsys, "kinetics", "population", "--model", "cartmath", "--n", "10",
                       "--json")
    assert code == 0 and calls == ["jax"]
    assert out["backend"] == "jax" and "GPU" in out["backend_reason"]


def test_auto_runs_a_cartmath_population_on_numpy_without_a_gpu(capsys, monkeypatch):
    from cartflow.kinetics import backend

    monkeypatch.setattr(backend, "detect", lambda: backend.Available(True, False))
    code, out, _ = run(capsys, "kinetics", "population", "--model", "cartmath", "--n", "10",
                       "--json")
    assert code == 0 and out["backend"] == "numpy" and "no GPU" in out["backend_reason"]


def test_the_stein_population_reports_its_numpy_backend_and_refuses_jax(capsys):
    _, out, _ = run(capsys, "kinetics", "population", "--model", "stein2019", "--n", "50",
                    "--json")
    assert out["backend"] == "numpy"
    assert main(["kinetics", "population", "--model", "stein2019", "--backend", "jax"]) == 2
    assert "numpy only" in capsys.readouterr().err


def test_a_cartmath_population_in_chunks_gives_the_same_summary(capsys, monkeypatch):
    from cartflow.cli import kinetics as cli_kinetics

    args = ("kinetics", "population", "--model", "cartmath", "--n", "30", "--seed", "4",
            "--backend", "numpy", "--json")
    _, whole, _ = run(capsys, *args)
    monkeypatch.setattr(cli_kinetics, "CARTMATH_CHUNK", 7)
    _, chunked, _ = run(capsys, *args)
    assert chunked == whole
