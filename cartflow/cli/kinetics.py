"""``cartflow kinetics``: simulate, population and fit with the cellular-kinetics models.

The arithmetic lives in cartflow.kinetics; this module parses, calls, prints and draws.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from cartflow.cli.common import CliError, add_json_flag, domain_errors_as_cli, emit
from cartflow.kinetics import backend as kbackend
from cartflow.kinetics import cartmath as cm
from cartflow.kinetics import cartmath_population as cmpop
from cartflow.kinetics import fit as kfit
from cartflow.kinetics import population as kpop
from cartflow.kinetics import stein2019 as stein
from cartflow.kinetics.observations import parse_csv
from cartflow.kinetics.rosenbrock import make_population, solve_population

MODELS = ("stein2019", "cartmath")
STEIN_DEFAULT_DAYS = "0,1,2,4,7,9.3,14,21,28,56,90,180,365"
# CARTmath app horizons (server.R): HDLM-2 200 days, RAJI 15 days.
CARTMATH_DEFAULT_END = {"hdlm2": 200.0, "raji": 15.0}
# One patient is cheap: tighter than the population default, which RAJI's effector crash needs
# to stay within 1e-4 relative of the LSODA reference (tests/kinetics/test_cartmath.py).
CLI_RTOL, CLI_ATOL = 1e-7, 1e-4
CARTMATH_CHUNK = 100_000  # patients solved at once: 100,000 x 201 days x 3 states is 480 MB
PROGRESS_FROM = 200_000  # patients; smaller runs finish before a bar is worth drawing


def _model(name: str, allowed: tuple[str, ...] = MODELS) -> str:
    key = name.strip().lower()
    if key not in allowed:
        raise CliError(f"unknown model {name!r}; accepted: {', '.join(allowed)}")
    return key


def _days(text: str) -> np.ndarray:
    try:
        days = np.array([float(x) for x in text.split(",") if x.strip()], dtype=float)
    except ValueError:
        raise CliError(f"--days must be numbers separated by commas, got {text!r}") from None
    if days.size == 0:
        raise CliError("--days needs at least one day")
    if np.any(~np.isfinite(days)) or np.any(days < 0):
        raise CliError("--days must be zero or later (days after infusion)")
    return days


def _plot_target(path: str | None) -> Path | None:
    if path is None:
        return None
    target = Path(path)
    if target.suffix.lower() not in (".png", ".svg"):
        raise CliError(f"--plot must name a .png or .svg file, got {path!r}")
    return target


def _figure() -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(7, 4.2), dpi=120)


def _save(fig: Any, target: Path) -> None:
    fig.tight_layout()
    fig.savefig(target)
    sys.stderr.write(f"figure written to {target}\n")


# --- simulate -----------------------------------------------------------------------------


def _simulate_stein(args: argparse.Namespace) -> dict[str, Any]:
    days = _days(args.days or STEIN_DEFAULT_DAYS)
    params = stein.TYPICAL.with_overrides(foldx=args.foldx, tmax=args.tmax, cmax=args.cmax,
                                          alpha=args.alpha, fb=args.fb, beta=args.beta)
    factor, factor_day = 1.0, None
    if args.tocilizumab_day is not None:
        factor, factor_day = stein.F_TOCILIZUMAB, args.tocilizumab_day
    elif args.corticosteroid_day is not None:
        factor, factor_day = stein.F_CORTICOSTEROID, args.corticosteroid_day
    if factor_day is not None and factor_day < 0:
        raise CliError("the comedication day must be zero or later")
    p = params.as_array()
    values = stein.concentration(p, days, expansion_factor=factor, factor_day=factor_day)
    exp = stein.exposure(p)
    fine = np.linspace(0.0, 28.0, 2801)
    curve28 = stein.concentration(p, fine, expansion_factor=factor, factor_day=factor_day)
    payload = {
        "model": "stein2019",
        "days": days.tolist(),
        "copies_per_ug": values.tolist(),
        # The peak is always at Tmax; comedication raises it (Stein [S3]).
        "cmax": float(stein.concentration(p, [params.tmax], expansion_factor=factor,
                                          factor_day=factor_day)[0]),
        "tmax": params.tmax,
        "auc_0_28": float(np.trapezoid(curve28, fine)) if factor_day is not None
        else float(exp["auc"]),
        "parameters": {k: getattr(params, k) for k in stein.PARAMETER_NAMES},
        "expansion_factor": factor,
        "units": {"copies_per_ug": "transgene copies per microgram genomic DNA", "days":
                  "days after infusion", "auc_0_28": "copies/ug x day"},
    }
    target = _plot_target(args.plot)
    if target:
        grid = np.linspace(0.0, max(float(days.max()), 28.0), 600)
        fig, ax = _figure()
        ax.plot(grid, stein.concentration(p, grid, expansion_factor=factor,
                                          factor_day=factor_day), label="typical patient")
        ax.plot(days, values, "o", label="requested days")
        ax.set_yscale("log")
        ax.set_xlabel("days after infusion")
        ax.set_ylabel("transgene copies / ug DNA")
        ax.set_title("Stein 2019 tisagenlecleucel kinetics (typical patient)")
        ax.legend()
        _save(fig, target)
    return payload


def _simulate_cartmath(args: argparse.Namespace) -> dict[str, Any]:
    if not args.cell_line:
        raise CliError(f"--model cartmath needs --cell-line; accepted: {', '.join(cm.CELL_LINES)}")
    line = args.cell_line.strip().lower()
    if line not in cm.CELL_LINES:
        raise CliError(f"unknown cell line {args.cell_line!r}; accepted: "
                       f"{', '.join(cm.CELL_LINES)}")
    schedule = cm.SCHEDULES[line]
    days = (_days(args.days) if args.days
            else np.arange(0.0, CARTMATH_DEFAULT_END[line] + 1.0))
    days = np.unique(days)
    doses = schedule.doses
    if args.car_t_dose is not None or args.dose_day is not None:
        first = schedule.doses[0]
        day = first.day if args.dose_day is None else args.dose_day
        cells = first.effector if args.car_t_dose is None else args.car_t_dose
        if day < 0 or cells < 0:
            raise CliError("--dose-day and --car-t-dose must be zero or more")
        doses = (cm.Dose(day, effector=cells),)
    initial = schedule.initial
    if args.tumour0 is not None:
        if args.tumour0 < 0:
            raise CliError("--tumour0 must be zero or more cells")
        initial = (initial[0], initial[1], args.tumour0)
    params = cm.cell_line(line)
    pop = make_population(params, initial, 1)
    out, _ = solve_population(pop, days, doses, rtol=CLI_RTOL, atol=CLI_ATOL)
    states = out[0]
    cleared = [float(d) for d, t in zip(days, states[:, 2], strict=True) if t == 0.0]
    payload = {
        "model": "cartmath",
        "cell_line": line,
        "schedule": {"initial": {"effector": initial[0], "memory": initial[1],
                                 "tumour": initial[2]},
                     "doses": [{"day": d.day, "effector": d.effector, "tumour": d.tumour}
                               for d in doses]},
        "days": days.tolist(),
        "effector": states[:, 0].tolist(),
        "memory": states[:, 1].tolist(),
        "tumour": states[:, 2].tolist(),
        "tumour_extinct_from_day": cleared[0] if cleared else None,
        "parameters": params.as_dict(),
        "units": {"cells": "cell counts", "days": "days after tumour injection"},
    }
    target = _plot_target(args.plot)
    if target:
        fine = np.union1d(np.linspace(0.0, float(days.max()), 801), days)
        fo, _ = solve_population(pop, fine, doses, rtol=CLI_RTOL, atol=CLI_ATOL)
        fig, ax = _figure()
        for i, name in enumerate(cm.STATE_NAMES):
            ax.plot(fine, np.where(fo[0, :, i] > 0, fo[0, :, i], np.nan), label=name)
        ax.set_yscale("log")
        ax.set_ylim(bottom=0.5)
        ax.set_xlabel("days")
        ax.set_ylabel("cells")
        ax.set_title(f"CARTmath {line.upper()} defaults (Barros 2021)")
        ax.legend()
        _save(fig, target)
    return payload


@domain_errors_as_cli
def simulate(args: argparse.Namespace) -> int:
    model = _model(args.model)
    payload = _simulate_stein(args) if model == "stein2019" else _simulate_cartmath(args)

    def human(p: dict[str, Any]) -> str:
        if p["model"] == "stein2019":
            lines = [f"Stein 2019 typical patient: Cmax {p['cmax']:.4g} copies/ug at day "
                     f"{p['tmax']:.3g}, AUC0-28 {p['auc_0_28']:.4g} copies/ug x day"]
            lines += [f"  day {d:>7.4g}: {c:.4g}" for d, c in
                      zip(p["days"], p["copies_per_ug"], strict=True)]
            return "\n".join(lines)
        lines = [f"CARTmath {p['cell_line']}: tumour extinct from day "
                 f"{p['tumour_extinct_from_day']}", "  day  effector  memory  tumour"]
        lines += [f"  {d:>5.4g} {c:.4g} {m:.4g} {t:.4g}" for d, c, m, t in
                  zip(p["days"], p["effector"], p["memory"], p["tumour"], strict=True)]
        return "\n".join(lines)

    emit(args, payload, human)
    return 0


# --- population ---------------------------------------------------------------------------


def _cartmath_population(args: argparse.Namespace) -> dict[str, Any]:
    if args.plot:
        raise CliError("--plot draws the Stein 2019 band; the cartmath population has no figure")
    choice = kbackend.choose_backend(args.backend, kbackend.detect())
    pop = cmpop.benchmark_population(args.n, seed=args.seed)
    days = cmpop.BENCHMARK_DAYS
    # Each patient's 201 days x 3 states are reduced chunk by chunk, so memory stays bounded.
    parts = [cmpop.outcomes(kbackend.solve_on(choice.name, cmpop.subset(pop, CARTMATH_CHUNK, lo),
                                              days), days)
             for lo in range(0, args.n, CARTMATH_CHUNK)]
    per_patient = {k: np.concatenate([part[k] for part in parts]) for k in parts[0]}
    return {"model": "cartmath", "cell_line": "hdlm2", "seed": args.seed,
            "backend": choice.name, "backend_reason": choice.reason,
            "population": "HDLM-2 defaults from the CAR-T dose (effector 1.5e6, tumour 2e6), "
                          "log-normal SD 0.2 on phi, rho, gamma and r",
            **cmpop.summary(per_patient, days)}


def _stein_population(args: argparse.Namespace) -> dict[str, Any]:
    if args.backend.strip().lower() == "jax":
        raise CliError("the Stein 2019 closed form runs on numpy only; --backend jax is for "
                       "--model cartmath")
    bar = None
    if args.n >= PROGRESS_FROM:
        from tqdm import tqdm

        bar = tqdm(total=args.n, unit="patient", file=sys.stderr, desc="population")
    try:
        summary = kpop.simulate_population(args.n, args.seed,
                                           progress=bar.update if bar else None)
    finally:
        if bar is not None:
            bar.close()
    payload = {"model": "stein2019", "backend": "numpy",
               "backend_reason": "a closed form, written for numpy only", **summary.as_dict()}
    target = _plot_target(args.plot)
    if target:
        grid = np.linspace(0.0, 90.0, 361)
        band = kpop.forecast(grid, n=min(args.n, 20_000), seed=args.seed)
        fig, ax = _figure()
        ax.fill_between(grid, band.p05, band.p95, alpha=0.25, label="5th-95th percentile")
        ax.plot(grid, band.median, label="median")
        ax.plot(grid, band.typical, "--", label="typical patient")
        ax.set_yscale("log")
        ax.set_xlabel("days after infusion")
        ax.set_ylabel("transgene copies / ug DNA")
        ax.set_title("Stein 2019 forecast band (inter-individual variability)")
        ax.legend()
        _save(fig, target)
    return payload


@domain_errors_as_cli
def population(args: argparse.Namespace) -> int:
    model = _model(args.model)
    if args.n < 1:
        raise CliError(f"--n must be at least 1, got {args.n}")
    payload = _stein_population(args) if model == "stein2019" else _cartmath_population(args)

    def human(p: dict[str, Any]) -> str:
        backend = f"backend: {p['backend']} ({p['backend_reason']})"
        if p["model"] == "stein2019":
            return (f"{p['n']} virtual patients (seed {p['seed']}): Tmax median "
                    f"{p['tmax_median']:.3g} d, Cmax geomean {p['cmax_geomean']:.4g} copies/ug, "
                    f"AUC0-28 geomean {p['auc_0_28_geomean']:.4g} copies/ug x day\n{backend}")
        day = p["clearance_day"]
        cleared = (f", median day {day['p50']:.0f} (5th-95th {day['p5']:.0f}-{day['p95']:.0f})"
                   if day else "")
        return (f"{p['n']} CARTmath HDLM-2 patients (seed {p['seed']}), days 0-"
                f"{p['days'][1]:.0f}: tumour cleared in {100 * p['tumour_cleared_fraction']:.1f}%"
                f"{cleared}\n{backend}")

    emit(args, payload, human)
    return 0


# --- fit ----------------------------------------------------------------------------------


@domain_errors_as_cli
def fit(args: argparse.Namespace) -> int:
    _model(args.model, ("stein2019",))
    path = Path(args.observations)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CliError(f"no such observations file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read the observations file {path}: {exc}") from None
    if not 0.0 < args.level < 1.0:
        raise CliError(f"--level must lie between 0 and 1 (e.g. 0.9), got {args.level}")
    obs = parse_csv(text)
    report = kfit.assess_patient(obs, level=args.level)
    lo, hi = report.fit.interval(args.level)
    est = np.exp(report.fit.log_params)
    payload = {
        "model": "stein2019",
        "interval_level": args.level,
        "n_observations": int(obs.days.size),
        "n_censored": int(obs.censored.sum()),
        "parameters": {name: {"estimate": float(est[i]), "lower": float(lo[i]),
                              "upper": float(hi[i])}
                       for i, name in enumerate(stein.PARAMETER_NAMES)},
        "fitted": {"days": obs.days.tolist(),
                   "observed": [None if c else float(v) for v, c in
                                zip(obs.values, obs.censored, strict=True)],
                   "lloq": [float(v) if c else None for v, c in
                            zip(obs.values, obs.censored, strict=True)],
                   "copies_per_ug": report.fitted_at_observed.tolist(),
                   "lower": report.fitted_interval[0].tolist(),
                   "upper": report.fitted_interval[1].tolist()},
        "cmax": {"estimate": report.cmax, "lower": report.cmax_interval[0],
                 "upper": report.cmax_interval[1]},
        "tmax": report.tmax,
        "auc_0_28": {"estimate": report.auc_0_28, "lower": report.auc_interval[0],
                     "upper": report.auc_interval[1]},
        "cmax_percentile": report.cmax_percentile,
        "auc_0_28_percentile": report.auc_percentile,
        "poor_expansion": report.poor_expansion,
        "poor_expansion_threshold_cmax": kfit.poor_expansion_threshold(),
        "converged": report.fit.converged,
    }
    target = _plot_target(args.plot)
    if target:
        grid = np.linspace(0.0, max(90.0, float(obs.days.max()) * 1.05), 400)
        band = kpop.forecast(grid, n=5000, seed=0)
        draws = report.fit.draws(1000, np.random.default_rng(0))
        curves = stein.concentration(draws, grid)
        c05, c95 = np.percentile(curves, [5, 95], axis=0)
        fig, ax = _figure()
        ax.fill_between(grid, band.p05, band.p95, alpha=0.15, color="grey",
                        label="population 5th-95th")
        ax.fill_between(grid, c05, c95, alpha=0.3, color="C1", label="fit 90% band")
        ax.plot(grid, stein.concentration(np.exp(report.fit.log_params), grid), color="C1",
                label="fitted curve")
        m = ~obs.censored
        ax.plot(obs.days[m], obs.values[m], "ko", label="measured")
        if obs.censored.any():
            ax.plot(obs.days[~m], obs.values[~m], "kv", mfc="none", label="below LLOQ")
        ax.set_yscale("log")
        ax.set_xlabel("days after infusion")
        ax.set_ylabel("transgene copies / ug DNA")
        flag = " - poor expansion" if report.poor_expansion else ""
        ax.set_title(f"Patient fit: Cmax percentile {report.cmax_percentile:.0f}{flag}")
        ax.legend(fontsize=8)
        _save(fig, target)

    def human(p: dict[str, Any]) -> str:
        c = p["cmax"]
        a = p["auc_0_28"]
        lines = [
            f"Cmax {c['estimate']:.4g} copies/ug ({c['lower']:.4g}-{c['upper']:.4g}), "
            f"percentile {p['cmax_percentile']:.0f}",
            f"AUC0-28 {a['estimate']:.4g} ({a['lower']:.4g}-{a['upper']:.4g}), percentile "
            f"{p['auc_0_28_percentile']:.0f}",
            f"Tmax {p['tmax']:.3g} d",
            "poor expansion (Cmax below the population's 10th percentile)"
            if p["poor_expansion"] else "expansion within the population's usual range",
        ]
        return "\n".join(lines)

    emit(args, payload, human)
    return 0


# --- registration -------------------------------------------------------------------------


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    kin = subparsers.add_parser("kinetics", help="cellular-kinetics and tumour models",
                                description=__doc__.splitlines()[0])
    actions = kin.add_subparsers(dest="kinetics_command", metavar="ACTION")
    actions.required = True

    sim = actions.add_parser("simulate", help="one patient's time course")
    sim.add_argument("--model", required=True, help="stein2019 or cartmath")
    sim.add_argument("--days", help="output days, comma-separated (e.g. 0,7,14,28,90)")
    for name, unit in (("foldx", "fold"), ("tmax", "days"), ("cmax", "copies/ug"),
                       ("alpha", "1/day"), ("fb", "fraction"), ("beta", "1/day")):
        sim.add_argument(f"--{name}", type=float, help=f"stein2019: override {name} ({unit})")
    sim.add_argument("--tocilizumab-day", type=float,
                     help="stein2019: first tocilizumab dose day (rho x 1.2 until Tmax)")
    sim.add_argument("--corticosteroid-day", type=float,
                     help="stein2019: first corticosteroid dose day (rho x 1.0 until Tmax)")
    sim.add_argument("--cell-line", help="cartmath: hdlm2 or raji")
    sim.add_argument("--car-t-dose", type=float, help="cartmath: CAR-T cells in the dose")
    sim.add_argument("--dose-day", type=float, help="cartmath: day of the CAR-T dose")
    sim.add_argument("--tumour0", type=float, help="cartmath: tumour cells at day 0")
    sim.add_argument("--plot", help="draw the figure to FILE.png or FILE.svg")
    add_json_flag(sim)
    sim.set_defaults(handler=simulate)

    pop = actions.add_parser("population", help="a virtual population's exposure")
    pop.add_argument("--model", required=True, help="stein2019 or cartmath (the HDLM-2 "
                     "benchmark population)")
    pop.add_argument("--backend", default="auto", choices=kbackend.REQUESTS,
                     help="cartmath solver: auto (JAX where it sees a GPU, else numpy), "
                          "numpy or jax")
    pop.add_argument("--n", type=int, default=1000, help="number of virtual patients")
    pop.add_argument("--seed", type=int, default=0, help="random seed (same seed, same answer)")
    pop.add_argument("--plot", help="draw the forecast band to FILE.png or FILE.svg")
    add_json_flag(pop)
    pop.set_defaults(handler=population)

    ft = actions.add_parser("fit", help="fit one patient's measurements")
    ft.add_argument("--model", required=True, help="stein2019")
    ft.add_argument("--observations", required=True,
                    help="CSV with day,copies_per_ug and optionally lloq")
    ft.add_argument("--level", type=float, default=0.9, help="interval level (default 0.9)")
    ft.add_argument("--plot", help="draw the fit to FILE.png or FILE.svg")
    add_json_flag(ft)
    ft.set_defaults(handler=fit)

