"""Each product's durations for planning, read from the catalog with their sources.

A plan needs five facts: the infusion window after lymphodepletion, the post-thaw limit, the
lymphodepletion regimen (its length in days), the monitoring period and the manufacturing
turnaround. When one is unknown (and no site protocol value fills it) the product gets no plan,
and :class:`NoPlan` names the missing fact: a guess would put a patient outside the label.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from cartflow.domain.catalog import (
    Catalog,
    FactName,
    FactStatus,
    ProductFactName,
    SiteProtocolValue,
)
from cartflow.domain.catalog_summary import is_unknown
from cartflow.domain.errors import NotInCatalog

PLANNING_FACTS = (
    FactName.INFUSION_WINDOW_DAYS,
    FactName.POST_THAW_MINUTES,
    FactName.LYMPHODEPLETION,
    FactName.MONITORING_DAYS,
    ProductFactName.MANUFACTURING_TURNAROUND_DAYS,
)


@dataclass(frozen=True)
class Sourced:
    """A planning duration and where it comes from (label source, or a site protocol)."""

    fact: str
    value: Any
    source: str


@dataclass(frozen=True)
class Timings:
    """The durations of one indication, in whole days (the thaw limit in minutes)."""

    indication: str
    product: str
    window_min: int  # infusion at least this many days after lymphodepletion ends
    window_max: int
    ld_days: int
    monitoring_days: int
    turnaround_days: int  # manufacturing start to release, planned at the figure's upper end
    post_thaw_minutes: int
    sources: tuple[Sourced, ...]


@dataclass(frozen=True)
class NoPlan:
    """Why a case gets no plan: the facts that are missing, or a network without capacity."""

    case: str
    reason: str
    missing: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"case": self.case, "reason": self.reason, "missing": list(self.missing)}


def ld_length(regimen: Any) -> int:
    """Days from the first to the last dose of a regimen (its ``on_days`` where given)."""
    on_days = [d for drug in regimen["drugs"] for d in drug.get("on_days", [])]
    if on_days:
        return int(max(on_days) - min(on_days) + 1)
    return max(int(drug["days"]) for drug in regimen["drugs"])


def timings_for(
    catalog: Catalog,
    indication_id: str,
    on: date,
    region: str | None,
    site_values: Iterable[SiteProtocolValue] = (),
) -> Timings | NoPlan:
    """The indication's planning durations on ``on`` in ``region``, or what is missing."""
    indication = catalog.indication(indication_id)
    product = catalog.product_of(indication)
    values = tuple(site_values)
    found: dict[str, Sourced] = {}
    missing: list[str] = []
    for name in PLANNING_FACTS:
        if name is ProductFactName.MANUFACTURING_TURNAROUND_DAYS:
            version = product.fact(name, on, region)
            if version is not None and not is_unknown(version):
                found[name] = Sourced(name, version.value, version.source_text)
                continue
            site = [v for v in values if v.indication == indication.id and v.fact == name]
            if site:
                found[name] = Sourced(name, site[0].value, f"site protocol {site[0].document_ref}")
            else:
                missing.append(name.value)
            continue
        try:
            resolved = indication.resolve(name, on, region, values)
        except NotInCatalog:
            missing.append(name.value)
            continue
        if resolved.status is FactStatus.LABEL and is_unknown(
            indication.fact(name, on, region)  # type: ignore[arg-type]
        ):
            missing.append(name.value)
            continue
        found[name] = Sourced(name, resolved.value, resolved.source)
    if missing:
        return NoPlan(
            indication.id,
            f"{indication.id} in {region or 'any region'} on {on.isoformat()}: "
            f"{', '.join(missing)} not in the catalog: enter the site's protocol value "
            "or check the current label",
            tuple(missing),
        )
    window = found[FactName.INFUSION_WINDOW_DAYS].value
    turnaround = found[ProductFactName.MANUFACTURING_TURNAROUND_DAYS].value
    return Timings(
        indication=indication.id,
        product=product.id,
        window_min=int(window[0]),
        window_max=int(window[1]),
        ld_days=ld_length(found[FactName.LYMPHODEPLETION].value[0]),
        monitoring_days=int(found[FactName.MONITORING_DAYS].value),
        turnaround_days=int(turnaround["max"]),
        post_thaw_minutes=int(found[FactName.POST_THAW_MINUTES].value),
        sources=tuple(found[name] for name in PLANNING_FACTS),
    )


def sources_text(timings: Timings) -> Sequence[str]:
    return [f"{s.fact}: {s.value} ({s.source})" for s in timings.sources]
