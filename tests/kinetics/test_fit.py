"""Fitting one patient: calibration on synthetic patients, censoring, flags and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import approx_fprime

from cartflow.kinetics import fit, stein2019
from cartflow.kinetics.errors import KineticsError
from cartflow.kinetics.observations import Observations, parse_csv

DESIGN = np.array([1, 4, 7, 10, 14, 21, 28, 56, 90], dtype=float)


def test_map_fit_is_calibrated_on_200_synthetic_patients():
    rng = np.random.default_rng(7)
    truth = stein2019.sample_parameters(200, rng)
    observed = stein2019.add_residual_error(stein2019.concentration(truth, DESIGN), rng)
    errors, covered = [], []
    for p, y in zip(truth, observed, strict=True):
        result = fit.fit_patient(Observations.from_arrays(DESIGN, y))
        lo, hi = result.interval(0.9)
        errors.append(abs(result.log_params[2] - np.log(p[2])))
        covered.append(lo[2] <= p[2] <= hi[2])
        assert result.converged
    assert np.median(errors) < 0.35
    # 90% intervals: with 200 patients the coverage has a binomial SD of 2.1 points.
    assert 0.80 <= np.mean(covered) <= 0.97


def test_the_analytic_gradient_matches_finite_differences_with_censored_values():
    obs = Observations.from_arrays([1, 4, 7, 14, 28, 90], [30, 700, 9000, 10000, 1500, 1.0],
                                   lloq=[50, 50, 50, 50, 50, 50])
    assert obs.censored.tolist() == [True, False, False, False, False, True]
    post = fit._Posterior(obs, stein2019.RESIDUAL_SD_LOG)
    for u in (fit.PRIOR_MEAN, fit.PRIOR_MEAN + 0.3 * np.array([1, -1, 1, 1, -1, 1])):
        numeric = approx_fprime(u, lambda v: post.value_and_grad(v)[0], 1e-6)
        np.testing.assert_allclose(post.value_and_grad(u)[1], numeric, rtol=1e-4, atol=1e-4)


def test_a_censored_value_is_a_bound_not_a_number():
    days = [1, 4, 7, 14, 28, 56, 90]
    values = [20.0, 800.0, 9000.0, 12000.0, 1500.0, 100.0, 40.0]
    as_numbers = fit.fit_patient(Observations.from_arrays(days, values))
    # The last two values lie below an LLOQ of 200: only "below 200" is known about them.
    censored = fit.fit_patient(Observations.from_arrays(days, values, lloq=[None] * 5 + [200,
                                                                                      200]))
    assert not np.allclose(as_numbers.log_params, censored.log_params)
    fitted = stein2019.concentration(np.exp(censored.log_params), [56.0, 90.0])
    assert np.all(fitted < 200.0 * np.exp(2 * stein2019.RESIDUAL_SD_LOG))
    # Had the censored rows been read as the LLOQ itself, the fit would sit at the LLOQ.
    at_lloq = fit.fit_patient(Observations.from_arrays(days, [*values[:5], 200.0, 200.0]))
    assert not np.allclose(at_lloq.log_params, censored.log_params)


def _no_nearby_point_is_lower(obs: Observations, result: fit.FitResult) -> None:
    post = fit._Posterior(obs, stein2019.RESIDUAL_SD_LOG)
    rng = np.random.default_rng(3)
    for step in (1e-3, 1e-5):
        for direction in rng.standard_normal((200, 6)):
            moved = result.log_params + step * direction / np.linalg.norm(direction)
            moved = np.clip(moved, fit._BOUNDS[:, 0], fit._BOUNDS[:, 1])
            assert post.value_and_grad(moved)[0] >= result.objective - 1e-9


def test_sparse_data_with_the_last_value_below_the_lloq_converges_to_a_sensible_mode():
    # Days 4, 11 and 28, day 28 below an LLOQ of 250: Levenberg-Marquardt alone crawls along
    # the foldx-Tmax-Cmax valley and stopped with converged=False.
    obs = Observations.from_arrays([4, 11, 28], [40.0, 7800.0, 60.0], lloq=[None, None, 250])
    assert obs.censored.tolist() == [False, False, True]
    result = fit.fit_patient(obs)
    assert result.converged
    p = result.params
    assert 11.0 < p.tmax < 28.0  # the peak after the highest value, before the censored day
    assert 7800.0 < p.cmax < 10 * 7800.0
    fitted = stein2019.concentration(np.exp(result.log_params), [4.0, 11.0, 28.0])
    np.testing.assert_allclose(fitted[:2], [40.0, 7800.0], rtol=0.25)
    assert fitted[2] < 250.0
    post = fit._Posterior(obs, stein2019.RESIDUAL_SD_LOG)
    assert np.max(np.abs(post.value_and_grad(result.log_params)[1])) < 1e-4
    _no_nearby_point_is_lower(obs, result)


def test_a_mode_on_the_kink_at_a_measured_day_is_recognised_as_converged():
    # The best peak sits exactly on day 11, where the gradient jumps: the fit holds Tmax on
    # the day, minimises the rest, and checks that f rises with Tmax moved either way.
    obs = Observations.from_arrays([4, 11, 28], [300.0, 49000.0, 3000.0],
                                   lloq=[None, None, 3300])
    result = fit.fit_patient(obs)
    assert result.converged
    assert result.params.tmax == pytest.approx(11.0, rel=1e-9)
    assert 30000.0 < result.params.cmax < 60000.0
    _no_nearby_point_is_lower(obs, result)


def test_a_patient_whose_cells_barely_expand_is_flagged():
    low = stein2019.TYPICAL.with_overrides(cmax=1500.0, foldx=300.0).as_array()
    y = stein2019.concentration(low, DESIGN)
    report = fit.assess_patient(Observations.from_arrays(DESIGN, y))
    assert report.poor_expansion
    assert report.cmax_percentile < 10
    typical = fit.assess_patient(Observations.from_arrays(
        DESIGN, stein2019.concentration(stein2019.TYPICAL.as_array(), DESIGN)))
    assert not typical.poor_expansion
    assert 30 < typical.cmax_percentile < 70
    assert typical.cmax_interval[0] < typical.cmax < typical.cmax_interval[1]
    assert typical.auc_interval[0] < typical.auc_0_28 < typical.auc_interval[1]


def test_the_poor_expansion_threshold_is_the_populations_10th_percentile_of_cmax():
    ref = fit.reference_population()["cmax"]
    assert np.mean(ref < fit.poor_expansion_threshold()) == pytest.approx(0.10, abs=0.003)


def test_the_csv_reader_takes_lloq_and_below_limit_markers():
    obs = parse_csv("day,copies_per_ug,lloq\n1,BLQ,50\n4,900,50\n7,<50,50\n14,30,50\n"
                    "28,1200,\n")
    assert obs.censored.tolist() == [True, False, True, True, False]
    assert obs.values.tolist() == [50.0, 900.0, 50.0, 50.0, 1200.0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("day,value\n1,2\n", "lacks the column"),
        ("day,copies_per_ug\n1,100\n", "two time points"),
        ("day,copies_per_ug\n-1,100\n3,200\n", "zero or later"),
        ("day,copies_per_ug\n1,abc\n3,200\n", "must be a number"),
        ("day,copies_per_ug\n1,0\n3,200\n", "positive"),
        ("day,copies_per_ug\n1,BLQ\n3,200\n", "needs its lloq"),
        ("day,copies_per_ug\n", "no rows"),
    ],
)
def test_bad_observations_are_refused_with_a_clear_message(text: str, message: str):
    with pytest.raises(KineticsError, match=message):
        parse_csv(text)
