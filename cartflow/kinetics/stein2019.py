"""Stein 2019 multiphasic cellular kinetics of tisagenlecleucel (r/r B-ALL, ages 3-25).

Source: Stein AM et al. 2019, CPT Pharmacometrics Syst Pharmacol 8(5):285-295,
doi:10.1002/psp4.12388, as quoted in ../shared/reference/models.md section 1 ([S1] nlmixr2lib,
[S2] its vignette, [S3] a blog re-implementation). Readout: qPCR transgene copies per microgram
of genomic DNA; time in days after infusion.

Exponential expansion at rate rho = ln(foldx)/Tmax from R0 = Cmax/foldx up to Tmax, then a fast
(alpha) and a slow (beta) decline with a fraction F_B in the slow phase. Everything here works on
arrays of patients (leading axis) so a population is one call.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

from cartflow.kinetics.errors import KineticsError

PARAMETER_NAMES = ("foldx", "tmax", "cmax", "alpha", "fb", "beta")
AUC_END_DAY = 28.0


@dataclass(frozen=True)
class Stein2019Parameters:
    """One patient's (or the typical patient's) structural parameters."""

    foldx: float  # fold expansion, R0 -> Cmax (unitless)
    tmax: float  # day of the peak
    cmax: float  # peak, copies/ug
    alpha: float  # fast contraction rate, 1/day
    fb: float  # fraction of the peak that enters the slow phase
    beta: float  # slow (persistence) rate, 1/day

    def as_array(self) -> NDArray[np.float64]:
        return np.array([getattr(self, name) for name in PARAMETER_NAMES], dtype=float)

    @classmethod
    def from_array(cls, values: ArrayLike) -> Stein2019Parameters:
        v = np.asarray(values, dtype=float).reshape(-1)
        return cls(**{name: float(x) for name, x in zip(PARAMETER_NAMES, v, strict=True)})

    def with_overrides(self, **changes: float | None) -> Stein2019Parameters:
        given = {k: float(v) for k, v in changes.items() if v is not None}
        unknown = set(given) - set(PARAMETER_NAMES)
        if unknown:
            raise KineticsError(
                f"unknown Stein 2019 parameter(s) {sorted(unknown)}; accepted: {PARAMETER_NAMES}"
            )
        for name, value in given.items():
            if not np.isfinite(value) or value <= 0:
                raise KineticsError(f"{name} must be a positive number, got {value}")
        if given.get("foldx", self.foldx) <= 1:
            raise KineticsError("foldx must be above 1 (the cells expand), got "
                                f"{given.get('foldx')}")
        if given.get("fb", self.fb) >= 1:
            raise KineticsError(f"fb is a fraction: it must lie in (0, 1), got {given.get('fb')}")
        return replace(self, **given)


# Table 1 typical values, final model = base model, no covariates (models.md section 1, [S1]/[S2]).
TYPICAL = Stein2019Parameters(foldx=3900.0, tmax=9.3, cmax=24000.0, alpha=0.16, fb=0.0079,
                              beta=0.0032)
# Table 1 omega-squared: VARIANCES of the log-normal inter-individual variability (Monolix
# omega^2, entered verbatim as variances by [S1] and [S3]), same order as PARAMETER_NAMES.
OMEGA_SQUARED = np.array([2.4, 0.38, 0.65, 0.91, 0.80, 0.86])
# Table 1 residual error "a": additive on the natural-log scale, used as a standard deviation
# (Monolix constant error model on log-transformed data) (models.md section 1, [S1]/[S2]).
RESIDUAL_SD_LOG = 0.56
# Table 1 comedication factors on rho from the first dose until Tmax ([S3] PML code). The paper
# found no effect on expansion, so nlmixr2lib leaves the branch out ([S2]); we keep it optional.
# The RSE column of Table 1 ([S3] only) is UNCONFIRMED against the paper; these estimates are not.
F_TOCILIZUMAB = 1.2
F_CORTICOSTEROID = 1.0


def _columns(params: ArrayLike) -> tuple[NDArray[np.float64], ...]:
    p = np.asarray(params, dtype=float)
    if p.shape[-1] != len(PARAMETER_NAMES):
        raise KineticsError(f"parameters need {len(PARAMETER_NAMES)} columns {PARAMETER_NAMES}")
    return tuple(p[..., i] for i in range(len(PARAMETER_NAMES)))


def _expansion(
    params: ArrayLike, factor: float, factor_day: float | None
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Rate, baseline and (comedication-adjusted) peak for each patient."""
    foldx, tmax, cmax, *_ = _columns(params)
    rho = np.log(foldx) / tmax
    r0 = cmax / foldx
    if factor_day is None or factor == 1.0:
        return rho, r0, cmax, tmax + 0.0 * rho
    # From the first comedication dose until Tmax rho is multiplied by the factor, so the peak
    # rises: Cmax' = R0 exp(rho t_d + F rho (Tmax - t_d)) ([S3]; with the parentheses the
    # blog's code line is missing, see models.md section 1).
    td = np.minimum(factor_day, tmax)
    peak = r0 * np.exp(rho * td + factor * rho * (tmax - td))
    return rho, r0, peak, td


def concentration(
    params: ArrayLike,
    days: ArrayLike,
    *,
    expansion_factor: float = 1.0,
    factor_day: float | None = None,
) -> NDArray[np.float64]:
    """Closed form C(t) in copies/ug ([S1]/[S2] supplement), shape params[..., None] x days.

    ``expansion_factor`` (F_TOCILIZUMAB or F_CORTICOSTEROID) multiplies rho from ``factor_day``
    until Tmax; by default there is no comedication.
    """
    _foldx, tmax, _cmax, alpha, fb, beta = _columns(params)
    t = np.asarray(days, dtype=float)
    rho, r0, peak, td = _expansion(params, expansion_factor, factor_day)
    e = (...,) + (None,) * t.ndim
    rho_, r0_, peak_, tmax_, td_ = rho[e], r0[e], peak[e], tmax[e], td[e]
    if factor_day is None or expansion_factor == 1.0:
        rising = r0_ * np.exp(rho_ * np.minimum(t, tmax_))
    else:
        tt = np.minimum(t, tmax_)
        rising = r0_ * np.exp(rho_ * np.minimum(tt, td_) + expansion_factor * rho_
                              * np.maximum(tt - td_, 0.0))
    after = np.maximum(t - tmax_, 0.0)
    falling = peak_ * ((1.0 - fb[e]) * np.exp(-alpha[e] * after) + fb[e] * np.exp(-beta[e] * after))
    return np.where(t < tmax_, rising, falling)


def exposure(params: ArrayLike, end_day: float = AUC_END_DAY) -> dict[str, NDArray[np.float64]]:
    """Cmax, Tmax and the exact AUC from day 0 to ``end_day`` (copies/ug x day) per patient."""
    foldx, tmax, cmax, alpha, fb, beta = _columns(params)
    rho = np.log(foldx) / tmax
    r0 = cmax / foldx
    t1 = np.minimum(end_day, tmax)
    auc_rise = r0 * np.expm1(rho * t1) / rho
    d = np.maximum(end_day - tmax, 0.0)
    fast = (1.0 - fb) * -np.expm1(-alpha * d) / alpha
    auc_fall = cmax * (fast + fb * -np.expm1(-beta * d) / beta)
    return {"cmax": cmax, "tmax": tmax, "auc": auc_rise + auc_fall}


def sample_parameters(n: int, rng: np.random.Generator,
                      typical: Stein2019Parameters = TYPICAL) -> NDArray[np.float64]:
    """``n`` patients with log-normal inter-individual variability: log p = log p_typ + eta.

    eta ~ N(0, omega^2) independently (Table 1 reports no correlations).
    """
    if n < 1:
        raise KineticsError(f"the number of patients must be at least 1, got {n}")
    eta: NDArray[np.float64] = (rng.standard_normal((n, len(PARAMETER_NAMES)))
                                * np.sqrt(OMEGA_SQUARED))
    return np.exp(np.log(typical.as_array()) + eta)


def add_residual_error(values: ArrayLike, rng: np.random.Generator) -> NDArray[np.float64]:
    """Observed values: log y = log C + e, e ~ N(0, a^2) with a = RESIDUAL_SD_LOG."""
    v = np.asarray(values, dtype=float)
    return v * np.exp(RESIDUAL_SD_LOG * rng.standard_normal(v.shape))


def concentration_ode(
    params: Stein2019Parameters, days: ArrayLike, *, rtol: float = 1e-10, atol: float = 1e-12
) -> NDArray[np.float64]:
    """The compartmental form (Stein Fig 2, [S2]) integrated numerically, for one patient.

    Before Tmax: dE/dt = rho E, M = 0, E(0) = R0. From Tmax: dE/dt = -alpha E and
    dM/dt = k E - beta M with k = F_B (alpha - beta). The observed value is E + M. The two
    pieces are integrated separately (split at Tmax) because the right-hand side jumps there.
    """
    from scipy.integrate import solve_ivp

    t = np.asarray(days, dtype=float)
    if np.any(t < 0):
        raise KineticsError("days must be zero or later")
    p = params
    rho = np.log(p.foldx) / p.tmax
    r0 = p.cmax / p.foldx
    k = p.fb * (p.alpha - p.beta)
    out = np.empty_like(t)
    before = t < p.tmax
    if np.any(before):
        sol = solve_ivp(lambda _t, y: rho * y, (0.0, p.tmax), [r0], t_eval=np.sort(t[before]),
                        rtol=rtol, atol=atol, method="LSODA")
        out[before] = np.interp(t[before], sol.t, sol.y[0])
    e_peak = r0 * np.exp(rho * p.tmax)  # exact end of the first piece, so the pieces join
    after = ~before
    if np.any(after):
        def rhs(_t: float, y: NDArray[np.float64]) -> list[float]:
            return [-p.alpha * y[0], k * y[0] - p.beta * y[1]]

        # The memory pool M starts at zero at Tmax and is fed by k E; E(Tmax) = Cmax, and
        # E + M then equals the closed form (checked by hand in models.md section 1).
        ts = np.sort(t[after])
        sol = solve_ivp(rhs, (p.tmax, max(ts[-1], p.tmax)), [e_peak, 0.0], t_eval=ts,
                        rtol=rtol, atol=atol, method="LSODA")
        out[after] = np.interp(t[after], sol.t, sol.y[0] + sol.y[1])
    return out
