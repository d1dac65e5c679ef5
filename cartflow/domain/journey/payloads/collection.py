"""Payloads from the apheresis booking to the manufacturing order: the collection, bridging,
the patient's weight and the slots booked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar

from cartflow.domain.journey import event_types as T
from cartflow.domain.journey.payloads import fields as F
from cartflow.domain.journey.payloads.fields import Data


@dataclass(frozen=True, slots=True)
class ApheresisScheduled:
    TYPE: ClassVar[str] = T.APHERESIS_SCHEDULED
    VERSION: ClassVar[int] = 1

    slot_at: datetime
    re_collection: bool = False
    chair_day: date | None = None
    """The day of the chair slot booked with it; absent when no chair was booked."""

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "slot_at": self.slot_at.isoformat(),
            "re_collection": self.re_collection,
        }
        if self.chair_day is not None:
            data["chair_day"] = self.chair_day.isoformat()
        return data

    @classmethod
    def from_data(cls, d: Data) -> ApheresisScheduled:
        return cls(
            F.moment(d, "slot_at"), F.flag(d, "re_collection", False), F.opt_day(d, "chair_day")
        )


@dataclass(frozen=True, slots=True)
class CollectionRecorded:
    TYPE: ClassVar[str] = T.COLLECTION_RECORDED
    VERSION: ClassVar[int] = 1

    din: str
    scanned_coi: str = ""

    def to_data(self) -> dict[str, Any]:
        return {"din": self.din, "scanned_coi": self.scanned_coi}

    @classmethod
    def from_data(cls, d: Data) -> CollectionRecorded:
        return cls(F.text(d, "din"), F.text(d, "scanned_coi", ""))


@dataclass(frozen=True, slots=True)
class CollectionFailed:
    TYPE: ClassVar[str] = T.COLLECTION_FAILED
    VERSION: ClassVar[int] = 1

    din: str
    reason: str

    def to_data(self) -> dict[str, Any]:
        return {"din": self.din, "reason": self.reason}

    @classmethod
    def from_data(cls, d: Data) -> CollectionFailed:
        return cls(F.text(d, "din"), F.text(d, "reason"))


@dataclass(frozen=True, slots=True)
class BridgingGiven:
    TYPE: ClassVar[str] = T.BRIDGING_GIVEN
    VERSION: ClassVar[int] = 1

    regimen: str

    def to_data(self) -> dict[str, Any]:
        return {"regimen": self.regimen}

    @classmethod
    def from_data(cls, d: Data) -> BridgingGiven:
        return cls(F.text(d, "regimen"))


@dataclass(frozen=True, slots=True)
class PatientWeighed:
    TYPE: ClassVar[str] = T.PATIENT_WEIGHED
    VERSION: ClassVar[int] = 1

    weight_kg: float

    def to_data(self) -> dict[str, Any]:
        return {"weight_kg": self.weight_kg}

    @classmethod
    def from_data(cls, d: Data) -> PatientWeighed:
        return cls(F.number(d, "weight_kg"))


@dataclass(frozen=True, slots=True)
class ManufacturingStarted:
    TYPE: ClassVar[str] = T.MANUFACTURING_STARTED
    VERSION: ClassVar[int] = 1

    order_ref: str
    din: str
    weight_kg: float
    scanned_coi: str = ""
    scanned_din: str = ""

    def to_data(self) -> dict[str, Any]:
        return {
            "order_ref": self.order_ref,
            "din": self.din,
            "weight_kg": self.weight_kg,
            "scanned_coi": self.scanned_coi,
            "scanned_din": self.scanned_din,
        }

    @classmethod
    def from_data(cls, d: Data) -> ManufacturingStarted:
        return cls(
            F.text(d, "order_ref"),
            F.text(d, "din"),
            F.number(d, "weight_kg"),
            F.text(d, "scanned_coi", ""),
            F.text(d, "scanned_din", ""),
        )


@dataclass(frozen=True, slots=True)
class SlotBooked:
    """A place taken in a site's slot (the clinic wrote the same fields before booking was a
    command)."""

    TYPE: ClassVar[str] = T.SLOT_BOOKED
    VERSION: ClassVar[int] = 1

    slot: str
    kind: str
    site: str
    day: date

    def to_data(self) -> dict[str, Any]:
        return {
            "slot": self.slot,
            "kind": self.kind,
            "site": self.site,
            "day": self.day.isoformat(),
        }

    @classmethod
    def from_data(cls, d: Data) -> SlotBooked:
        return cls(F.text(d, "slot"), F.text(d, "kind"), F.text(d, "site"), F.day(d, "day"))
