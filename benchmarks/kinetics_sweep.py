"""The "loosest tolerance that passes" sweep that every kinetics benchmark solver goes through.

Each solver is run on the same reference patients at each rtol of
cartflow.kinetics.cartmath_population.TOLERANCE_LADDER (atol = 1,000 x rtol cells), loosest
first, and judged by the same criterion (|a - b| <= 1e-4 |b| + 1 cell, all states, every day);
the first that passes is the set-up that solver is timed at.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from cartflow.kinetics import cartmath_population as cp


def sweep(name: str, solve: Callable[[float, float], np.ndarray], ref: np.ndarray,
          extra: Callable[[], dict[str, Any]] | None = None) -> dict[str, Any]:
    """Rows of (rtol, atol, failures, worst ratio, seconds) and the chosen (loosest passing) row.

    ``extra`` is read after each run for solver-specific counters (failed patients, warnings).
    """
    rows: list[dict[str, Any]] = []
    chosen = None
    print(f"\n{name}: sweep on {ref.shape[0]} reference patients", file=sys.stderr)
    print(f"  {'rtol':>7} {'atol':>7} {'failures':>9} {'worst ratio':>12} {'seconds':>8}",
          file=sys.stderr)
    for rtol in cp.TOLERANCE_LADDER:
        atol = rtol * cp.ATOL_CELLS_PER_RTOL
        t = time.perf_counter()
        out = solve(rtol, atol)
        seconds = time.perf_counter() - t
        acc = cp.accuracy(out, ref)
        row = {"rtol": rtol, "atol": atol, "failures": acc["failures"],
               "worst_ratio": acc["worst_ratio"], "passes": acc["passes"], "seconds": seconds,
               **(extra() if extra else {})}
        rows.append(row)
        flag = "  <- loosest that passes" if acc["passes"] else ""
        more = "".join(f" {k}={v}" for k, v in row.items()
                       if k not in ("rtol", "atol", "failures", "worst_ratio", "passes",
                                    "seconds"))
        print(f"  {rtol:>7.0e} {atol:>7.0e} {acc['failures']:>9d} "
              f"{acc['worst_ratio']:>12.3g} {seconds:>8.2f}{more}{flag}", file=sys.stderr,
              flush=True)
        if acc["passes"]:
            chosen = row
            break
    return {"name": name, "sweep": rows, "chosen": chosen}


def best_of(k: int, func: Callable[[], Any]) -> tuple[float, Any]:
    best, value = np.inf, None
    for _ in range(k):
        t = time.perf_counter()
        value = func()
        best = min(best, time.perf_counter() - t)
    return float(best), value
