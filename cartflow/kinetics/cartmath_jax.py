"""Optional accelerated backend: the vectorised Rosenbrock solver in JAX (CPU or GPU).

Needs the ``jax`` extra (``pip install 'cartflow[jax]'``); nothing else in cartflow imports
this module. It runs the very arithmetic of cartflow.kinetics.rosenbrock (the step is written
against an array namespace), with the same extinction rule and the same exact linear phase
once the tumour is extinct. On an accelerator all patients step together inside one
``lax.while_loop``; each keeps its own step size, and a finished patient is masked.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import NDArray

from cartflow.kinetics.rosenbrock import (
    DEFAULT_ATOL,
    DEFAULT_RTOL,
    Population,
    extinguish,
    linear_phase,
    next_step,
    rosenbrock_step,
)

jax.config.update("jax_enable_x64", True)


@partial(jax.jit, static_argnames=("max_iterations",))
def _segment(params: dict[str, Any], y0: Any, t0: Any, grid: Any, rtol: Any, atol: Any,
             h0: Any, max_iterations: int = 100_000) -> tuple[Any, Any]:
    """All patients from ``t0`` to each day of ``grid`` in turn (a scan over the days).

    Within a day a ``while_loop`` steps the patients that still have a tumour until all have
    landed on that day; the others follow the exact linear phase. Only O(n) state is carried,
    and the outputs are stacked by the scan, never scattered into a large buffer.
    """
    n = y0.shape[0]
    linear_ok = jnp.all(params["epsilon"] >= params["mu"])
    lin0 = (y0[:, 2] == 0.0) & linear_ok
    carry0 = {"t": jnp.full(n, t0), "y": y0, "h": jnp.full(n, h0), "lin": lin0,
              "t_sw": jnp.full(n, t0), "y_sw": y0, "it": jnp.array(0)}

    def day(carry: dict[str, Any], target: Any) -> tuple[dict[str, Any], Any]:
        def cond(s: dict[str, Any]) -> Any:
            return jnp.any(~s["lin"] & (s["t"] < target)) & (s["it"] < max_iterations)

        def body(s: dict[str, Any]) -> dict[str, Any]:
            done = s["lin"] | (s["t"] >= target)
            step = jnp.minimum(s["h"], target - s["t"])
            step = jnp.where(done | (step <= 0.0), 1.0, step)  # masked lanes: a finite step
            clipped = step < s["h"]
            y = s["y"]
            y_new, err = rosenbrock_step(jnp, (y[:, 0], y[:, 1], y[:, 2]), step, params,
                                         rtol, atol)
            y_new = extinguish(jnp, y, jnp.stack(y_new, axis=1))
            ok = (err <= 1.0) & ~done
            y = jnp.where(ok[:, None], y_new, y)
            t = jnp.where(ok, jnp.where(clipped, target, s["t"] + step), s["t"])
            h_next = next_step(jnp, step, err)
            h = jnp.where(done, s["h"],
                          jnp.where(ok & clipped, jnp.maximum(h_next, s["h"]), h_next))
            gone = ok & (y[:, 2] == 0.0) & linear_ok
            return {"t": t, "y": y, "h": h, "lin": s["lin"] | gone,
                    "t_sw": jnp.where(gone, t, s["t_sw"]),
                    "y_sw": jnp.where(gone[:, None], y, s["y_sw"]), "it": s["it"] + 1}

        s = jax.lax.while_loop(cond, body, carry)
        ysw = s["y_sw"]
        exact = linear_phase(jnp, jnp.maximum(target - s["t_sw"], 0.0),
                             (ysw[:, 0], ysw[:, 1], ysw[:, 2]), params)
        return s, jnp.where(s["lin"][:, None], exact, s["y"])

    final, ys = jax.lax.scan(day, carry0, grid)
    return jnp.swapaxes(ys, 0, 1), final["it"]


def solve_population_jax(
    pop: Population,
    days: NDArray[np.float64],
    *,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    h0: float = 1e-3,
    chunk: int = 250_000,
    keep_rows: int | None = None,
) -> tuple[NDArray[np.float64], dict[str, int]]:
    """Like rosenbrock.solve_population (no doses after day 0), on the default JAX device.

    Patients go in chunks of ``chunk`` (each chunk the same shape, so one compilation).
    With ``keep_rows`` only the first ``keep_rows`` patients are copied back to the host (the
    others are computed and waited for on the device): a benchmark then times the solver, not
    the transfer of gigabytes of results.
    """
    grid = np.asarray(days, dtype=float)
    grid_in = np.concatenate([[0.0], grid]) if grid[0] != 0.0 else grid
    outs = []
    iterations = 0
    n = pop.n
    size = min(chunk, n)
    for start in range(0, n, size):
        stop = min(start + size, n)
        pad = size - (stop - start)
        params = {k: jnp.asarray(np.pad(v[start:stop], (0, pad), mode="edge"))
                  for k, v in pop.params.items()}
        y0 = jnp.asarray(np.pad(pop.initial[start:stop], ((0, pad), (0, 0)), mode="edge"))
        out, it = _segment(params, y0, 0.0, jnp.asarray(grid_in[1:]), rtol, atol, h0)
        out.block_until_ready()
        if keep_rows is not None and start >= keep_rows:
            iterations = max(iterations, int(it))
            continue
        rows = stop - start if keep_rows is None else min(stop - start, keep_rows - start)
        host = np.asarray(out[:rows])
        outs.append(np.concatenate([pop.initial[start:start + rows][:, None, :], host], axis=1))
        iterations = max(iterations, int(it))
    full = np.concatenate(outs)
    if grid[0] != 0.0:
        full = full[:, 1:]
    return full, {"iterations": iterations}
