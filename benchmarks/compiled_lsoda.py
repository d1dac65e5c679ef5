"""A compiled per-patient baseline: LSODA from numbalsoda, driven by numba, with extinctions.

Needs the ``bench`` extra (``pip install 'cartflow[bench]'``: numbalsoda and numba; numbalsoda
has no wheel for every platform and then builds from source with a Fortran compiler).

The right-hand side is a numba ``cfunc`` that LSODA (ODEPACK's C translation) calls directly,
and the loop over patients and output days is numba-compiled too, so no Python runs between
steps. LSODA has no event location here, and without it the baseline fails the accuracy test
(a tumour of a fraction of a cell regrows), so the driver applies the extinction rule of every
cartflow solver: after each output day it checks whether a state that was at least one cell
fell below one; if one did, it narrows the crossing to 1/32^3 of a day (three passes of 32
sub-intervals, each one LSODA call from the last point above), zeroes that state there and
restarts LSODA from that point. The restart costs LSODA a new start-up, which solve_ivp's
event location (a root of the dense output) does not need; it happens once or twice a patient.
"""

from __future__ import annotations

import ctypes
import os
import sys
import tempfile
from typing import Any

import numba as nb
import numpy as np
from numbalsoda import lsoda, lsoda_sig

from cartflow.kinetics.rosenbrock import Population

PARAMETER_ORDER = ("phi", "rho", "alpha", "epsilon", "mu", "theta", "r", "b", "gamma")
_SUBDIVISIONS = 32
_LIBC = ctypes.CDLL(None)
_PASSES = 3


@nb.cfunc(lsoda_sig)
def _rhs(_t, y, dy, p):
    c, m, tu = y[0], y[1], y[2]
    phi, rho, alpha, eps, mu, theta, r, b, gamma = (p[0], p[1], p[2], p[3], p[4], p[5], p[6],
                                                    p[7], p[8])
    dy[0] = (phi - rho) * c + theta * tu * m - alpha * tu * c
    dy[1] = eps * c - theta * tu * m - mu * m
    dy[2] = r * tu * (1.0 - b * tu) - gamma * tu * c


_RHS = _rhs.address


@nb.njit(cache=False)
def _fell(before, after):
    return ((before[0] >= 1.0 and after[0] < 1.0) or (before[1] >= 1.0 and after[1] < 1.0)
            or (before[2] >= 1.0 and after[2] < 1.0))


@nb.njit(cache=False)
def _one(y0, grid, p, rtol, atol):
    """One patient from day 0 on the output days ``grid``; (states, success)."""
    out = np.empty((grid.size, 3))
    y = y0.copy()
    t0 = 0.0
    k = 0
    if grid[0] == t0:
        out[0] = y
        k = 1
    while k < grid.size:
        t_eval = np.empty(grid.size - k + 1)
        t_eval[0] = t0
        t_eval[1:] = grid[k:]
        usol, ok = lsoda(_RHS, y, t_eval, data=p, rtol=rtol, atol=atol, mxstep=100_000)
        if not ok:
            return out, False
        prev = y.copy()
        hit = -1
        for j in range(1, t_eval.size):
            if _fell(prev, usol[j]):
                hit = j
                break
            out[k + j - 1] = usol[j]
            prev = usol[j].copy()
        if hit < 0:
            return out, True
        k += hit - 1
        # The crossing lies between t_eval[hit - 1] (state prev) and t_eval[hit]: narrow it.
        ta, ya, tb = t_eval[hit - 1], prev.copy(), t_eval[hit]
        yb = usol[hit].copy()
        for _ in range(_PASSES):
            sub = np.linspace(ta, tb, _SUBDIVISIONS + 1)
            us, ok = lsoda(_RHS, ya, sub, data=p, rtol=rtol, atol=atol, mxstep=100_000)
            if not ok:
                return out, False
            for j in range(1, sub.size):
                if _fell(us[j - 1], us[j]):
                    ta, ya, tb, yb = sub[j - 1], us[j - 1].copy(), sub[j], us[j].copy()
                    break
        for i in range(3):
            if ya[i] >= 1.0 and yb[i] < 1.0:
                yb[i] = 0.0
        t0, y = tb, yb
        if t0 == grid[k]:
            out[k] = y
            k += 1
    return out, True


@nb.njit(cache=False)
def _all(y0s, grid, params, rtol, atol):
    n = y0s.shape[0]
    out = np.empty((n, grid.size, 3))
    failed = 0
    for i in range(n):
        res, ok = _one(y0s[i], grid, params[i], rtol, atol)
        out[i] = res
        if not ok:
            failed += 1
    return out, failed


def solve_patients(pop: Population, days: Any, rtol: float, atol: float,
                   indices: range | None = None) -> tuple[np.ndarray, int, int]:
    """The patients of ``pop`` (or ``indices`` of them), one after another.

    Returns the states, the number of patients LSODA gave up on, and the number of warnings
    LSODA printed (it writes them to the process's standard output, which is captured here
    so that they are counted in the sweep rather than flooding it).
    """
    ids = np.arange(pop.n) if indices is None else np.asarray(indices)
    params = np.column_stack([np.broadcast_to(pop.params[k], (pop.n,))[ids]
                              for k in PARAMETER_ORDER])
    grid = np.asarray(days, dtype=float)
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            out, failed = _all(np.ascontiguousarray(pop.initial[ids]), grid,
                               np.ascontiguousarray(params), rtol, atol)
        finally:
            _LIBC.fflush(None)  # in case LSODA's C++ stream is buffered
            os.dup2(saved, 2)
            os.close(saved)
        sink.seek(0)
        warnings = sink.read().count(b"lsoda -- warning")
    return out, int(failed), warnings


def warm_up(pop: Population, days: Any) -> None:
    """Compile the driver (a first call) so that timings exclude compilation."""
    solve_patients(pop, days, 1e-6, 1e-3, range(1))
