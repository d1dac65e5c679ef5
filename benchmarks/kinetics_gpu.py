"""CARTmath population on an accelerator: our JAX Rosenbrock backend beside diffrax Kvaerno5.

Both solve the same patients (the benchmark population of cartflow.kinetics.cartmath_population)
in the same run, jit-compiled, float64, and both go through the same sweep as the CPU benchmark
(benchmarks/kinetics_sweep.py): rtol from 1e-3 down in half-decades, atol 1,000 x rtol cells,
on the first ``--ref-n`` patients against the LSODA rtol 1e-10 reference, |a - b| <= 1e-4 |b| +
1 cell on the daily grid, all states; each is timed on all ``--n`` patients at the loosest
tolerance that passes. Diffrax gets its strongest fair set-up: Kvaerno5 with the extinction
rule, jit + vmap, and a step landing on every output day
(``ClipStepSizeController(PIDController(rtol, atol), step_ts=days)``), so its days are step
ends, as ours are, not interpolated inside steps. Compilation is timed apart (a warm-up call on
one chunk) and excluded from the solve times.

    PYTHONPATH=. python3 benchmarks/kinetics_gpu.py --n 1000000 --chunk 1000000   # GPU machine
    PYTHONPATH=. python3 benchmarks/kinetics_gpu.py --n 2000 --ref-n 50 --chunk 1000  # CPU check

Writes the JSON result to ``$OUT/kinetics_gpu.json`` when $OUT is set, and prints it.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from kinetics_sweep import sweep


def _reference_chunk(args: tuple[int, int, int]) -> np.ndarray:
    n, start, stop = args
    from cartflow.kinetics import cartmath_population as cp

    pop = cp.benchmark_population(n)
    return cp.reference(pop, indices=range(start, stop))


def reference(n: int, ref_n: int, workers: int) -> np.ndarray:
    bounds = np.linspace(0, ref_n, workers + 1).astype(int)
    jobs = [(n, int(a), int(b)) for a, b in itertools.pairwise(bounds) if b > a]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return np.concatenate(list(pool.map(_reference_chunk, jobs)))


def diffrax_solver(days: np.ndarray, rtol: float, atol: float, max_steps: int):
    import diffrax
    import jax
    import jax.numpy as jnp

    class ExtinctionKvaerno5(diffrax.Kvaerno5):
        """Kvaerno5 with the extinction rule: a state that falls below one cell in an accepted
        step becomes zero (the same rule as every cartflow solver). The cached first stage
        (FSAL) is then stale, so the next step recomputes it."""

        def step(self, terms, t0, t1, y0, args, solver_state, made_jump):  # type: ignore[override]
            y1, y_error, dense_info, solver_state, result = super().step(
                terms, t0, t1, y0, args, solver_state, made_jump)
            fell = (y0 >= 1.0) & (y1 < 1.0)
            y1 = jnp.where(fell, 0.0, y1)
            dense_info = dict(dense_info, y1=y1)
            first_step, f1 = solver_state
            return y1, y_error, dense_info, (first_step | jnp.any(fell), f1), result

    def vector_field(_t, y, p):
        c, m, t = y[0], y[1], y[2]
        dc = (p["phi"] - p["rho"]) * c + p["theta"] * t * m - p["alpha"] * t * c
        dm = p["epsilon"] * c - p["theta"] * t * m - p["mu"] * m
        dt = p["r"] * t * (1.0 - p["b"] * t) - p["gamma"] * t * c
        return jnp.stack([dc, dm, dt])

    term = diffrax.ODETerm(vector_field)
    solver = ExtinctionKvaerno5()
    ts = jnp.asarray(days)
    # A step ends on every output day, as ours does, so no day is read by interpolation.
    if hasattr(diffrax, "ClipStepSizeController"):  # diffrax >= 0.7
        controller = diffrax.ClipStepSizeController(diffrax.PIDController(rtol=rtol, atol=atol),
                                                    step_ts=ts)
    else:
        controller = diffrax.PIDController(rtol=rtol, atol=atol, step_ts=ts)

    def one(p, y0):
        sol = diffrax.diffeqsolve(term, solver, t0=0.0, t1=float(days[-1]), dt0=1e-3, y0=y0,
                                  args=p, saveat=diffrax.SaveAt(ts=ts),
                                  stepsize_controller=controller, max_steps=max_steps,
                                  throw=False)
        return sol.ys, sol.stats["num_steps"], sol.result._value

    return jax.jit(jax.vmap(one))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--ref-n", type=int, default=1000)
    ap.add_argument("--chunk", type=int, default=250_000)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--max-steps", type=int, default=16_384)
    ap.add_argument("--skip-diffrax", action="store_true")
    args = ap.parse_args()

    from cartflow.kinetics import cartmath_population as cp

    # The reference first, in worker processes, before JAX starts its threads (fork-safe).
    t = time.perf_counter()
    ref = reference(args.n, args.ref_n, args.workers)
    reference_s = time.perf_counter() - t
    print(f"reference: {reference_s:.1f} s", file=sys.stderr, flush=True)

    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    from cartflow.kinetics.cartmath_jax import solve_population_jax

    result: dict[str, object] = {"n": args.n, "ref_n": args.ref_n, "chunk": args.chunk,
                                 "device": str(jax.devices()[0]),
                                 "jax": jax.__version__, "reference_s": reference_s,
                                 "ladder": list(cp.TOLERANCE_LADDER),
                                 "atol_cells_per_rtol": cp.ATOL_CELLS_PER_RTOL}
    days = cp.BENCHMARK_DAYS
    pop = cp.benchmark_population(args.n)
    ref_pop = cp.subset(pop, args.ref_n)
    chunk = min(args.chunk, args.n)

    # Ours: the sweep (one compilation for the reference chunk; rtol and atol are traced, so
    # the sweep does not recompile), then compile the timing chunk and time the population.
    ours = sweep("ours: JAX Rosenbrock",
                 lambda rtol, atol: solve_population_jax(ref_pop, days, rtol=rtol, atol=atol,
                                                         chunk=args.ref_n)[0], ref)
    if ours["chosen"]:
        c = ours["chosen"]
        t = time.perf_counter()
        solve_population_jax(cp.subset(pop, chunk), days, rtol=c["rtol"], atol=c["atol"],
                             chunk=chunk)
        result["ours_compile_and_first_chunk_s"] = time.perf_counter() - t
        t = time.perf_counter()
        out, stats = solve_population_jax(pop, days, rtol=c["rtol"], atol=c["atol"],
                                          chunk=chunk, keep_rows=args.ref_n)
        ours["time_s"] = time.perf_counter() - t
        ours["iterations"] = stats["iterations"]
        ours["accuracy_in_timed_run"] = cp.accuracy(out[: args.ref_n], ref)
        del out
        print(f"ours at rtol {c['rtol']:.0e}, {args.n} patients: {ours['time_s']:.3f} s",
              file=sys.stderr, flush=True)
    solvers = [ours]

    if not args.skip_diffrax:
        counters: dict[str, int] = {}

        def chunk_inputs(lo: int, hi: int, size: int):
            pad = size - (hi - lo)
            p = {k: jnp.asarray(np.pad(v[lo:hi], (0, pad), mode="edge"))
                 for k, v in pop.params.items()}
            y0 = jnp.asarray(np.pad(pop.initial[lo:hi], ((0, pad), (0, 0)), mode="edge"))
            return p, y0

        def run_all(solve, stop: int, size: int, keep: int):
            """Patients 0..stop in chunks of ``size``; only the first ``keep`` rows come back to
            the host (as for ours), with the step counts and failures."""
            first, steps_max, failed = None, 0, 0
            for lo in range(0, stop, size):
                hi = min(lo + size, stop)
                ys, steps, res = solve(*chunk_inputs(lo, hi, size))
                ys.block_until_ready()
                if first is None:
                    first = np.asarray(ys[: min(keep, hi - lo)])
                steps_max = max(steps_max, int(np.asarray(steps)[: hi - lo].max()))
                failed += int(np.sum(np.asarray(res)[: hi - lo] != 0))
            counters.update(max_steps_taken=steps_max, failed_patients=failed)
            return first

        d = sweep("baseline: diffrax Kvaerno5 (jit + vmap, a step on every day)",
                  lambda rtol, atol: run_all(diffrax_solver(days, rtol, atol, args.max_steps),
                                             args.ref_n, args.ref_n, args.ref_n),
                  ref, extra=lambda: dict(counters))
        if d["chosen"]:
            c = d["chosen"]
            solve = diffrax_solver(days, c["rtol"], c["atol"], args.max_steps)
            t = time.perf_counter()
            solve(*chunk_inputs(0, chunk, chunk))[0].block_until_ready()
            d["compile_and_first_chunk_s"] = time.perf_counter() - t
            t = time.perf_counter()
            run_all(solve, args.n, chunk, 0)
            d["time_s"] = time.perf_counter() - t
            d.update(counters)
            print(f"diffrax at rtol {c['rtol']:.0e}, {args.n} patients: {d['time_s']:.3f} s",
                  file=sys.stderr, flush=True)
        solvers.append(d)

    result["solvers"] = solvers
    if "time_s" in ours:
        for s in solvers:
            if "time_s" in s:
                s["ratio_to_ours"] = s["time_s"] / ours["time_s"]
        passing = [s for s in solvers[1:] if "time_s" in s]
        if passing:
            strongest = min(passing, key=lambda s: s["time_s"])
            result["strongest_baseline"] = strongest["name"]
            result["speedup_vs_strongest_baseline"] = strongest["time_s"] / ours["time_s"]
            print(f"ours against the strongest passing baseline ({strongest['name']}): "
                  f"{result['speedup_vs_strongest_baseline']:.2f}x", file=sys.stderr)

    text = json.dumps(result, indent=2)
    print(text)
    if os.environ.get("OUT"):
        with open(os.path.join(os.environ["OUT"], "kinetics_gpu.json"), "w") as fh:
            fh.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
