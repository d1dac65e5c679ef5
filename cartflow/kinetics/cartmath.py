"""CARTmath (Barros et al. 2021): effector and memory CAR-T cells against a tumour, in mice.

Source: Barros LRC et al. 2021, Cancers 13(12):2941, doi:10.3390/cancers13122941; the code
defaults of tmglncc/CARTmath (``server.R``, ``rk4.R``) and its manual, as quoted in
../shared/reference/models.md section 3b. Cell counts, time in days. The paper's own table was
not read: agreement of these code defaults with it is UNCONFIRMED (models.md 3b).

    dC_T/dt = (phi - rho) C_T + theta T C_M - alpha T C_T
    dC_M/dt = epsilon C_T - theta T C_M - mu C_M
    dT/dt   = r T (1 - b T) - gamma T C_T

State order everywhere: (C_T effector, C_M memory, T tumour). Doses add cells instantly.

Extinction: a population that falls below one cell is extinct and set to zero, in every solver
(the reference below, the vectorised solver and the JAX backend): a state that was at least one
cell at the start of a step and is below one at its end becomes exactly zero; the equations
keep a zero tumour at zero, and so a zero effector pool once the tumour is gone. (CARTmath's
own RK4 zeroes states below 1e-6 instead: a fraction of a cell has no meaning, so we use one.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from cartflow.kinetics.errors import KineticsError

EXTINCTION_CELLS = 1.0
STATE_NAMES = ("effector", "memory", "tumour")


@dataclass(frozen=True)
class CartmathParameters:
    """Rates of one cell line; each may be a scalar or an array (one value per patient)."""

    phi: float  # CAR-T proliferation, ln2/t_c, 1/day
    rho: float  # effector reduction (death + differentiation), 1/day
    alpha: float  # tumour-induced inhibition of effectors, 1/(cell day)
    epsilon: float  # conversion to memory, 1/day
    mu: float  # memory death, 1/day
    theta: float  # memory back to effector on antigen contact, 1/(cell day)
    r: float  # tumour growth, ln2/t_d, 1/day
    b: float  # 1 / tumour carrying capacity, 1/cell
    gamma: float  # kill, 1/(cell day)

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


# server.R defaults (models.md section 3b). CARTmath's RK4 step: 1e-3 day (HDLM-2), 1e-5 (RAJI).
HDLM2 = CartmathParameters(phi=0.265, rho=0.35, alpha=4.5e-8, epsilon=0.15, mu=5.0e-3,
                           theta=6.0e-6, r=5.650026e-2, b=1.404029e-12, gamma=3.715843e-6)
RAJI = CartmathParameters(phi=0.83, rho=0.8300536, alpha=1.248506e-8, epsilon=1.59795,
                          mu=6.89e-7, theta=2.3e-4, r=0.5071721, b=0.0, gamma=3.365388e-8)
CELL_LINES = {"hdlm2": HDLM2, "raji": RAJI}


@dataclass(frozen=True)
class Dose:
    """Cells added at ``day``: CAR-T effectors and/or tumour cells (a rechallenge)."""

    day: float
    effector: float = 0.0
    tumour: float = 0.0


@dataclass(frozen=True)
class Schedule:
    """Initial state and doses (models.md 3b, from the CARTmath manual)."""

    initial: tuple[float, float, float]
    doses: tuple[Dose, ...]
    description: str


SCHEDULES = {
    # HDLM-2: 2e6 tumour cells at day 0, 1.5e6 CAR-T123 on day 42 (manual, Fig 4a).
    "hdlm2": Schedule((0.0, 0.0, 2e6), (Dose(42.0, effector=1.5e6),),
                      "HDLM-2: tumour 2e6 at day 0, CAR-T 1.5e6 on day 42 (Fig 4a)"),
    "hdlm2-fig3a": Schedule((0.0, 0.0, 2e6), (Dose(42.0, effector=2e6),),
                            "HDLM-2: tumour 2e6 at day 0, CAR-T 2e6 on day 42 (Fig 3a)"),
    "hdlm2-rechallenge": Schedule(
        (0.0, 0.0, 2e6), (Dose(42.0, effector=2e6), Dose(250.0, tumour=1e6)),
        "HDLM-2: as Fig 3a, 2e6 CAR-T on day 42, then 1e6 tumour cells again on day 250"),
    "hdlm2-fractionated": Schedule(
        (0.0, 0.0, 2e6), tuple(Dose(d, effector=5e5) for d in (42.0, 49.0, 56.0, 63.0)),
        "HDLM-2: 4 doses of 5e5 CAR-T on days 42, 49, 56, 63"),
    # RAJI: 3e6 tumour cells at day 0, 1e7 CAR-T19 on day 7 (manual).
    "raji": Schedule((0.0, 0.0, 3e6), (Dose(7.0, effector=1e7),),
                     "RAJI: tumour 3e6 at day 0, CAR-T 1e7 on day 7"),
}


def cell_line(name: str) -> CartmathParameters:
    try:
        return CELL_LINES[name.lower()]
    except KeyError:
        raise KineticsError(
            f"unknown cell line {name!r}; accepted: {', '.join(CELL_LINES)}"
        ) from None


def rhs(y: NDArray[np.float64], p: CartmathParameters) -> NDArray[np.float64]:
    """dy/dt for states ``y[..., 3]`` (any leading shape; parameters broadcast)."""
    c, m, t = y[..., 0], y[..., 1], y[..., 2]
    dc = (p.phi - p.rho) * c + p.theta * t * m - p.alpha * t * c
    dm = p.epsilon * c - p.theta * t * m - p.mu * m
    dt = p.r * t * (1.0 - p.b * t) - p.gamma * t * c
    return np.stack([dc, dm, dt], axis=-1)


def jacobian(y: NDArray[np.float64], p: CartmathParameters) -> NDArray[np.float64]:
    """d(rhs)/dy, shape y.shape + (3,)."""
    c, m, t = y[..., 0], y[..., 1], y[..., 2]
    z = np.zeros_like(c)
    rows = [
        [p.phi - p.rho - p.alpha * t + z, p.theta * t + z, p.theta * m - p.alpha * c],
        [p.epsilon + z, -p.theta * t - p.mu + z, -p.theta * m],
        [-p.gamma * t, z, p.r * (1.0 - 2.0 * p.b * t) - p.gamma * c],
    ]
    return np.stack([np.stack(row, axis=-1) for row in rows], axis=-2)


def check_days(days: ArrayLike) -> NDArray[np.float64]:
    d = np.asarray(days, dtype=float).reshape(-1)
    if d.size == 0:
        raise KineticsError("give at least one output day")
    if np.any(~np.isfinite(d)) or np.any(d < 0):
        raise KineticsError("days must be numbers, zero or later")
    if np.any(np.diff(d) <= 0):
        raise KineticsError("days must be strictly increasing")
    return d


class _Extinction:
    """The downward crossing of one cell by state ``i``: a terminal event for solve_ivp."""

    terminal = True  # solve_ivp reads these two off the event function
    direction = -1.0

    def __init__(self, i: int) -> None:
        self.i = i

    def __call__(self, _t: float, yy: NDArray[np.float64]) -> float:
        return float(yy[self.i]) - EXTINCTION_CELLS


def scalar_system(p: CartmathParameters) -> tuple[
        Callable[[float, NDArray[np.float64]], list[float]],
        Callable[[float, NDArray[np.float64]], list[list[float]]]]:
    """The right-hand side and Jacobian of one patient, in plain float arithmetic.

    For one patient of three states, numpy's per-call cost (building arrays with np.stack)
    outweighs the arithmetic: these scalar versions make an LSODA loop about twice as fast,
    which is what a fair per-patient baseline has to use.
    """
    phi, rho, alpha, eps, mu, theta, r, b, gamma = (
        float(v) for v in (p.phi, p.rho, p.alpha, p.epsilon, p.mu, p.theta, p.r, p.b, p.gamma))
    a = phi - rho

    def f(_t: float, yy: NDArray[np.float64]) -> list[float]:
        c, m, tu = yy.tolist()
        return [a * c + theta * tu * m - alpha * tu * c,
                eps * c - theta * tu * m - mu * m,
                r * tu * (1.0 - b * tu) - gamma * tu * c]

    def jac(_t: float, yy: NDArray[np.float64]) -> list[list[float]]:
        c, m, tu = yy.tolist()
        return [[a - alpha * tu, theta * tu, theta * m - alpha * c],
                [eps, -theta * tu - mu, -theta * m],
                [-gamma * tu, 0.0, r * (1.0 - 2.0 * b * tu) - gamma * c]]

    return f, jac


def solve_reference(
    p: CartmathParameters,
    initial: ArrayLike,
    days: ArrayLike,
    doses: tuple[Dose, ...] = (),
    *,
    rtol: float = 1e-10,
    atol: float = 1e-8,
    method: Literal["LSODA", "BDF", "Radau"] = "LSODA",
) -> NDArray[np.float64]:
    """One patient with scipy's ``solve_ivp``; states on ``days`` (len(days) x 3).

    Each extinction is located as an event (the state crossing one cell downwards), the state
    is set to zero and the integration restarts there. Doses split the integration too. The
    value on a dose day includes that dose.
    """
    from scipy.integrate import solve_ivp

    grid = check_days(days)
    out = np.full((grid.size, 3), np.nan)
    y = np.asarray(initial, dtype=float).copy()
    t0 = 0.0
    pending = sorted(doses, key=lambda d: d.day)
    for dose in [d for d in pending if d.day <= t0]:
        y += (dose.effector, 0.0, dose.tumour)
    pending = [d for d in pending if d.day > t0]
    end = float(grid[-1])
    events = [_Extinction(i) for i in range(3)]
    f, jac = scalar_system(p)

    if grid[0] == t0:
        out[0] = y
    while t0 < end:
        t1 = min(pending[0].day, end) if pending else end
        # Ask for the segment's end too, so the state there is known exactly.
        t_eval = np.union1d(grid[(grid > t0) & (grid <= t1)], [t1])
        sol = solve_ivp(f, (t0, t1), y, method=method, t_eval=t_eval, events=events,
                        rtol=rtol, atol=atol, jac=jac)
        if sol.status < 0:
            raise KineticsError(f"the reference solver failed: {sol.message}")
        on_grid = np.isin(sol.t, grid)
        out[np.searchsorted(grid, sol.t[on_grid])] = sol.y.T[on_grid]
        if sol.status == 1:  # an extinction: zero the state that fell, restart at that time
            i = next(k for k, te in enumerate(sol.t_events or []) if te.size)
            t0 = float(sol.t_events[i][0]) if sol.t_events else t1
            y = np.array(sol.y_events[i][0] if sol.y_events else sol.y[:, -1], dtype=float)
            y[i] = 0.0
            continue
        t0, y = t1, sol.y[:, -1].copy()
        while pending and pending[0].day <= t0:
            dose = pending.pop(0)
            y = y + np.array([dose.effector, 0.0, dose.tumour])
        at_t0 = np.nonzero(grid == t0)[0]
        if at_t0.size:
            out[at_t0[0]] = y
    return out
