"""The simulator: same seeds, same figures, in this process and on a Dask cluster."""

from __future__ import annotations

from datetime import date

import pytest

from cartflow.catalog_file import load_catalog
from cartflow.domain.errors import InvalidInput
from cartflow.scheduling.simulate import Assumptions, Scenario, run_replications, summarise
from cartflow.scheduling.synthetic import PLANNABLE_US, catalog_timings, synthetic_network

ORIGIN = date(2026, 12, 7)


def _scenario(referrals: float = 60.0) -> Scenario:
    found, _ = catalog_timings(load_catalog(), PLANNABLE_US, ORIGIN)
    network = synthetic_network(4, 2, sorted({t.product for t in found.values()}), seed=3)
    mix = {ind: 1.0 for ind in found}
    assumptions = Assumptions(
        referrals_per_year=referrals, mix=mix, failure_rate=0.2, courier_late_rate=0.2, days=120
    )
    return Scenario(network, found, ORIGIN, assumptions)


def test_the_same_seed_gives_the_same_figures_and_another_seed_others() -> None:
    scenario = _scenario()
    first = run_replications(scenario, 2, seed=11)
    assert first == run_replications(scenario, 2, seed=11)
    assert first != run_replications(scenario, 2, seed=12)
    assert all(r.infused + r.refused >= r.referrals for r in first)
    assert sum(r.failures for r in first) > 0 and sum(r.late_shipments for r in first) > 0


def test_a_dask_cluster_gives_the_same_figures_as_this_process() -> None:
    distributed = pytest.importorskip("distributed")
    scenario = _scenario()
    here = run_replications(scenario, 3, seed=5)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        there = run_replications(scenario, 3, seed=5, client=client)
    assert there == here
    assert summarise(there) == summarise(here)


def test_the_summary_counts_patients_waiting_past_the_threshold() -> None:
    results = run_replications(_scenario(200.0), 1, seed=2)
    summary = summarise(results)
    waits = results[0].referral_to_infusion
    assert summary.waiting_past["mean"] == sum(w > 60 for w in waits)
    assert 0.0 <= max(summary.utilisation.values()) <= 1.0


def test_an_impossible_rate_is_refused_with_the_accepted_range() -> None:
    with pytest.raises(InvalidInput, match="at least 0 and below 1"):
        Assumptions(mix={"x": 1.0}, failure_rate=1.5)
