"""The optional JAX backend runs the same arithmetic as the numpy solver (needs the jax extra)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("jax")

from cartflow.kinetics import cartmath_population as cp
from cartflow.kinetics.cartmath_jax import solve_population_jax
from cartflow.kinetics.rosenbrock import solve_population


def test_the_jax_backend_agrees_with_numpy_and_the_reference():
    pop = cp.benchmark_population(30, seed=5)
    ref = cp.reference(pop)
    ours, _ = solve_population_jax(pop, cp.BENCHMARK_DAYS, chunk=16)
    assert cp.accuracy(ours, ref)["passes"]
    numpy_out, _ = solve_population(pop, cp.BENCHMARK_DAYS)
    np.testing.assert_allclose(ours, numpy_out, rtol=1e-9, atol=1e-6)
