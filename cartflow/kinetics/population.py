"""Which population model answers for a product, and what a virtual population looks like.

A population model is only used for the product and disease it was estimated on: for any other
product the answer is "no population model for this product", never a borrowed model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from cartflow.kinetics import stein2019 as stein
from cartflow.kinetics.errors import KineticsError, NoPopulationModel

PERCENTILES = (5, 10, 25, 50, 75, 90, 95)
# Stein 2019 was estimated on ELIANA + ENSIGN: tisagenlecleucel in r/r B-ALL, age 3-25
# (models.md section 1).
_MODELS = {("tisagenlecleucel", "b-all"): "stein2019"}


@dataclass(frozen=True)
class PopulationModel:
    name: str
    product_id: str
    disease: str
    typical: stein.Stein2019Parameters
    omega_squared: NDArray[np.float64]
    residual_sd_log: float
    source: str


STEIN2019 = PopulationModel(
    name="stein2019",
    product_id="tisagenlecleucel",
    disease="B-ALL",
    typical=stein.TYPICAL,
    omega_squared=stein.OMEGA_SQUARED,
    residual_sd_log=stein.RESIDUAL_SD_LOG,
    source="Stein AM et al. 2019, CPT Pharmacometrics Syst Pharmacol 8:285, Table 1 "
    "(models.md section 1)",
)


def population_model_for(product_id: str, disease: str) -> PopulationModel:
    """The population model for this product in this disease, or NoPopulationModel."""
    key = (product_id.strip().lower(), disease.strip().lower())
    if key in _MODELS:
        return STEIN2019
    raise NoPopulationModel(product_id, disease)


@dataclass(frozen=True)
class PopulationSummary:
    n: int
    seed: int
    tmax: NDArray[np.float64]
    cmax: NDArray[np.float64]
    auc_0_28: NDArray[np.float64]

    def as_dict(self) -> dict[str, object]:
        def pct(x: NDArray[np.float64]) -> dict[str, float]:
            return {f"p{q}": float(v) for q, v in zip(PERCENTILES, np.percentile(x, PERCENTILES),
                                                       strict=True)}

        return {
            "n": self.n,
            "seed": self.seed,
            "tmax_median": float(np.median(self.tmax)),
            "cmax_geomean": float(np.exp(np.mean(np.log(self.cmax)))),
            "auc_0_28_geomean": float(np.exp(np.mean(np.log(self.auc_0_28)))),
            "percentiles": {"tmax": pct(self.tmax), "cmax": pct(self.cmax),
                            "auc_0_28": pct(self.auc_0_28)},
        }


def simulate_population(
    n: int, seed: int, *, chunk: int = 250_000,
    progress: Callable[[int], None] | None = None,
) -> PopulationSummary:
    """``n`` virtual patients of the Stein 2019 model, in chunks (``progress(done)`` after each).

    The draws depend only on ``seed`` and ``n`` and ``chunk``: the same call gives the same answer.
    """
    if n < 1:
        raise KineticsError(f"the number of patients must be at least 1, got {n}")
    rng = np.random.default_rng(seed)
    parts = []
    done = 0
    while done < n:
        m = min(chunk, n - done)
        parts.append(stein.exposure(stein.sample_parameters(m, rng)))
        done += m
        if progress is not None:
            progress(m)
    cat = {k: np.concatenate([np.atleast_1d(p[k]) for p in parts]) for k in parts[0]}
    return PopulationSummary(n=n, seed=seed, tmax=cat["tmax"], cmax=cat["cmax"],
                             auc_0_28=cat["auc"])


@dataclass(frozen=True)
class Forecast:
    days: NDArray[np.float64]
    typical: NDArray[np.float64]
    median: NDArray[np.float64]
    p05: NDArray[np.float64]
    p95: NDArray[np.float64]


def forecast(days: ArrayLike, *, n: int = 5000, seed: int = 0) -> Forecast:
    """The typical curve and the 5th-95th percentile band of individual curves (IIV only).

    The band is that of the true individual curves; a single measurement scatters more, by
    the residual error (SD 0.56 on the log scale).
    """
    d = np.asarray(days, dtype=float)
    if np.any(d < 0):
        raise KineticsError("days must be zero or later")
    curves = stein.concentration(stein.sample_parameters(n, np.random.default_rng(seed)), d)
    p05, p50, p95 = np.percentile(curves, [5, 50, 95], axis=0)
    return Forecast(d, stein.concentration(stein.TYPICAL.as_array(), d), p50, p05, p95)
