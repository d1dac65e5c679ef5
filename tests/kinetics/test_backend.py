"""The population backend: numpy on a CPU, JAX where a GPU is visible to it, a flag to force."""

from __future__ import annotations

import pytest

from cartflow.kinetics.backend import Available, choose_backend, detect
from cartflow.kinetics.errors import KineticsError

NO_JAX = Available(jax_installed=False, jax_gpu=False)
JAX_ON_CPU = Available(jax_installed=True, jax_gpu=False)
JAX_WITH_GPU = Available(jax_installed=True, jax_gpu=True)


def test_auto_takes_jax_when_it_sees_a_gpu():
    choice = choose_backend("auto", JAX_WITH_GPU)
    assert choice.name == "jax"
    assert "GPU" in choice.reason


@pytest.mark.parametrize(("available", "why"), [(JAX_ON_CPU, "no GPU"),
                                                 (NO_JAX, "not installed")])
def test_auto_stays_on_numpy_without_a_gpu(available: Available, why: str):
    choice = choose_backend("auto", available)
    assert choice.name == "numpy"
    assert why in choice.reason


@pytest.mark.parametrize("available", [NO_JAX, JAX_ON_CPU, JAX_WITH_GPU])
def test_numpy_can_be_forced_anywhere(available: Available):
    assert choose_backend("numpy", available).name == "numpy"


def test_jax_can_be_forced_on_a_cpu_and_says_it_is_slower_there():
    choice = choose_backend("jax", JAX_ON_CPU)
    assert choice.name == "jax"
    assert "slower than numpy" in choice.reason


def test_forcing_jax_without_it_says_how_to_install_it():
    with pytest.raises(KineticsError, match=r"cartflow\[jax\]"):
        choose_backend("jax", NO_JAX)


def test_an_unknown_backend_is_refused():
    with pytest.raises(KineticsError, match="unknown backend"):
        choose_backend("cuda", JAX_WITH_GPU)


def test_detect_reports_this_machine_consistently():
    found = detect()
    assert not (found.jax_gpu and not found.jax_installed)
