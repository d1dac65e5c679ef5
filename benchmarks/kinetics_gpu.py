"""CARTmath population on an accelerator: our JAX Rosenbrock backend beside diffrax Kvaerno5.

Both solve the same patients (the benchmark population of cartflow.kinetics.cartmath_population)
in the same run, jit-compiled, float64; diffrax at rtol 1e-6 (atol 1e-3 cells) with jit + vmap;
both are checked against the LSODA rtol 1e-10 reference on the first ``--ref-n`` patients with
|a - b| <= 1e-4 |b| + 1 cell on the daily grid, all states. Compilation is timed apart (a
warm-up call on one chunk) and excluded from the solve times.

    PYTHONPATH=. python benchmarks/kinetics_gpu.py --n 1000000      # on the GPU machine
    PYTHONPATH=. python benchmarks/kinetics_gpu.py --n 2000 --ref-n 50 --chunk 1000   # CPU check

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
    controller = diffrax.PIDController(rtol=rtol, atol=atol)
    ts = jnp.asarray(days)

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
    ap.add_argument("--diffrax-rtol", type=float, default=1e-6)
    ap.add_argument("--diffrax-atol", type=float, default=1e-3)
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
                                 "jax": jax.__version__, "reference_s": reference_s}
    days = cp.BENCHMARK_DAYS
    pop = cp.benchmark_population(args.n)

    # Ours: compile on one chunk, then time the whole population.
    chunk = min(args.chunk, args.n)
    warm = cp.benchmark_population(chunk)
    t = time.perf_counter()
    solve_population_jax(warm, days, chunk=chunk)
    result["ours_compile_and_first_chunk_s"] = time.perf_counter() - t
    t = time.perf_counter()
    ours, stats = solve_population_jax(pop, days, chunk=chunk, keep_rows=args.ref_n)
    result["ours_s"] = time.perf_counter() - t
    result["ours_iterations"] = stats["iterations"]
    result["ours_accuracy"] = cp.accuracy(ours[: args.ref_n], ref)
    del ours
    print(f"ours: {result['ours_s']:.2f} s {result['ours_accuracy']}", file=sys.stderr,
          flush=True)

    if not args.skip_diffrax:
        solve = diffrax_solver(days, args.diffrax_rtol, args.diffrax_atol, args.max_steps)

        def run(lo: int, hi: int):
            size = hi - lo
            pad = chunk - size
            p = {k: jnp.asarray(np.pad(v[lo:hi], (0, pad), mode="edge"))
                 for k, v in pop.params.items()}
            y0 = jnp.asarray(np.pad(pop.initial[lo:hi], ((0, pad), (0, 0)), mode="edge"))
            ys, steps, res = solve(p, y0)
            ys.block_until_ready()
            # Only the rows checked against the reference come back to the host, as for ours.
            keep = max(0, min(size, args.ref_n - lo))
            return np.asarray(ys[:keep]), np.asarray(steps)[:size], np.asarray(res)[:size]

        t = time.perf_counter()
        run(0, chunk)
        result["diffrax_compile_and_first_chunk_s"] = time.perf_counter() - t
        t = time.perf_counter()
        first = None
        steps_max = 0
        failed = 0
        for lo in range(0, args.n, chunk):
            ys, steps, res = run(lo, min(lo + chunk, args.n))
            if first is None:
                first = ys[: args.ref_n]
            steps_max = max(steps_max, int(steps.max()))
            failed += int(np.sum(res != 0))
        result["diffrax_s"] = time.perf_counter() - t
        result["diffrax_max_steps_taken"] = steps_max
        result["diffrax_failed_patients"] = failed
        result["diffrax_accuracy"] = cp.accuracy(first, ref)
        result["speedup_ours_vs_diffrax"] = result["diffrax_s"] / result["ours_s"]
        print(f"diffrax: {result['diffrax_s']:.2f} s {result['diffrax_accuracy']}",
              file=sys.stderr, flush=True)

    text = json.dumps(result, indent=2)
    print(text)
    if os.environ.get("OUT"):
        with open(os.path.join(os.environ["OUT"], "kinetics_gpu.json"), "w") as fh:
            fh.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
