"""Synthetic networks and referrals for the benchmark, the simulator and the CLI's demo.

The capacities are stated assumptions, not data: a centre with one or two apheresis chairs
and infusion beds a day, a few monitoring beds; sites with a few concurrent runs per product;
courier lanes of one to three days. Change them with the CLI's network file.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np

from cartflow.domain.catalog import Catalog
from cartflow.scheduling.network import (
    ALWAYS_OPEN,
    Calendar,
    Centre,
    Lane,
    ManufacturingSite,
    Network,
)
from cartflow.scheduling.plan import Case
from cartflow.scheduling.timings import NoPlan, Timings, timings_for

PLANNABLE_US: tuple[str, ...] = (
    "tisagenlecleucel/b-all",
    "tisagenlecleucel/lbcl",
    "lisocabtagene-maraleucel/lbcl-third-line",
    "lisocabtagene-maraleucel/lbcl-second-line",
    "idecabtagene-vicleucel/mm",
)
"""Indications whose five planning facts the catalog knows for the US (November 2026)."""


def catalog_timings(
    catalog: Catalog, indications: Sequence[str], on: date, region: str = "US"
) -> tuple[dict[str, Timings], dict[str, NoPlan]]:
    found: dict[str, Timings] = {}
    missing: dict[str, NoPlan] = {}
    for ind in indications:
        t = timings_for(catalog, ind, on, region)
        if isinstance(t, NoPlan):
            missing[ind] = t
        else:
            found[ind] = t
    return found, missing


def synthetic_network(
    centres: int,
    sites: int,
    products: Sequence[str],
    seed: int = 0,
    *,
    scale: float = 1.0,
    holidays: frozenset[date] = frozenset(),
) -> Network:
    """A network of ``centres`` and ``sites``; every site makes every product (an assumption).

    ``scale`` multiplies the per-product slots, so a what-if can ask for more manufacturing.
    """
    rng = np.random.default_rng(seed)
    calendar = Calendar(holidays=holidays)
    cs = tuple(
        Centre(
            id=f"C{k + 1:02d}",
            region="US",
            apheresis_chairs=int(rng.integers(1, 3)),
            infusion_beds=int(rng.integers(1, 3)),
            monitoring_beds=int(rng.integers(3, 7)),
            calendar=calendar,
        )
        for k in range(centres)
    )
    ss = tuple(
        ManufacturingSite(
            id=f"M{k + 1}",
            slots={p: max(1, round(int(rng.integers(4, 9)) * scale)) for p in products},
            calendar=ALWAYS_OPEN if k == 0 else calendar,
        )
        for k in range(sites)
    )
    lanes = tuple(
        Lane(
            site=s.id,
            centre=c.id,
            transit_days=int(rng.integers(1, 4)),
            shipments_per_day=int(rng.integers(1, 3)),
        )
        for s in ss
        for c in cs
    )
    return Network(cs, ss, lanes)


def synthetic_cases(
    network: Network,
    indications: Sequence[str],
    n: int,
    spread_days: int,
    seed: int = 0,
    rapid_share: float = 0.2,
) -> tuple[Case, ...]:
    """``n`` open cases ready over ``spread_days``, at random centres, with random priorities."""
    rng = np.random.default_rng(seed)
    return tuple(
        Case(
            id=f"case-{k + 1:04d}",
            centre=network.centres[int(rng.integers(len(network.centres)))].id,
            indication=indications[int(rng.integers(len(indications)))],
            ready_day=int(rng.integers(0, max(1, spread_days))),
            priority="rapidly_progressing" if rng.random() < rapid_share else "routine",
        )
        for k in range(n)
    )
