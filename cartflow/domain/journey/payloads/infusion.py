"""Payloads at the bedside: a bag thawed, the bedside check and the infusion."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from cartflow.domain.events import Event
from cartflow.domain.journey import event_types as T
from cartflow.domain.journey.payloads import fields as F
from cartflow.domain.journey.payloads.fields import Data, LdCheck, PerformerRecord, SignedBy


def _ld(data: dict[str, Any], ld: LdCheck | None) -> dict[str, Any]:
    return data if ld is None else {**data, **ld.to_data()}


def _opt_moment(d: Data, key: str) -> datetime | None:
    return None if d.get(key) is None else F.moment(d, key)


@dataclass(frozen=True, slots=True)
class ProductThawed:
    TYPE: ClassVar[str] = T.PRODUCT_THAWED
    VERSION: ClassVar[int] = 1

    bag_id: str
    part: int = 1
    split_day: int | None = None
    """Day of the split dose (Day 1 = the first infusion); none before the first."""
    scanned_coi: str = ""
    scanned_bag_id: str = ""
    ld: LdCheck | None = None
    """Lymphodepletion as it stood, checked for the first part only."""

    def to_data(self) -> dict[str, Any]:
        data = {
            "bag_id": self.bag_id,
            "scanned_coi": self.scanned_coi,
            "scanned_bag_id": self.scanned_bag_id,
            "part": self.part,
            "split_day": self.split_day,
        }
        return _ld(data, self.ld)

    @classmethod
    def from_data(cls, d: Data) -> ProductThawed:
        return cls(
            F.text(d, "bag_id"),
            F.whole(d, "part", 1),
            F.opt_whole(d, "split_day"),
            F.text(d, "scanned_coi", ""),
            F.text(d, "scanned_bag_id", ""),
            LdCheck.from_data(d),
        )


@dataclass(frozen=True, slots=True)
class ProductInfused:
    """The infusion: the witness signs (``signature``), the performer gave it."""

    TYPE: ClassVar[str] = T.PRODUCT_INFUSED
    VERSION: ClassVar[int] = 2

    bag_id: str
    part: int
    signature: SignedBy
    performer: PerformerRecord | None = None
    """``None`` only where an event names no performer: the signer gave it."""
    thawed_at: datetime | None = None
    minutes_since_thaw: float | None = None
    split_day: int | None = None
    ld: LdCheck | None = None

    @property
    def performer_id(self) -> str:
        return self.signature.signer_id if self.performer is None else self.performer.user_id

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "bag_id": self.bag_id,
            "part": self.part,
            "thawed_at": None if self.thawed_at is None else self.thawed_at.isoformat(),
            "minutes_since_thaw": self.minutes_since_thaw,
            "split_day": self.split_day,
            "signature": self.signature.to_data(),
        }
        if self.performer is not None:
            data["performer"] = self.performer.to_data()
        return _ld(data, self.ld)

    @classmethod
    def from_data(cls, d: Data) -> ProductInfused:
        performer = F.mapping(d, "performer") if "performer" in d else None
        return cls(
            F.text(d, "bag_id"),
            F.whole(d, "part", 1),
            F.signature(d),
            None if performer is None else PerformerRecord.from_data(performer),
            _opt_moment(d, "thawed_at"),
            F.opt_number(d, "minutes_since_thaw"),
            F.opt_whole(d, "split_day"),
            LdCheck.from_data(d),
        )


@dataclass(frozen=True, slots=True)
class ProductInfusedV1:
    """Version 1: one physician scanned the wristband and the bag and signed."""

    TYPE: ClassVar[str] = T.PRODUCT_INFUSED
    VERSION: ClassVar[int] = 1

    bag_id: str
    part: int
    signature: SignedBy
    scanned_patient_coi: str = ""
    scanned_bag_coi: str = ""
    scanned_bag_id: str = ""
    thawed_at: datetime | None = None
    minutes_since_thaw: float | None = None
    split_day: int | None = None
    ld: LdCheck | None = None

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "bag_id": self.bag_id,
            "part": self.part,
            "scanned_patient_coi": self.scanned_patient_coi,
            "scanned_bag_coi": self.scanned_bag_coi,
            "scanned_bag_id": self.scanned_bag_id,
            "thawed_at": None if self.thawed_at is None else self.thawed_at.isoformat(),
            "minutes_since_thaw": self.minutes_since_thaw,
            "split_day": self.split_day,
            "signature": self.signature.to_data(),
        }
        return _ld(data, self.ld)

    @classmethod
    def from_data(cls, d: Data) -> ProductInfusedV1:
        return cls(
            F.text(d, "bag_id"),
            F.whole(d, "part", 1),
            F.signature(d),
            F.text(d, "scanned_patient_coi", ""),
            F.text(d, "scanned_bag_coi", ""),
            F.text(d, "scanned_bag_id", ""),
            _opt_moment(d, "thawed_at"),
            F.opt_number(d, "minutes_since_thaw"),
            F.opt_whole(d, "split_day"),
            LdCheck.from_data(d),
        )

    def upgrade(self, event: Event) -> ProductInfused:
        # The one signer also gave the infusion.
        performer = PerformerRecord(self.signature.signer_id, self.signature.role)
        return ProductInfused(
            self.bag_id,
            self.part,
            self.signature,
            performer,
            self.thawed_at,
            self.minutes_since_thaw,
            self.split_day,
            self.ld,
        )


@dataclass(frozen=True, slots=True)
class BedsideVerified:
    """The bedside check that matched: which identifiers matched (never the record number),
    the bag, who performed and who witnessed."""

    TYPE: ClassVar[str] = T.BEDSIDE_VERIFIED
    VERSION: ClassVar[int] = 2

    bag_id: str
    wristband: str
    bag_label: str
    performer: PerformerRecord
    witness: str
    identity: str = "confirmed"
    scanned_bag_label: str = ""
    """A bag's label names a case or a collection, never a person: kept as scanned."""
    scanned_bag_id: str = ""

    def to_data(self) -> dict[str, Any]:
        return {
            "bag_id": self.bag_id,
            "wristband": self.wristband,
            "identity": self.identity,
            "bag_label": self.bag_label,
            "scanned_bag_label": self.scanned_bag_label,
            "scanned_bag_id": self.scanned_bag_id,
            "performer": self.performer.to_data(),
            "witness": self.witness,
        }

    @classmethod
    def from_data(cls, d: Data) -> BedsideVerified:
        return cls(
            F.text(d, "bag_id"),
            F.text(d, "wristband"),
            F.text(d, "bag_label"),
            PerformerRecord.from_data(F.mapping(d, "performer")),
            F.text(d, "witness"),
            F.text(d, "identity", ""),
            F.text(d, "scanned_bag_label", ""),
            F.text(d, "scanned_bag_id", ""),
        )


@dataclass(frozen=True, slots=True)
class BedsideVerifiedV1:
    """The clinic's own record, before the check was a command: what matched, by name."""

    TYPE: ClassVar[str] = T.BEDSIDE_VERIFIED
    VERSION: ClassVar[int] = 1

    matched: Mapping[str, Any]

    def to_data(self) -> dict[str, Any]:
        return {"matched": F.plain(self.matched)}

    @classmethod
    def from_data(cls, d: Data) -> BedsideVerifiedV1:
        matched = F.mapping(d, "matched")
        F.text(matched, "bag", "")
        return cls(F.plain(matched))

    def upgrade(self, event: Event) -> BedsideVerified:
        # It named no witness and no identifiers; the one who recorded it performed it.
        return BedsideVerified(
            bag_id=F.text(self.matched, "bag", ""),
            wristband="",
            bag_label="",
            performer=PerformerRecord(event.actor, ""),
            witness="",
            identity="",
        )
