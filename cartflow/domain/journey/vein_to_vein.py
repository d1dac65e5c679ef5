"""Vein to vein: the days from the patient's collection to the infusion (or to today while
the patient waits), beside the product's typical time, the published real-world median in
the catalog (``typical_vein_to_vein_days``, with its source; unknown where none is published).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cartflow.domain.catalog import Catalog, ProductFactName
from cartflow.domain.errors import DomainError
from cartflow.domain.journey.state import CaseState
from cartflow.domain.journey.time_windows import local_date, local_days_between, site_zone


@dataclass(frozen=True)
class VeinToVein:
    """``days`` from the latest successful collection (site calendar days; ``None`` before
    one), whether the clock still runs (no infusion yet), and the product's typical days
    with the source (``None`` and ``""`` when the catalog does not know it)."""

    days: int | None
    running: bool
    typical_days: float | None
    source: str

    @property
    def over(self) -> bool:
        """Longer than the product's typical time so far."""
        return self.days is not None and self.typical_days is not None and (
            self.days > self.typical_days
        )


def typical_days(state: CaseState, catalog: Catalog, now: datetime) -> tuple[float | None, str]:
    """The product's typical vein-to-vein days in force today in the case's region."""
    if not state.product_id:
        return None, ""
    try:
        product = catalog.product(state.product_id)
    except DomainError:
        return None, ""
    zone = site_zone(state.site_timezone) if state.site_timezone else None
    on = local_date(now, zone) if zone is not None else now.date()
    version = product.fact(ProductFactName.TYPICAL_VEIN_TO_VEIN_DAYS, on, state.region or None)
    if version is None or not version.known:
        return None, ""
    return float(version.value["median"]), version.source_text


def vein_to_vein(state: CaseState, catalog: Catalog, now: datetime) -> VeinToVein:
    """The case's vein-to-vein time so far against the product's typical time."""
    typical, source = typical_days(state, catalog, now)
    collection = state.collection
    if collection is None or not state.site_timezone:
        return VeinToVein(None, False, typical, source)
    end = state.first_infusion_at or now
    days = local_days_between(collection.at, end, site_zone(state.site_timezone))
    return VeinToVein(max(days, 0), state.first_infusion_at is None, typical, source)
