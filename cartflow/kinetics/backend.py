"""Which solver backend runs a CARTmath population: numpy on a CPU, JAX where it sees a GPU.

The choice is a pure function of what is available (``choose_backend``), so both branches are
tested on any machine; ``detect`` looks at this machine. JAX on a CPU is much slower than the
numpy solver (14 times on 2,000 patients here, docs/kinetics.md section 3), so JAX is only
chosen by itself when a GPU is visible to it.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from cartflow.kinetics.errors import KineticsError
from cartflow.kinetics.rosenbrock import Population, solve_population

BackendName = Literal["numpy", "jax"]
REQUESTS = ("auto", "numpy", "jax")


@dataclass(frozen=True)
class Available:
    jax_installed: bool
    jax_gpu: bool  # a GPU device visible to JAX


@dataclass(frozen=True)
class BackendChoice:
    name: BackendName
    reason: str


def choose_backend(requested: str, available: Available) -> BackendChoice:
    """The backend for ``requested`` ("auto", "numpy" or "jax") given what is ``available``."""
    req = requested.strip().lower()
    if req == "numpy":
        return BackendChoice("numpy", "asked for (--backend numpy)")
    if req == "jax":
        if not available.jax_installed:
            raise KineticsError("the JAX backend needs the jax extra: "
                                "pip install 'cartflow[jax]'")
        where = "a GPU" if available.jax_gpu else "the CPU, where it is slower than numpy"
        return BackendChoice("jax", f"asked for (--backend jax), on {where}")
    if req != "auto":
        raise KineticsError(f"unknown backend {requested!r}; accepted: {', '.join(REQUESTS)}")
    if available.jax_installed and available.jax_gpu:
        return BackendChoice("jax", "a GPU is visible to JAX")
    if available.jax_installed:
        return BackendChoice("numpy", "JAX sees no GPU, and on a CPU numpy is faster")
    return BackendChoice("numpy", "JAX is not installed")


def detect() -> Available:
    """What this machine offers. Imports JAX only when it is installed."""
    if importlib.util.find_spec("jax") is None:
        return Available(jax_installed=False, jax_gpu=False)
    try:
        import jax
    except ImportError:  # present but unusable (a missing jaxlib): as good as absent
        return Available(jax_installed=False, jax_gpu=False)
    try:
        gpu = any(d.platform == "gpu" for d in jax.devices())
    except RuntimeError:  # a half-configured accelerator runtime: no GPU to use
        gpu = False
    return Available(jax_installed=True, jax_gpu=gpu)


def solve_on(backend: BackendName, pop: Population,
             days: NDArray[np.float64]) -> NDArray[np.float64]:
    """Every patient of ``pop`` on ``days`` (no doses after day 0) with ``backend``."""
    if backend == "jax":
        from cartflow.kinetics.cartmath_jax import solve_population_jax

        return solve_population_jax(pop, days)[0]
    return solve_population(pop, days)[0]
