"""Maximum-a-posteriori fit of one patient to the Stein 2019 model, the population as prior.

Unknowns are the six log-parameters u = log(foldx, Tmax, Cmax, alpha, F_B, beta) with prior
N(log typical, omega^2) (Table 1). Observations enter on the log scale with the residual SD
a = 0.56; a censored value (below the LLOQ) contributes P(log y < log LLOQ) = Phi((log LLOQ -
log C)/a), never a number. Uncertainty is the Laplace approximation at the mode, with the
Gauss-Newton Hessian (always positive definite, and stable at the kink at Tmax where the exact
Hessian jumps). No comedication factor is fitted: Stein found none changed expansion.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import log_ndtr, ndtr, ndtri

from cartflow.kinetics import stein2019 as stein
from cartflow.kinetics.observations import Observations

PRIOR_MEAN = np.log(stein.TYPICAL.as_array())
PRIOR_PRECISION = 1.0 / stein.OMEGA_SQUARED
POOR_EXPANSION_PERCENTILE = 10.0
_LOG_2PI_HALF = float(0.5 * np.log(2.0 * np.pi))


def log_concentration_and_jacobian(
    u: NDArray[np.float64], days: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """log C(t) for log-parameters ``u`` and its exact derivative (len(days) x 6)."""
    lf, lt, lc, la, lfb, lb = u
    tmax, alpha, fb, beta = np.exp(lt), np.exp(la), np.exp(lfb), np.exp(lb)
    t = days
    jac = np.zeros((t.size, 6))
    before = t < tmax
    # Before the peak: log C = log Cmax + log(foldx) (t/Tmax - 1).
    tb = t[before]
    logc_before = lc + lf * (tb / tmax - 1.0)
    jac[before, 0] = tb / tmax - 1.0
    jac[before, 1] = -lf * tb / tmax
    jac[before, 2] = 1.0
    # After: log C = log Cmax + log g, g = (1-F_B) e^{-alpha s} + F_B e^{-beta s}, s = t - Tmax.
    s = t[~before] - tmax
    fast = (1.0 - fb) * np.exp(-alpha * s)
    slow = fb * np.exp(-beta * s)
    g = fast + slow
    logc_after = lc + np.log(g)
    jac[~before, 1] = tmax * (alpha * fast + beta * slow) / g
    jac[~before, 2] = 1.0
    jac[~before, 3] = -alpha * s * fast / g
    jac[~before, 4] = fb * (np.exp(-beta * s) - np.exp(-alpha * s)) / g
    jac[~before, 5] = -beta * s * slow / g
    logc = np.empty(t.size)
    logc[before] = logc_before
    logc[~before] = logc_after
    return logc, jac


def _inverse_mills(z: NDArray[np.float64]) -> NDArray[np.float64]:
    """phi(z)/Phi(z), computed on the log scale so it stays finite far in the tail."""
    log_cdf: NDArray[np.float64] = log_ndtr(z)
    return np.exp(-0.5 * z * z - _LOG_2PI_HALF - log_cdf)


class _Posterior:
    def __init__(self, obs: Observations, residual_sd: float) -> None:
        self.days = obs.days
        self.logy = np.log(obs.values)
        self.cens = obs.censored
        self.a = residual_sd

    def value_and_grad(self, u: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        m, jac = log_concentration_and_jacobian(u, self.days)
        a, c = self.a, self.cens
        resid = self.logy - m
        du = u - PRIOR_MEAN
        value = 0.5 * np.sum(resid[~c] ** 2) / a**2 + 0.5 * np.sum(PRIOR_PRECISION * du**2)
        dm = np.where(c, 0.0, -resid / a**2)
        if np.any(c):
            z = resid[c] / a
            value -= np.sum(log_ndtr(z))
            dm[c] = _inverse_mills(z) / a
        return float(value), jac.T @ dm + PRIOR_PRECISION * du

    def gauss_newton_hessian(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        return self.evaluate(u)[2]

    def evaluate(self, u: NDArray[np.float64]
                 ) -> tuple[float, NDArray[np.float64], NDArray[np.float64]]:
        """Value, gradient and Gauss-Newton Hessian in one pass over the model."""
        m, jac = log_concentration_and_jacobian(u, self.days)
        a, c = self.a, self.cens
        resid = self.logy - m
        du = u - PRIOR_MEAN
        value = 0.5 * np.sum(resid[~c] ** 2) / a**2 + 0.5 * np.sum(PRIOR_PRECISION * du**2)
        dm = np.where(c, 0.0, -resid / a**2)
        w = np.full(m.size, 1.0 / a**2)
        if np.any(c):
            z = resid[c] / a
            lam = _inverse_mills(z)
            value -= np.sum(log_ndtr(z))
            dm[c] = lam / a
            w[c] = lam * (lam + z) / a**2  # exact curvature of -log Phi in m
        hess = (jac.T * w) @ jac
        hess[np.diag_indices(6)] += PRIOR_PRECISION
        return float(value), jac.T @ dm + PRIOR_PRECISION * du, hess


def _bounds() -> NDArray[np.float64]:
    """Eight prior SDs either side, foldx above 1 and F_B below 1, so C(t) stays defined."""
    sd = np.sqrt(stein.OMEGA_SQUARED)
    b = np.column_stack([PRIOR_MEAN - 8.0 * sd, PRIOR_MEAN + 8.0 * sd])
    b[0, 0] = max(b[0, 0], np.log(1.001))
    b[4, 1] = min(b[4, 1], np.log(0.999))
    return b


_BOUNDS = _bounds()


def _starts(obs: Observations) -> list[NDArray[np.float64]]:
    """The typical patient, and peaks at and beside the highest measured value.

    The kink at Tmax leaves the posterior with several modes (one per interval between
    measurement days the peak can sit in); starting in each plausible interval finds the best.
    """
    starts = [PRIOR_MEAN.copy()]
    measured = ~obs.censored
    if np.any(measured):
        i = int(np.argmax(np.where(measured, obs.values, -np.inf)))
        order = np.sort(np.unique(obs.days))
        j = int(np.searchsorted(order, obs.days[i]))
        candidates = {order[j]}
        if j > 0:
            candidates.add(0.5 * (order[j - 1] + order[j]))
        if j + 1 < order.size:
            candidates.add(0.5 * (order[j] + order[j + 1]))
        for day in sorted(candidates):
            peak = PRIOR_MEAN.copy()
            peak[1] = np.log(max(day, 0.5))
            peak[2] = np.log(obs.values[i])
            starts.append(peak)
    # The decline has modes too (a slow first phase or an early second one): start the
    # contraction rate alpha at the typical value and 1.5 prior SDs either side.
    sd_alpha = float(np.sqrt(stein.OMEGA_SQUARED[3]))
    varied = []
    for start in starts:
        for shift in (-1.5 * sd_alpha, 1.5 * sd_alpha):
            other = start.copy()
            other[3] += shift
            varied.append(other)
    return starts + varied


@dataclass(frozen=True)
class FitResult:
    log_params: NDArray[np.float64]  # MAP, order stein.PARAMETER_NAMES
    covariance: NDArray[np.float64]  # Laplace covariance of the log-parameters
    objective: float
    converged: bool

    @property
    def params(self) -> stein.Stein2019Parameters:
        return stein.Stein2019Parameters.from_array(np.exp(self.log_params))

    def interval(self, level: float = 0.9) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Equal-tailed Laplace interval of each parameter (log-normal on the natural scale)."""
        z = float(ndtri(0.5 + level / 2.0))
        sd = np.sqrt(np.diag(self.covariance))
        return np.exp(self.log_params - z * sd), np.exp(self.log_params + z * sd)

    def draws(self, n: int, rng: np.random.Generator) -> NDArray[np.float64]:
        """Parameter draws from the Laplace approximation (natural scale, n x 6)."""
        chol = np.linalg.cholesky(self.covariance)
        return np.exp(self.log_params + rng.standard_normal((n, 6)) @ chol.T)


def _levenberg_marquardt(post: _Posterior, u0: NDArray[np.float64],
                         max_iterations: int = 200) -> tuple[NDArray[np.float64], float, bool]:
    """Minimise the negative log posterior from ``u0`` within the bounds.

    Levenberg-Marquardt on the exact gradient and the Gauss-Newton Hessian, in plain numpy:
    a general-purpose optimiser (scipy's L-BFGS-B) spends most of its time in its own
    bookkeeping for six unknowns and, on a loaded machine, in BLAS thread hand-offs.
    """
    lo, hi = _BOUNDS[:, 0], _BOUNDS[:, 1]
    u = np.clip(u0, lo, hi)
    f, g, h = post.evaluate(u)
    lam = 1e-3
    for _ in range(max_iterations):
        step = np.linalg.solve(h + lam * np.diag(np.diag(h)), -g)
        u_new = np.clip(u + step, lo, hi)
        f_new, g_new, h_new = post.evaluate(u_new)
        if np.isfinite(f_new) and f_new <= f:
            small = np.max(np.abs(u_new - u)) < 1e-9 or f - f_new < 1e-13 * (1.0 + abs(f))
            u, f, g, h = u_new, f_new, g_new, h_new
            lam = max(lam * 0.1, 1e-12)
            if small:
                return u, float(f), True
        else:
            lam *= 10.0
            if lam > 1e12:
                break
    return u, float(f), bool(np.max(np.abs(g)) < 1e-4)


def _projected_gradient(u: NDArray[np.float64], g: NDArray[np.float64]) -> NDArray[np.float64]:
    """The gradient without its components that push out of the bounds at a bound."""
    lo, hi = _BOUNDS[:, 0], _BOUNDS[:, 1]
    blocked = ((u <= lo) & (g > 0)) | ((u >= hi) & (g < 0))
    return np.where(blocked, 0.0, g)


_GRADIENT_TOLERANCE = 1e-4


def _minimize_smooth(post: _Posterior, u: NDArray[np.float64], f: float,
                     fixed: int | None = None) -> tuple[NDArray[np.float64], float]:
    """L-BFGS-B on the exact objective and gradient from ``u`` (``fixed``: a coordinate held
    where it is); the start is kept if nothing lower is found."""
    free = np.array([i for i in range(6) if i != fixed])
    base = u.copy()

    def objective(x: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        full = base.copy()
        full[free] = x
        value, grad = post.value_and_grad(full)
        return value, grad[free]

    found = minimize(objective, u[free], jac=True, method="L-BFGS-B",
                     bounds=[tuple(b) for b in _BOUNDS[free]],
                     options={"maxiter": 500, "ftol": 1e-15, "gtol": 1e-9})
    if np.isfinite(found.fun) and found.fun <= f:
        base[free] = np.clip(found.x, _BOUNDS[free, 0], _BOUNDS[free, 1])
        return base, float(found.fun)
    return u, f


def _polish(post: _Posterior, u: NDArray[np.float64], f: float
            ) -> tuple[NDArray[np.float64], float, bool]:
    """Finish the minimisation from the best Levenberg-Marquardt point, and test it.

    Gauss-Newton steps can crawl along a curved valley (foldx, Tmax and Cmax traded against
    each other when few days are measured) and use up their iterations short of the mode; and
    when the peak sits on a measured day the objective has a kink there (the day switches
    between the rising and the falling branch), where the gradient jumps and no gradient test
    can pass. So: L-BFGS-B on the exact objective first; the point is converged when its
    projected gradient is small. Otherwise, with Tmax on (or next to) a measured day, Tmax is
    held on that day and the other five are minimised (smooth there); the point is a minimum
    at the kink when their gradient is small and f rises with Tmax moved either way (the
    one-sided derivatives). If one side goes down, the search steps off the kink that way and
    starts again. Anywhere else, a Nelder-Mead search (values only) from a small simplex
    around the point must stop on its own tolerances without lowering f by more than a
    relative 1e-8.
    """
    lo, hi = _BOUNDS[:, 0], _BOUNDS[:, 1]
    log_days = np.log(np.unique(post.days[post.days > 0]))
    for _ in range(4):
        u, f = _minimize_smooth(post, u, f)
        g = post.value_and_grad(u)[1]
        if np.max(np.abs(_projected_gradient(u, g))) < _GRADIENT_TOLERANCE:
            return u, f, True
        day = log_days[np.argmin(np.abs(log_days - u[1]))] if log_days.size else np.inf
        if abs(u[1] - day) < 1e-3 and lo[1] < day < hi[1]:
            at_day = u.copy()
            at_day[1] = day
            value = post.value_and_grad(at_day)[0]
            at_day, value = _minimize_smooth(post, at_day, value, fixed=1)
            if value > f + 1e-10 * (1.0 + abs(f)):
                break
            u, f = at_day, value
            others = np.delete(_projected_gradient(u, post.value_and_grad(u)[1]), 1)
            later, earlier = u.copy(), u.copy()
            later[1] += 1e-9
            earlier[1] -= 1e-9
            right = post.value_and_grad(later)[1][1]  # the day on the rising branch
            left = post.value_and_grad(earlier)[1][1]  # the day on the falling branch
            if np.max(np.abs(others)) >= _GRADIENT_TOLERANCE:
                continue
            if right >= -_GRADIENT_TOLERANCE and left <= _GRADIENT_TOLERANCE:
                return u, f, True
            u = u.copy()
            u[1] += 1e-4 if right < -_GRADIENT_TOLERANCE else -1e-4
            f = post.value_and_grad(u)[0]
            continue
        break
    bounds = list(zip(lo, hi, strict=True))
    simplex: NDArray[np.float64] = np.clip(np.vstack([u, u + 1e-3 * np.eye(6)]), lo, hi)
    def posterior_value(v: NDArray[np.float64]) -> float:
        return post.value_and_grad(v)[0]

    search = minimize(posterior_value, u, method="Nelder-Mead", bounds=bounds,
                      options={"initial_simplex": simplex, "xatol": 1e-7,
                               "fatol": 1e-12 * (1.0 + abs(f)), "maxfev": 4000})
    if search.success and f - float(search.fun) <= 1e-8 * (1.0 + abs(f)):
        return u, f, True
    if np.isfinite(search.fun) and search.fun < f:
        return np.clip(search.x, lo, hi), float(search.fun), False
    return u, f, False


def fit_patient(obs: Observations, residual_sd: float = stein.RESIDUAL_SD_LOG) -> FitResult:
    """MAP estimate and Laplace covariance for one patient's measurements.

    Levenberg-Marquardt from every start (:func:`_starts`), then the best point is polished
    and its convergence tested on the exact objective (:func:`_polish`).
    """
    post = _Posterior(obs, residual_sd)
    best: tuple[NDArray[np.float64], float, bool] | None = None
    for u0 in _starts(obs):
        found = _levenberg_marquardt(post, u0)
        if best is None or found[1] < best[1]:
            best = found
    assert best is not None
    u, value, converged = _polish(post, best[0], best[1])
    cov = np.linalg.inv(post.gauss_newton_hessian(u))
    return FitResult(u, 0.5 * (cov + cov.T), value, converged)


@lru_cache(maxsize=1)
def reference_population(n: int = 200_000, seed: int = 20190501) -> dict[str, NDArray[np.float64]]:
    """A fixed virtual population (sorted Cmax and AUC0-28) to rank a patient against."""
    params = stein.sample_parameters(n, np.random.default_rng(seed))
    exp = stein.exposure(params)
    return {"cmax": np.sort(exp["cmax"]), "auc": np.sort(exp["auc"])}


def cmax_percentile(cmax: float) -> float:
    """Percentile of Cmax in the population: Cmax is log-normal(log 24000, 0.65) exactly."""
    z = (np.log(cmax) - PRIOR_MEAN[2]) / np.sqrt(stein.OMEGA_SQUARED[2])
    return float(100.0 * ndtr(z))


def auc_percentile(auc: float) -> float:
    """Percentile of AUC0-28 among the reference population (no closed form for its law)."""
    ref = reference_population()["auc"]
    return float(100.0 * np.searchsorted(ref, auc) / ref.size)


def poor_expansion_threshold() -> float:
    """The population's 10th percentile of Cmax (copies/ug)."""
    z = float(ndtri(POOR_EXPANSION_PERCENTILE / 100.0))
    return float(np.exp(PRIOR_MEAN[2] + z * np.sqrt(stein.OMEGA_SQUARED[2])))


@dataclass(frozen=True)
class PatientReport:
    fit: FitResult
    level: float
    fitted_at_observed: NDArray[np.float64]
    fitted_interval: tuple[NDArray[np.float64], NDArray[np.float64]]  # at the observed days
    cmax: float
    cmax_interval: tuple[float, float]
    tmax: float
    auc_0_28: float
    auc_interval: tuple[float, float]
    cmax_percentile: float
    auc_percentile: float
    poor_expansion: bool


def assess_patient(obs: Observations, *, level: float = 0.9, seed: int = 0,
                   n_draws: int = 2000) -> PatientReport:
    """Fit, then place the patient's Cmax and AUC0-28 in the population.

    Cmax is itself a model parameter, so its interval is the Laplace interval; the AUC interval
    and the band of the fitted curve at the observed days come from ``n_draws`` Laplace draws
    with a fixed ``seed`` (reproducible).
    """
    fit = fit_patient(obs)
    p = np.exp(fit.log_params)
    exp_ = stein.exposure(p)
    lo, hi = fit.interval(level)
    draws = fit.draws(n_draws, np.random.default_rng(seed))
    auc_draws = stein.exposure(draws)["auc"]
    q = [50.0 - 50.0 * level, 50.0 + 50.0 * level]
    auc_lo, auc_hi = np.percentile(auc_draws, q)
    curve_lo, curve_hi = np.percentile(stein.concentration(draws, obs.days), q, axis=0)
    cmax = float(exp_["cmax"])
    return PatientReport(
        fit=fit,
        level=level,
        fitted_at_observed=stein.concentration(p, obs.days),
        fitted_interval=(curve_lo, curve_hi),
        cmax=cmax,
        cmax_interval=(float(lo[2]), float(hi[2])),
        tmax=float(exp_["tmax"]),
        auc_0_28=float(exp_["auc"]),
        auc_interval=(float(auc_lo), float(auc_hi)),
        cmax_percentile=cmax_percentile(cmax),
        auc_percentile=auc_percentile(float(exp_["auc"])),
        poor_expansion=cmax < poor_expansion_threshold(),
    )
