"""CPU speed of the kinetics models: CARTmath populations, the Stein closed form, one fit.

    .venv/bin/python benchmarks/kinetics_population.py [--n 10000] [--ref-n 1000]
        [--loop-n 300] [--out results.json]

What it measures, in one run on this machine:

* the benchmark population (cartflow.kinetics.cartmath_population: HDLM-2 defaults from the
  dose, 200 days, SD 0.2 on phi, rho, gamma, r, seed 2021);
* the reference: LSODA at rtol 1e-10 (atol 1e-8 cells), extinctions located as events, on the
  first ``--ref-n`` patients;
* the vectorised numpy Rosenbrock solver on all ``--n`` patients (best of 3), its accuracy on
  the reference patients (|a - b| <= 1e-4 |b| + 1 cell, all states, daily grid);
* the per-patient loop: scipy ``solve_ivp`` LSODA at rtol 1e-6, atol 1e-3 cells (analytic
  Jacobian, the same extinction events), timed on ``--loop-n`` patients and scaled per patient
  to ``--n``; its accuracy is checked the same way, so the ratio compares equal accuracy;
* the Stein 2019 closed form for 1,000,000 patients (sampling, Cmax/Tmax/AUC0-28 and the
  curve on 5 days), outside the 100x aim;
* one patient's MAP fit (median of 20 synthetic patients).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from cartflow.kinetics import cartmath_population as cp
from cartflow.kinetics import fit, stein2019
from cartflow.kinetics.observations import Observations
from cartflow.kinetics.rosenbrock import DEFAULT_ATOL, DEFAULT_RTOL, solve_population

LOOP_RTOL, LOOP_ATOL = 1e-6, 1e-3


def _best_of(k: int, func):  # type: ignore[no-untyped-def]
    best, value = np.inf, None
    for _ in range(k):
        t = time.perf_counter()
        value = func()
        best = min(best, time.perf_counter() - t)
    return best, value


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--ref-n", type=int, default=1000)
    ap.add_argument("--loop-n", type=int, default=300)
    ap.add_argument("--stein-n", type=int, default=1_000_000)
    ap.add_argument("--out", help="also write the JSON result to this file")
    args = ap.parse_args()
    days = cp.BENCHMARK_DAYS
    res: dict[str, object] = {"n": args.n, "ref_n": args.ref_n, "loop_n": args.loop_n}

    pop = cp.benchmark_population(args.n)
    t = time.perf_counter()
    ref = cp.reference(pop, indices=range(args.ref_n))
    res["reference_s"] = time.perf_counter() - t
    print(f"reference ({args.ref_n} patients): {res['reference_s']:.1f} s", file=sys.stderr)

    vec_s, (vec, stats) = _best_of(3, lambda: solve_population(pop, days))
    res.update(vectorised_s=vec_s, vectorised_rtol=DEFAULT_RTOL, vectorised_atol=DEFAULT_ATOL,
               vectorised_steps=stats, vectorised_accuracy=cp.accuracy(vec[: args.ref_n], ref))
    print(f"vectorised ({args.n}): {vec_s:.3f} s {res['vectorised_accuracy']}", file=sys.stderr)

    loop_ids = range(min(args.loop_n, args.ref_n))
    t = time.perf_counter()
    loop = cp.reference(pop, rtol=LOOP_RTOL, atol=LOOP_ATOL, indices=loop_ids)
    per_patient = (time.perf_counter() - t) / len(loop_ids)
    res.update(loop_rtol=LOOP_RTOL, loop_atol=LOOP_ATOL, loop_ms_per_patient=1e3 * per_patient,
               loop_scaled_s=per_patient * args.n,
               loop_accuracy=cp.accuracy(loop, ref[: len(loop_ids)]))
    res["speedup_vectorised_vs_loop"] = per_patient * args.n / vec_s
    print(f"loop: {1e3 * per_patient:.2f} ms/patient -> {per_patient * args.n:.1f} s for "
          f"{args.n}; speed-up {res['speedup_vectorised_vs_loop']:.0f}x", file=sys.stderr)

    def stein() -> float:
        p = stein2019.sample_parameters(args.stein_n, np.random.default_rng(1))
        exposure = stein2019.exposure(p)
        curve = stein2019.concentration(p, [0.0, 7.0, 14.0, 28.0, 90.0])
        return float(exposure["cmax"].mean() + curve.mean())

    res["stein_closed_form_s"], _ = _best_of(3, stein)
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

    text = json.dumps(res, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
