"""CARTmath: the HDLM-2 defaults clear the tumour, and every solver keeps the extinction rule."""

from __future__ import annotations

import numpy as np
import pytest

from cartflow.kinetics import cartmath as cm
from cartflow.kinetics import cartmath_population as cp
from cartflow.kinetics.errors import KineticsError
from cartflow.kinetics.rosenbrock import linear_phase, make_population, solve_population


def test_the_hdlm2_defaults_clear_the_tumour_around_day_46():
    schedule = cm.SCHEDULES["hdlm2"]
    fine = np.round(np.arange(0.0, 60.0001, 0.01), 2)
    ref = cm.solve_reference(cm.HDLM2, schedule.initial, fine, schedule.doses)
    gone = fine[ref[:, 2] == 0.0]
    assert gone.size and 45.0 <= gone[0] <= 47.0
    assert np.all(ref[fine >= gone[0], 2] == 0.0)  # extinct stays extinct
    assert ref[fine < gone[0], 2].min() >= 1.0  # never a fraction of a cell before
    # The vectorised solver reaches the same day.
    ours, _ = solve_population(make_population(cm.HDLM2, schedule.initial, 1), fine,
                               schedule.doses)
    assert fine[ours[0, :, 2] == 0.0][0] == pytest.approx(gone[0], abs=0.011)


def test_the_vectorised_solver_matches_the_reference_within_the_criterion():
    pop = cp.benchmark_population(40, seed=99)
    ref = cp.reference(pop)
    ours, stats = solve_population(pop, cp.BENCHMARK_DAYS)
    assert stats["rejected"] < stats["accepted"]
    result = cp.accuracy(ours, ref)
    assert result["passes"], result


@pytest.mark.parametrize("line", ["hdlm2", "raji"])
def test_both_cell_lines_with_their_schedules_match_the_reference(line: str):
    schedule = cm.SCHEDULES[line]
    end = 100.0 if line == "hdlm2" else 15.0
    days = np.arange(0.0, end + 1.0)
    params = cm.cell_line(line)
    ref = cm.solve_reference(params, schedule.initial, days, schedule.doses)
    # RAJI's effector crash needs a tighter tolerance than the benchmark default.
    ours, _ = solve_population(make_population(params, schedule.initial, 1), days,
                               schedule.doses, rtol=1e-7, atol=1e-4)
    assert cp.accuracy(ours[0], ref)["passes"]


def test_raji_effectors_expand_after_the_day_7_dose_while_the_tumour_keeps_growing():
    schedule = cm.SCHEDULES["raji"]
    days = np.arange(0.0, 16.0)
    ref = cm.solve_reference(cm.RAJI, schedule.initial, days, schedule.doses)
    assert ref[7, 0] == pytest.approx(1e7)
    assert ref[8, 0] > ref[7, 0]  # the memory loop feeds the effectors
    assert np.all(np.diff(ref[:, 2]) > 0)  # b = 0: no carrying capacity in RAJI


def test_the_exact_linear_phase_matches_the_reference_once_the_tumour_is_gone():
    p = cm.HDLM2
    y0 = (5e5, 2e5, 0.0)
    days = np.arange(0.0, 201.0)
    ref = cm.solve_reference(p, y0, days)
    exact = linear_phase(np, days, y0, {k: np.asarray(v) for k, v in p.as_dict().items()})
    assert cp.accuracy(exact, ref)["passes"]
    # Effectors decay at rho - phi and are extinct after ln(5e5)/0.085 = 154 days.
    assert exact[154, 0] > 0.0
    assert exact[155, 0] == 0.0


def test_a_zero_tumour_stays_zero_and_effectors_without_tumour_only_decay():
    pop = make_population(cm.HDLM2, (1e6, 0.0, 0.0), 3)
    out, _ = solve_population(pop, np.arange(0.0, 30.0))
    assert np.all(out[:, :, 2] == 0.0)
    assert np.all(np.diff(out[0, :, 0]) < 0)


def test_bad_input_is_refused():
    with pytest.raises(KineticsError, match="unknown cell line"):
        cm.cell_line("jurkat")
    with pytest.raises(KineticsError, match="zero or later"):
        cm.check_days([-1.0, 2.0])
    with pytest.raises(KineticsError, match="strictly increasing"):
        cm.check_days([3.0, 2.0])
    with pytest.raises(KineticsError, match="unknown CARTmath parameter"):
        make_population(cm.HDLM2, (1.0, 0.0, 1.0), 2, {"kappa": np.ones(2)})


def test_stepping_on_after_extinction_gives_what_the_closed_form_gives():
    pop = cp.benchmark_population(20, seed=7)
    ref = cp.reference(pop)
    stepped, stats = solve_population(pop, cp.BENCHMARK_DAYS, closed_form=False)
    closed, closed_stats = solve_population(pop, cp.BENCHMARK_DAYS)
    assert cp.accuracy(stepped, ref)["passes"]
    assert cp.accuracy(closed, ref)["passes"]
    assert closed_stats["accepted"] < stats["accepted"]  # the closed form saves steps
