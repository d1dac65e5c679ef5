"""The treatment network as resources with a capacity per day, and the calendars they keep.

Capacities are of two kinds. A *per-day* capacity counts starts on one day (apheresis chairs,
infusion beds, shipments on a courier lane). A *concurrent* capacity counts what is held at
once (manufacturing slots for the whole run, monitoring beds for the whole monitoring period).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from cartflow.domain.errors import InvalidInput


@dataclass(frozen=True)
class Calendar:
    """The days a site works: closed weekdays (0 is Monday), holidays and its own closed days."""

    closed_weekdays: frozenset[int] = frozenset({5, 6})
    holidays: frozenset[date] = frozenset()
    closed_days: frozenset[date] = frozenset()

    def is_open(self, day: date) -> bool:
        return (
            day.weekday() not in self.closed_weekdays
            and day not in self.holidays
            and day not in self.closed_days
        )

    def open_days(self, origin: date, horizon: int) -> tuple[int, ...]:
        """The open days in ``[0, horizon)``, counted from ``origin``."""
        return tuple(d for d in range(horizon) if self.is_open(origin + timedelta(days=d)))


ALWAYS_OPEN = Calendar(closed_weekdays=frozenset())
"""Manufacturing runs through weekends once started; only starts and shipments keep hours."""


@dataclass(frozen=True)
class Centre:
    """A treatment centre with its apheresis unit, infusion beds and monitoring beds."""

    id: str
    region: str
    apheresis_chairs: int  # collections a day
    infusion_beds: int  # infusions a day
    monitoring_beds: int  # patients in their monitoring period at once
    calendar: Calendar = field(default_factory=Calendar)


@dataclass(frozen=True)
class ManufacturingSite:
    """A manufacturing site: concurrent runs per product, and the days it starts and ships."""

    id: str
    slots: Mapping[str, int]  # product id -> runs in progress at once
    calendar: Calendar = field(default_factory=Calendar)


@dataclass(frozen=True)
class Lane:
    """A courier lane between a site and a centre: transit days, product shipments a day.

    The same transit days are used for the collected cells going to the site; only the
    cryopreserved product's shipments are counted against the lane's capacity.
    """

    site: str
    centre: str
    transit_days: int
    shipments_per_day: int


@dataclass(frozen=True)
class Network:
    centres: tuple[Centre, ...]
    sites: tuple[ManufacturingSite, ...]
    lanes: tuple[Lane, ...]

    def __post_init__(self) -> None:
        ids = [c.id for c in self.centres] + [s.id for s in self.sites]
        if len(set(ids)) != len(ids):
            raise InvalidInput("network: centre and site ids must be unique")
        known_centres = {c.id for c in self.centres}
        known_sites = {s.id for s in self.sites}
        for lane in self.lanes:
            if lane.site not in known_sites or lane.centre not in known_centres:
                raise InvalidInput(
                    f"network: lane {lane.site}->{lane.centre} names an unknown site or centre"
                )
            if lane.transit_days < 0 or lane.shipments_per_day < 0:
                raise InvalidInput(f"network: lane {lane.site}->{lane.centre}: negative value")
        for c in self.centres:
            if min(c.apheresis_chairs, c.infusion_beds, c.monitoring_beds) < 0:
                raise InvalidInput(f"network: centre {c.id}: a capacity is negative")
        for s in self.sites:
            if any(v < 0 for v in s.slots.values()):
                raise InvalidInput(f"network: site {s.id}: a slot count is negative")

    def centre(self, centre_id: str) -> Centre:
        for c in self.centres:
            if c.id == centre_id:
                return c
        known = ", ".join(c.id for c in self.centres)
        raise InvalidInput(f"unknown centre {centre_id!r}; known centres: {known}")

    def site(self, site_id: str) -> ManufacturingSite:
        for s in self.sites:
            if s.id == site_id:
                return s
        known = ", ".join(s.id for s in self.sites)
        raise InvalidInput(f"unknown site {site_id!r}; known sites: {known}")

    def lanes_to(self, centre_id: str, product: str) -> tuple[Lane, ...]:
        """The lanes from every site that makes ``product`` to the centre, in network order."""
        makers = {s.id for s in self.sites if s.slots.get(product, 0) > 0}
        return tuple(ln for ln in self.lanes if ln.centre == centre_id and ln.site in makers)
