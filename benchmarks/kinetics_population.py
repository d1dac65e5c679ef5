"""CPU speed of the kinetics models: CARTmath populations against the strongest fair baselines.

    .venv/bin/python benchmarks/kinetics_population.py [--n 10000] [--ref-n 1000]
        [--loop-n N] [--jax-cpu] [--out results.json]

What it measures, in one run on this machine:

* the benchmark population (cartflow.kinetics.cartmath_population: HDLM-2 defaults from the
  dose, 200 days, SD 0.2 on phi, rho, gamma, r, seed 2021);
* the reference: LSODA at rtol 1e-10 (atol 1e-8 cells), extinctions located as events, on the
  first ``--ref-n`` patients;
* every solver through the same sweep (benchmarks/kinetics_sweep.py): rtol from 1e-3 down in
  half-decades, atol 1,000 x rtol cells, on the same ``--ref-n`` reference patients, the same
  criterion (|a - b| <= 1e-4 |b| + 1 cell, all states, daily grid); the loosest that passes is
  the set-up it is timed at:
  - ours: the vectorised numpy Rosenbrock solver (with the exact closed form once a patient's
    tumour is extinct, part of the method; the same solver stepping on instead is shown too,
    to say what the closed form is worth, and is not counted as a baseline);
  - the per-patient loop: scipy ``solve_ivp`` LSODA with a scalar right-hand side and analytic
    Jacobian, extinctions as events;
  - compiled LSODA (numbalsoda's LSODA with a numba right-hand side and a numba driver that
    applies the extinction rule; the ``bench`` extra), skipped with a message when not installed;
* each at its chosen tolerance on all ``--n`` patients (ours and compiled LSODA best of 3; the
  solve_ivp loop once, on ``--loop-n`` patients scaled per patient to ``--n`` when smaller),
  and the ratio of each baseline's time to ours; the headline ratio is against the fastest
  baseline that passes;
* with ``--jax-cpu``, our JAX backend on this CPU beside the numpy solver;
* the Stein 2019 closed form for 1,000,000 patients, and one patient's MAP fit.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from typing import Any

import numpy as np
from kinetics_sweep import best_of, sweep

from cartflow.kinetics import cartmath_population as cp
from cartflow.kinetics import fit, stein2019
from cartflow.kinetics.observations import Observations
from cartflow.kinetics.rosenbrock import solve_population


def _compiled_lsoda() -> Any:
    try:
        import compiled_lsoda
    except ImportError as exc:
        print(f"\ncompiled LSODA skipped: {exc} (pip install 'cartflow[bench]')",
              file=sys.stderr)
        return None
    return compiled_lsoda


def _jax_on_cpu(pop: Any, days: np.ndarray, ours: dict[str, Any],
                ref: np.ndarray) -> dict[str, Any]:
    try:
        from cartflow.kinetics.cartmath_jax import solve_population_jax
    except ImportError as exc:
        print(f"\nJAX on the CPU skipped: {exc} (pip install 'cartflow[jax]')", file=sys.stderr)
        return {"skipped": str(exc)}
    import jax

    c = ours["chosen"]
    t = time.perf_counter()
    solve_population_jax(pop, days, rtol=c["rtol"], atol=c["atol"], chunk=pop.n)
    compile_s = time.perf_counter() - t
    t = time.perf_counter()
    out, _ = solve_population_jax(pop, days, rtol=c["rtol"], atol=c["atol"], chunk=pop.n)
    seconds = time.perf_counter() - t
    result = {"device": str(jax.devices()[0]), "jax": jax.__version__, "rtol": c["rtol"],
              "compile_and_first_call_s": compile_s, "time_s": seconds,
              "ratio_to_numpy": seconds / ours["time_s"],
              "accuracy": cp.accuracy(out[: ref.shape[0]], ref)}
    print(f"\nour JAX backend on {result['device']}: {seconds:.3f} s for {pop.n} patients, "
          f"{result['ratio_to_numpy']:.1f}x the numpy solver's time", file=sys.stderr)
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--ref-n", type=int, default=1000)
    ap.add_argument("--loop-n", type=int, help="time the solve_ivp loop on this many (default n)")
    ap.add_argument("--stein-n", type=int, default=1_000_000)
    ap.add_argument("--jax-cpu", action="store_true",
                    help="also time our JAX backend on this CPU at ours' tolerance (the jax "
                         "extra), against numpy: why the population command picks numpy here")
    ap.add_argument("--out", help="also write the JSON result to this file")
    args = ap.parse_args()
    if args.ref_n > args.n:
        ap.error("--ref-n cannot exceed --n")
    days = cp.BENCHMARK_DAYS
    loop_n = min(args.loop_n or args.n, args.n)
    res: dict[str, Any] = {
        "n": args.n, "ref_n": args.ref_n, "loop_n": loop_n,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                   f"load average {os.getloadavg()[0]:.1f} at the start",
        "python": platform.python_version(), "numpy": np.__version__,
        "ladder": list(cp.TOLERANCE_LADDER), "atol_cells_per_rtol": cp.ATOL_CELLS_PER_RTOL}

    pop = cp.benchmark_population(args.n)
    ref_pop = cp.subset(pop, args.ref_n)
    t = time.perf_counter()
    ref = cp.reference(ref_pop)
    res["reference_s"] = time.perf_counter() - t
    print(f"reference, LSODA rtol 1e-10, {args.ref_n} patients: {res['reference_s']:.1f} s",
          file=sys.stderr)

    solvers: list[dict[str, Any]] = []

    # Ours.
    s = sweep("ours: vectorised Rosenbrock (numpy)",
              lambda rtol, atol: solve_population(ref_pop, days, rtol=rtol, atol=atol)[0], ref)
    if s["chosen"]:
        c = s["chosen"]
        s["time_s"], _ = best_of(3, lambda: solve_population(pop, days, rtol=c["rtol"],
                                                             atol=c["atol"]))
        s["timed_on"] = args.n
    solvers.append(s)

    if args.jax_cpu and "time_s" in s:
        res["jax_on_cpu"] = _jax_on_cpu(pop, days, s, ref)

    # What the closed form after extinction is worth: ours stepping on instead. Shown, not a
    # baseline.
    s = sweep("ours without the closed form after extinction",
              lambda rtol, atol: solve_population(ref_pop, days, rtol=rtol, atol=atol,
                                                  closed_form=False)[0], ref)
    if s["chosen"]:
        c = s["chosen"]
        s["time_s"], _ = best_of(3, lambda: solve_population(pop, days, rtol=c["rtol"],
                                                             atol=c["atol"], closed_form=False))
        s["timed_on"] = args.n
    res["ours_without_closed_form"] = s

    # The solve_ivp loop, scalar right-hand side and Jacobian.
    s = sweep("baseline: solve_ivp LSODA loop (scalar RHS + Jacobian, events)",
              lambda rtol, atol: cp.reference(ref_pop, rtol=rtol, atol=atol), ref)
    if s["chosen"]:
        c = s["chosen"]
        loop_pop = cp.subset(pop, loop_n)
        t = time.perf_counter()
        cp.reference(loop_pop, rtol=c["rtol"], atol=c["atol"])
        s["time_s"] = (time.perf_counter() - t) * args.n / loop_n
        s["timed_on"] = loop_n
    solvers.append(s)

    # Compiled LSODA.
    cl = _compiled_lsoda()
    if cl is not None:
        cl.warm_up(ref_pop, days)
        counters: dict[str, int] = {}

        def compiled(rtol: float, atol: float) -> np.ndarray:
            out, failed, warnings = cl.solve_patients(ref_pop, days, rtol, atol)
            counters.update(failed_patients=failed, lsoda_warnings=warnings)
            return out

        s = sweep("baseline: compiled LSODA (numbalsoda + numba, extinction by restart)",
                  compiled, ref, extra=lambda: dict(counters))
        if s["chosen"]:
            c = s["chosen"]
            s["time_s"], _ = best_of(3, lambda: cl.solve_patients(pop, days, c["rtol"],
                                                                  c["atol"]))
            s["timed_on"] = args.n
        solvers.append(s)
    else:
        res["compiled_lsoda"] = "not installed (pip install 'cartflow[bench]')"

    res["solvers"] = solvers
    ours = solvers[0]
    print(f"\nat each solver's loosest passing tolerance, {args.n} patients:", file=sys.stderr)
    for s in [*solvers, res["ours_without_closed_form"]]:
        if "time_s" in s:
            s["ratio_to_ours"] = s["time_s"] / ours["time_s"] if "time_s" in ours else None
            scaled = (f" (timed on {s['timed_on']}, scaled)" if s["timed_on"] != args.n
                      else "")
            print(f"  {s['name']}: rtol {s['chosen']['rtol']:.0e}, {s['time_s']:.3f} s{scaled}"
                  f"; {s['ratio_to_ours']:.1f}x ours", file=sys.stderr)
        else:
            print(f"  {s['name']}: no tolerance of the ladder passes", file=sys.stderr)
    passing = [s for s in solvers[1:] if "time_s" in s]
    if passing and "time_s" in ours:
        strongest = min(passing, key=lambda s: s["time_s"])
        res["strongest_baseline"] = strongest["name"]
        res["speedup_vs_strongest_baseline"] = strongest["time_s"] / ours["time_s"]
        print(f"ours against the strongest passing baseline ({strongest['name']}): "
              f"{res['speedup_vs_strongest_baseline']:.2f}x", file=sys.stderr)

    def stein() -> float:
        p = stein2019.sample_parameters(args.stein_n, np.random.default_rng(1))
        exposure = stein2019.exposure(p)
        curve = stein2019.concentration(p, [0.0, 7.0, 14.0, 28.0, 90.0])
        return float(exposure["cmax"].mean() + curve.mean())

    res["stein_closed_form_s"], _ = best_of(3, stein)
    res["stein_n"] = args.stein_n

    rng = np.random.default_rng(5)
    obs_days = np.array([1, 4, 7, 10, 14, 21, 28, 56, 90], dtype=float)
    fit_times = []
    for p in stein2019.sample_parameters(20, rng):
        y = stein2019.add_residual_error(stein2019.concentration(p, obs_days), rng)
        t = time.perf_counter()
        fit.assess_patient(Observations.from_arrays(obs_days, y))
        fit_times.append(time.perf_counter() - t)
    res["fit_one_patient_median_s"] = float(np.median(fit_times))
    res["fit_one_patient_max_s"] = float(np.max(fit_times))
    res["load_average_at_the_end"] = os.getloadavg()[0]

    text = json.dumps(res, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
