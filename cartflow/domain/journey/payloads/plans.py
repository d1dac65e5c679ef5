"""Payloads of the vein-to-vein plan on the case (plans.py holds their rules)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from cartflow.domain.journey import event_types as T
from cartflow.domain.journey.payloads import fields as F
from cartflow.domain.journey.payloads.fields import Data


@dataclass(frozen=True, slots=True)
class PlanAccepted:
    """The planned dates of every leg, the places booked (by the booking events beside it) and
    the capacity the plan alone holds (infusion bed, monitoring bed, courier lane)."""

    TYPE: ClassVar[str] = T.PLAN_ACCEPTED
    VERSION: ClassVar[int] = 1

    plan_id: str
    centre: str
    manufacturing_site: str
    manufacturing_slot: str
    books_chair: bool
    chair_day: date | None
    transit_days: int
    holds: Mapping[str, Any]
    apheresis_on: date
    manufacturing_start_on: date
    release_on: date
    shipment_on: date
    arrival_on: date
    ld_start_on: date
    ld_end_on: date
    infusion_on: date
    monitoring_until: date

    LEGS: ClassVar[tuple[str, ...]] = (
        "apheresis_on",
        "manufacturing_start_on",
        "release_on",
        "shipment_on",
        "arrival_on",
        "ld_start_on",
        "ld_end_on",
        "infusion_on",
        "monitoring_until",
    )

    def to_data(self) -> dict[str, Any]:
        return {
            "plan_id": self.plan_id,
            "centre": self.centre,
            "manufacturing_site": self.manufacturing_site,
            "manufacturing_slot": self.manufacturing_slot,
            "books_chair": self.books_chair,
            "chair_day": None if self.chair_day is None else self.chair_day.isoformat(),
            "transit_days": self.transit_days,
            "holds": F.plain(self.holds),
            **{leg: getattr(self, leg).isoformat() for leg in self.LEGS},
        }

    @classmethod
    def from_data(cls, d: Data) -> PlanAccepted:
        return cls(
            F.text(d, "plan_id"),
            F.text(d, "centre"),
            F.text(d, "manufacturing_site"),
            F.text(d, "manufacturing_slot"),
            F.flag(d, "books_chair"),
            F.opt_day(d, "chair_day"),
            F.whole(d, "transit_days"),
            F.plain(F.mapping(d, "holds")),
            *(F.day(d, leg) for leg in cls.LEGS),
        )


@dataclass(frozen=True, slots=True)
class PlanSlotConfirmed:
    TYPE: ClassVar[str] = T.PLAN_SLOT_CONFIRMED
    VERSION: ClassVar[int] = 1

    plan_id: str
    site: str
    slot: str

    def to_data(self) -> dict[str, Any]:
        return {"plan_id": self.plan_id, "site": self.site, "slot": self.slot}

    @classmethod
    def from_data(cls, d: Data) -> PlanSlotConfirmed:
        return cls(F.text(d, "plan_id"), F.text(d, "site"), F.text(d, "slot"))


@dataclass(frozen=True, slots=True)
class PlanSlotDeclined:
    TYPE: ClassVar[str] = T.PLAN_SLOT_DECLINED
    VERSION: ClassVar[int] = 1

    plan_id: str
    site: str
    slot: str
    reason: str

    def to_data(self) -> dict[str, Any]:
        return {
            "plan_id": self.plan_id,
            "site": self.site,
            "slot": self.slot,
            "reason": self.reason,
        }

    @classmethod
    def from_data(cls, d: Data) -> PlanSlotDeclined:
        return cls(F.text(d, "plan_id"), F.text(d, "site"), F.text(d, "slot"), F.text(d, "reason"))


@dataclass(frozen=True, slots=True)
class PlanReleased:
    """The plan given up with its reason; the manufacturing slots given back with it."""

    TYPE: ClassVar[str] = T.PLAN_RELEASED
    VERSION: ClassVar[int] = 1

    plan_id: str
    reason: str
    released_slots: tuple[str, ...]

    def to_data(self) -> dict[str, Any]:
        return {
            "plan_id": self.plan_id,
            "reason": self.reason,
            "released_slots": list(self.released_slots),
        }

    @classmethod
    def from_data(cls, d: Data) -> PlanReleased:
        return cls(F.text(d, "plan_id"), F.text(d, "reason"), F.texts(d, "released_slots", []))
