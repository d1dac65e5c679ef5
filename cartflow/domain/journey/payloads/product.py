"""Payloads of the product from release to disposal: release or out of specification and
quality's decision, shipping, temperatures and quarantine, receipt, availability, expiry and
disposal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from cartflow.domain.journey import event_types as T
from cartflow.domain.journey.payloads import fields as F
from cartflow.domain.journey.payloads.fields import Data, SignedBy


@dataclass(frozen=True, slots=True)
class BagRecord:
    """A bag as released; a split dose's part carries its label day and tolerance."""

    bag_id: str
    lot: str
    part: int = 1
    day: int = 1
    tolerance_days: int = 0

    def to_data(self) -> dict[str, Any]:
        return {
            "bag_id": self.bag_id,
            "lot": self.lot,
            "part": self.part,
            "day": self.day,
            "tolerance_days": self.tolerance_days,
        }

    @classmethod
    def from_data(cls, d: Data) -> BagRecord:
        return cls(
            F.text(d, "bag_id"),
            F.text(d, "lot"),
            F.whole(d, "part", 1),
            F.whole(d, "day", 1),
            F.whole(d, "tolerance_days", 0),
        )


def _bags(d: Data) -> tuple[BagRecord, ...]:
    return tuple(BagRecord.from_data(b) for b in F.objects(d, "bags", "a bag"))


@dataclass(frozen=True, slots=True)
class ProductReleased:
    TYPE: ClassVar[str] = T.PRODUCT_RELEASED
    VERSION: ClassVar[int] = 1

    dose_cells: float
    dose_min: float | None
    dose_max: float | None
    weight_kg: float | None
    """The weight on the manufacturing order, which the label's range was computed for."""
    in_range: bool
    bags: tuple[BagRecord, ...]
    signature: SignedBy

    def to_data(self) -> dict[str, Any]:
        return {
            "dose_cells": self.dose_cells,
            "dose_range": {"min": self.dose_min, "max": self.dose_max},
            "weight_kg": self.weight_kg,
            "in_range": self.in_range,
            "bags": [b.to_data() for b in self.bags],
            "signature": self.signature.to_data(),
        }

    @classmethod
    def from_data(cls, d: Data) -> ProductReleased:
        dose_range = F.mapping(d, "dose_range")
        return cls(
            F.number(d, "dose_cells"),
            F.opt_number(dose_range, "min"),
            F.opt_number(dose_range, "max"),
            F.opt_number(d, "weight_kg"),
            F.flag(d, "in_range"),
            _bags(d),
            F.signature(d),
        )


@dataclass(frozen=True, slots=True)
class ProductOutOfSpecification:
    TYPE: ClassVar[str] = T.PRODUCT_OUT_OF_SPECIFICATION
    VERSION: ClassVar[int] = 1

    dose_cells: float
    dose_min: float | None
    dose_max: float | None
    weight_kg: float | None
    in_range: bool
    bags: tuple[BagRecord, ...]
    signature: SignedBy
    reason: str

    def to_data(self) -> dict[str, Any]:
        return {
            "dose_cells": self.dose_cells,
            "dose_range": {"min": self.dose_min, "max": self.dose_max},
            "weight_kg": self.weight_kg,
            "in_range": self.in_range,
            "bags": [b.to_data() for b in self.bags],
            "signature": self.signature.to_data(),
            "reason": self.reason,
        }

    @classmethod
    def from_data(cls, d: Data) -> ProductOutOfSpecification:
        dose_range = F.mapping(d, "dose_range")
        return cls(
            F.number(d, "dose_cells"),
            F.opt_number(dose_range, "min"),
            F.opt_number(dose_range, "max"),
            F.opt_number(d, "weight_kg"),
            F.flag(d, "in_range"),
            _bags(d),
            F.signature(d),
            F.text(d, "reason"),
        )


@dataclass(frozen=True, slots=True)
class _SignedReason:
    """A quality decision: the reason and the signature."""

    reason: str
    signature: SignedBy

    def to_data(self) -> dict[str, Any]:
        return {"reason": self.reason, "signature": self.signature.to_data()}


@dataclass(frozen=True, slots=True)
class OosAccepted(_SignedReason):
    TYPE: ClassVar[str] = T.OOS_ACCEPTED
    VERSION: ClassVar[int] = 1

    @classmethod
    def from_data(cls, d: Data) -> OosAccepted:
        return cls(F.text(d, "reason"), F.signature(d))


@dataclass(frozen=True, slots=True)
class OosRejected(_SignedReason):
    TYPE: ClassVar[str] = T.OOS_REJECTED
    VERSION: ClassVar[int] = 1

    @classmethod
    def from_data(cls, d: Data) -> OosRejected:
        return cls(F.text(d, "reason"), F.signature(d))


@dataclass(frozen=True, slots=True)
class QuarantineReleased(_SignedReason):
    TYPE: ClassVar[str] = T.QUARANTINE_RELEASED
    VERSION: ClassVar[int] = 1

    @classmethod
    def from_data(cls, d: Data) -> QuarantineReleased:
        return cls(F.text(d, "reason"), F.signature(d))


@dataclass(frozen=True, slots=True)
class QuarantineRejected(_SignedReason):
    TYPE: ClassVar[str] = T.QUARANTINE_REJECTED
    VERSION: ClassVar[int] = 1

    @classmethod
    def from_data(cls, d: Data) -> QuarantineRejected:
        return cls(F.text(d, "reason"), F.signature(d))


@dataclass(frozen=True, slots=True)
class ProductShipped:
    TYPE: ClassVar[str] = T.PRODUCT_SHIPPED
    VERSION: ClassVar[int] = 1

    courier: str
    scanned_coi: str = ""
    scanned_bag_ids: tuple[str, ...] = ()

    def to_data(self) -> dict[str, Any]:
        return {
            "courier": self.courier,
            "scanned_coi": self.scanned_coi,
            "scanned_bag_ids": list(self.scanned_bag_ids),
        }

    @classmethod
    def from_data(cls, d: Data) -> ProductShipped:
        return cls(
            F.text(d, "courier"),
            F.text(d, "scanned_coi", ""),
            F.texts(d, "scanned_bag_ids", []),
        )


@dataclass(frozen=True, slots=True)
class TemperatureRecorded:
    TYPE: ClassVar[str] = T.TEMPERATURE_RECORDED
    VERSION: ClassVar[int] = 1

    celsius: float
    limit_celsius: float
    excursion: bool
    location: str

    def to_data(self) -> dict[str, Any]:
        return {
            "celsius": self.celsius,
            "limit_celsius": self.limit_celsius,
            "excursion": self.excursion,
            "location": self.location,
        }

    @classmethod
    def from_data(cls, d: Data) -> TemperatureRecorded:
        return cls(
            F.number(d, "celsius"),
            F.number(d, "limit_celsius"),
            F.flag(d, "excursion"),
            F.text(d, "location"),
        )


@dataclass(frozen=True, slots=True)
class ProductReceived:
    TYPE: ClassVar[str] = T.PRODUCT_RECEIVED
    VERSION: ClassVar[int] = 1

    celsius: float
    limit_celsius: float
    storage_location: str
    scanned_coi: str = ""
    scanned_bag_ids: tuple[str, ...] = ()

    def to_data(self) -> dict[str, Any]:
        return {
            "scanned_coi": self.scanned_coi,
            "scanned_bag_ids": list(self.scanned_bag_ids),
            "celsius": self.celsius,
            "limit_celsius": self.limit_celsius,
            "storage_location": self.storage_location,
        }

    @classmethod
    def from_data(cls, d: Data) -> ProductReceived:
        return cls(
            F.number(d, "celsius"),
            F.number(d, "limit_celsius"),
            F.text(d, "storage_location"),
            F.text(d, "scanned_coi", ""),
            F.texts(d, "scanned_bag_ids", []),
        )


@dataclass(frozen=True, slots=True)
class AvailabilityConfirmed:
    TYPE: ClassVar[str] = T.AVAILABILITY_CONFIRMED
    VERSION: ClassVar[int] = 1

    def to_data(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_data(cls, d: Data) -> AvailabilityConfirmed:
        return cls()


@dataclass(frozen=True, slots=True)
class ProductExpired:
    TYPE: ClassVar[str] = T.PRODUCT_EXPIRED
    VERSION: ClassVar[int] = 1

    reason: str

    def to_data(self) -> dict[str, Any]:
        return {"reason": self.reason}

    @classmethod
    def from_data(cls, d: Data) -> ProductExpired:
        return cls(F.text(d, "reason"))


@dataclass(frozen=True, slots=True)
class ProductDisposed:
    TYPE: ClassVar[str] = T.PRODUCT_DISPOSED
    VERSION: ClassVar[int] = 1

    reason: str
    signature: SignedBy
    bag_ids: tuple[str, ...] = ()

    def to_data(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "bag_ids": list(self.bag_ids),
            "signature": self.signature.to_data(),
        }

    @classmethod
    def from_data(cls, d: Data) -> ProductDisposed:
        return cls(F.text(d, "reason"), F.signature(d), F.texts(d, "bag_ids", []))
