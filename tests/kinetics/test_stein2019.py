"""The Stein 2019 model: closed form, ODE form, variability, exposure, and which product has it."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

from cartflow.kinetics import stein2019 as stein
from cartflow.kinetics.errors import NoPopulationModel
from cartflow.kinetics.population import STEIN2019, population_model_for, simulate_population

DAYS = np.array([0.0, 0.5, 1.0, 3.0, 7.0, 9.0, 9.3, 9.31, 12.0, 14.0, 21.0, 28.0, 56.0, 90.0,
                 180.0, 365.0])

# Patients within three SDs of the typical values (F_B < 1 and foldx > 1 there).
patients = st.tuples(*[st.floats(-3.0, 3.0) for _ in stein.PARAMETER_NAMES]).map(
    lambda z: stein.Stein2019Parameters.from_array(
        np.exp(np.log(stein.TYPICAL.as_array()) + np.array(z) * np.sqrt(stein.OMEGA_SQUARED)))
)


@settings(deadline=None, max_examples=25)
@given(patients)
def test_the_closed_form_is_the_solution_of_the_compartmental_odes(p: stein.Stein2019Parameters):
    closed = stein.concentration(p.as_array(), DAYS)
    ode = stein.concentration_ode(p, DAYS)
    # The ODE solver runs at rtol 1e-10, atol 1e-12 copies/ug; over a year the error grows by
    # the number of steps, so 1e-7 relative plus 1e-9 copies/ug (far below any assay).
    np.testing.assert_allclose(ode, closed, rtol=1e-7, atol=1e-9)


def test_the_typical_patient_peaks_at_cmax_on_tmax_and_starts_at_cmax_over_foldx():
    p = stein.TYPICAL
    c = stein.concentration(p.as_array(), [0.0, p.tmax])
    assert c[0] == pytest.approx(p.cmax / p.foldx)
    assert c[1] == pytest.approx(p.cmax)


def test_the_paper_derived_half_lives_follow_from_table_1():
    # Discussion of Stein 2019 (models.md section 1): doubling 0.78 d, initial decline 4.3 d,
    # terminal 217-220 d.
    p = stein.TYPICAL
    rho = np.log(p.foldx) / p.tmax
    assert np.log(2) / rho == pytest.approx(0.78, abs=0.01)
    assert np.log(2) / p.alpha == pytest.approx(4.3, abs=0.05)
    assert np.log(2) / p.beta == pytest.approx(217, abs=1)


@pytest.mark.parametrize("i", range(20))
def test_the_auc_from_day_0_to_28_is_the_integral_of_the_curve(i: int):
    p = stein.sample_parameters(20, np.random.default_rng(3))[i]
    exact = stein.exposure(p)["auc"]
    t = p[1]
    pieces = [0.0, min(t, 28.0), 28.0] if t < 28 else [0.0, 28.0]
    numeric = sum(quad(lambda d: float(stein.concentration(p, d)), a, b, epsabs=0,
                       epsrel=1e-11)[0] for a, b in itertools.pairwise(pieces))
    assert float(exact) == pytest.approx(numeric, rel=1e-8)


def test_sampled_log_parameters_have_the_sds_that_omega_squared_implies():
    n = 40_000
    logp = np.log(stein.sample_parameters(n, np.random.default_rng(11)))
    sd = logp.std(axis=0, ddof=1)
    expected = np.sqrt(stein.OMEGA_SQUARED)
    # The sample SD of n normal draws has a standard error of sigma / sqrt(2 (n - 1)); allow 4.
    np.testing.assert_array_less(np.abs(sd - expected), 4 * expected / np.sqrt(2 * (n - 1)))
    # And the means sit at the typical values (standard error sigma / sqrt(n)).
    mean_err = np.abs(logp.mean(axis=0) - np.log(stein.TYPICAL.as_array()))
    np.testing.assert_array_less(mean_err, 4 * expected / np.sqrt(n))


def test_omega_squared_is_used_as_a_variance_not_a_standard_deviation():
    logp = np.log(stein.sample_parameters(20_000, np.random.default_rng(2)))
    # foldx: omega^2 = 2.4, so the SD is 1.55, far from 2.4.
    assert logp[:, 0].std() == pytest.approx(np.sqrt(2.4), rel=0.03)


def test_tocilizumab_raises_the_peak_and_a_corticosteroid_factor_of_one_changes_nothing():
    p = stein.TYPICAL.as_array()
    days = np.array([0.0, 3.0, 9.3, 20.0])
    with_toci = stein.concentration(p, days, expansion_factor=stein.F_TOCILIZUMAB,
                                    factor_day=3.0)
    plain = stein.concentration(p, days)
    assert with_toci[1] == pytest.approx(plain[1])
    rho = np.log(3900) / 9.3
    assert with_toci[2] == pytest.approx(plain[2] * np.exp(0.2 * rho * (9.3 - 3.0)))
    steroid = stein.concentration(p, days, expansion_factor=stein.F_CORTICOSTEROID,
                                  factor_day=3.0)
    np.testing.assert_allclose(steroid, plain)


def test_the_population_model_is_stein_only_for_tisagenlecleucel_in_b_all():
    assert population_model_for("tisagenlecleucel", "B-ALL") is STEIN2019
    for product, disease in [("axicabtagene-ciloleucel", "LBCL"),
                             ("tisagenlecleucel", "DLBCL"),
                             ("brexucabtagene-autoleucel", "B-ALL")]:
        with pytest.raises(NoPopulationModel, match=r"^no population model for this product$"):
            population_model_for(product, disease)


def test_a_population_is_reproducible_from_its_seed_and_close_to_the_typical_values():
    a = simulate_population(20_000, seed=4).as_dict()
    b = simulate_population(20_000, seed=4).as_dict()
    assert a == b
    # Cmax is log-normal around 24,000 with SD 0.806 on the log scale: the geometric mean of
    # 20,000 has a log standard error of 0.0057.
    assert np.log(a["cmax_geomean"] / 24_000) == pytest.approx(0.0, abs=4 * 0.0057)
    assert a["tmax_median"] == pytest.approx(9.3, rel=0.03)
