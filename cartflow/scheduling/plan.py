"""Cases to plan, the plan of one case, and the capacity a set of plans uses."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

PRIORITY_WEIGHTS: Mapping[str, int] = {"routine": 1, "rapidly_progressing": 3}
"""A physician's priority weighs a case's days to infusion in the network objective."""


@dataclass(frozen=True)
class Case:
    """An open case to plan: ready for apheresis from ``ready_day`` at ``centre``."""

    id: str
    centre: str
    indication: str
    ready_day: int
    priority: str = "routine"

    @property
    def weight(self) -> int:
        return PRIORITY_WEIGHTS[self.priority]


@dataclass(frozen=True)
class Plan:
    """Every leg of one case, as days from the origin.

    Lymphodepletion runs on ``ld_start`` .. ``ld_start + ld_days - 1``; the product is thawed
    and infused on ``infusion`` within the label's post-thaw minutes; the monitoring bed is
    held from ``infusion`` for ``monitoring_days``.
    """

    case: str
    centre: str
    site: str
    product: str
    apheresis: int
    manufacturing_start: int
    release: int
    shipment: int
    arrival: int
    ld_start: int
    ld_days: int
    infusion: int
    monitoring_days: int
    post_thaw_minutes: int

    @property
    def vein_to_vein(self) -> int:
        """Apheresis to infusion, in days."""
        return self.infusion - self.apheresis

    def legs(self) -> dict[str, int]:
        return {
            "apheresis": self.apheresis,
            "manufacturing_start": self.manufacturing_start,
            "release": self.release,
            "shipment": self.shipment,
            "arrival": self.arrival,
            "ld_start": self.ld_start,
            "ld_end": self.ld_start + self.ld_days - 1,
            "infusion": self.infusion,
            "monitoring_end": self.infusion + self.monitoring_days - 1,
        }

    def shifted(self, **legs: int) -> Plan:
        return replace(self, **legs)  # type: ignore[arg-type]

    def to_dict(self, origin: date | None = None) -> dict[str, Any]:
        legs: dict[str, Any] = dict(self.legs())
        if origin is not None:
            legs = {k: (origin + timedelta(days=v)).isoformat() for k, v in legs.items()}
        return {
            "case": self.case,
            "centre": self.centre,
            "site": self.site,
            "product": self.product,
            "legs": legs,
            "vein_to_vein_days": self.vein_to_vein,
            "post_thaw_minutes": self.post_thaw_minutes,
        }


class Usage:
    """What a set of plans holds of each resource, day by day.

    Keys: ``("chair", centre)``, ``("bed", centre)``, ``("monitoring", centre)``,
    ``("slot", site, product)``, ``("lane", site, centre)``.
    """

    def __init__(self, plans: Iterable[Plan] = ()) -> None:
        self.used: defaultdict[tuple[str, ...], defaultdict[int, int]] = defaultdict(
            lambda: defaultdict(int)
        )
        for plan in plans:
            self.add(plan)

    @staticmethod
    def holdings(plan: Plan) -> list[tuple[tuple[str, ...], int, int]]:
        """(resource, first day, days held) for each resource a plan uses."""
        return [
            (("chair", plan.centre), plan.apheresis, 1),
            (
                ("slot", plan.site, plan.product),
                plan.manufacturing_start,
                plan.release - plan.manufacturing_start,
            ),
            (("lane", plan.site, plan.centre), plan.shipment, 1),
            (("bed", plan.centre), plan.infusion, 1),
            (("monitoring", plan.centre), plan.infusion, plan.monitoring_days),
        ]

    def add(self, plan: Plan, sign: int = 1) -> None:
        for key, start, length in self.holdings(plan):
            for day in range(start, start + length):
                self.used[key][day] += sign

    def remove(self, plan: Plan) -> None:
        self.add(plan, -1)

    def at(self, key: tuple[str, ...], day: int) -> int:
        return self.used[key][day] if key in self.used else 0
