"""A planning problem: the network, the day counting starts from, the horizon and the timings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from cartflow.scheduling.network import Network
from cartflow.scheduling.plan import Case
from cartflow.scheduling.timings import Timings


@dataclass(frozen=True)
class Problem:
    """Everything the planner and the validator read. ``timings`` maps indication to timings."""

    network: Network
    origin: date
    horizon: int
    timings: Mapping[str, Timings]
    _open: dict[str, frozenset[int]] = field(default_factory=dict, compare=False, repr=False)

    def open_days(self, place: str) -> frozenset[int]:
        """The days a centre or site is open, within the horizon."""
        if place not in self._open:
            centres = {c.id: c.calendar for c in self.network.centres}
            sites = {s.id: s.calendar for s in self.network.sites}
            calendar = centres[place] if place in centres else sites[place]
            self._open[place] = frozenset(calendar.open_days(self.origin, self.horizon))
        return self._open[place]

    def is_open(self, place: str, day: int) -> bool:
        return day in self.open_days(place)

    def capacity(self, key: tuple[str, ...], day: int) -> int:
        """How much of a resource exists on ``day``: zero on a closed day for daily resources."""
        kind = key[0]
        if not 0 <= day < self.horizon:
            return 0
        if kind == "slot":
            return self.network.site(key[1]).slots.get(key[2], 0)
        if kind == "lane":
            if not self.is_open(key[1], day):
                return 0
            return next(
                ln.shipments_per_day
                for ln in self.network.lanes
                if ln.site == key[1] and ln.centre == key[2]
            )
        centre = self.network.centre(key[1])
        if kind == "monitoring":
            return centre.monitoring_beds
        if not self.is_open(centre.id, day):
            return 0
        return centre.apheresis_chairs if kind == "chair" else centre.infusion_beds

    def timing(self, case: Case) -> Timings:
        return self.timings[case.indication]
