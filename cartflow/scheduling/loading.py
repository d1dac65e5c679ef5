"""Networks and cases from plain JSON-shaped data, with messages that say what is accepted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from cartflow.domain.errors import InvalidInput
from cartflow.scheduling.network import Calendar, Centre, Lane, ManufacturingSite, Network
from cartflow.scheduling.plan import PRIORITY_WEIGHTS, Case


def _calendar(raw: Mapping[str, Any], where: str) -> Calendar:
    try:
        return Calendar(
            closed_weekdays=frozenset(int(d) for d in raw.get("closed_weekdays", [5, 6])),
            holidays=frozenset(date.fromisoformat(d) for d in raw.get("holidays", [])),
            closed_days=frozenset(date.fromisoformat(d) for d in raw.get("closed_days", [])),
        )
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            f"{where}: closed_weekdays are 0 (Monday) to 6, holidays and closed_days are "
            f"YYYY-MM-DD dates ({exc})"
        ) from None


def network_from_dict(raw: Mapping[str, Any]) -> Network:
    """``{"centres": [...], "sites": [...], "lanes": [...]}`` (docs/scheduling.md)."""
    try:
        centres = tuple(
            Centre(
                id=str(c["id"]),
                region=str(c.get("region", "US")),
                apheresis_chairs=int(c["apheresis_chairs"]),
                infusion_beds=int(c["infusion_beds"]),
                monitoring_beds=int(c["monitoring_beds"]),
                calendar=_calendar(c, f"centre {c['id']}"),
            )
            for c in raw["centres"]
        )
        sites = tuple(
            ManufacturingSite(
                id=str(s["id"]),
                slots={str(k): int(v) for k, v in s["slots"].items()},
                calendar=_calendar(s, f"site {s['id']}"),
            )
            for s in raw["sites"]
        )
        lanes = tuple(
            Lane(
                str(ln["site"]),
                str(ln["centre"]),
                int(ln["transit_days"]),
                int(ln["shipments_per_day"]),
            )
            for ln in raw["lanes"]
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidInput(
            "network: expected centres (id, apheresis_chairs, infusion_beds, monitoring_beds), "
            "sites (id, slots {product: runs}) and lanes (site, centre, transit_days, "
            f"shipments_per_day); problem at {exc!r}"
        ) from None
    return Network(centres, sites, lanes)


def cases_from_list(raw: Sequence[Mapping[str, Any]], origin: date) -> tuple[Case, ...]:
    """Each case: id, centre, indication, ``ready`` (a date) or ``ready_day``, and priority."""
    cases = []
    for n, item in enumerate(raw, 1):
        try:
            if "ready" in item:
                ready = (date.fromisoformat(item["ready"]) - origin).days
            else:
                ready = int(item.get("ready_day", 0))
            priority = str(item.get("priority", "routine"))
            if priority not in PRIORITY_WEIGHTS:
                raise ValueError(f"priority {priority!r}")
            cases.append(
                Case(
                    str(item["id"]),
                    str(item["centre"]),
                    str(item["indication"]),
                    max(0, ready),
                    priority,
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(
                f"case {n}: expected id, centre, indication, ready (YYYY-MM-DD) or ready_day, "
                f"and priority ({', '.join(PRIORITY_WEIGHTS)}); problem: {exc}"
            ) from None
    if len({c.id for c in cases}) != len(cases):
        raise InvalidInput("cases: ids must be unique")
    return tuple(cases)
