"""Payloads that concern the whole case in any open step: a site protocol value, and the
ends of a case by withdrawal or death."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from cartflow.domain.events import Event
from cartflow.domain.journey import event_types as T
from cartflow.domain.journey.payloads import fields as F
from cartflow.domain.journey.payloads.fields import Data, SignedBy


@dataclass(frozen=True, slots=True)
class SiteProtocolRecorded:
    TYPE: ClassVar[str] = T.SITE_PROTOCOL_RECORDED
    VERSION: ClassVar[int] = 1

    indication: str
    fact: str
    value: Any
    """The fact's value in the catalog's JSON shape (checked by the catalog when decided)."""
    document_ref: str
    effective_on: date
    signature: SignedBy

    def to_data(self) -> dict[str, Any]:
        return {
            "indication": self.indication,
            "fact": self.fact,
            "value": F.plain(self.value),
            "document_ref": self.document_ref,
            "effective_on": self.effective_on.isoformat(),
            "signature": self.signature.to_data(),
        }

    @classmethod
    def from_data(cls, d: Data) -> SiteProtocolRecorded:
        return cls(
            F.text(d, "indication"),
            F.text(d, "fact"),
            F.plain(d.get("value")),
            F.text(d, "document_ref"),
            F.day(d, "effective_on"),
            F.signature(d),
        )


@dataclass(frozen=True, slots=True)
class CaseWithdrawn:
    """Version 2: the withdrawal is signed (the physician or the coordinator)."""

    TYPE: ClassVar[str] = T.CASE_WITHDRAWN
    VERSION: ClassVar[int] = 2

    reason: str
    after_infusion: bool = False
    """After an infusion, withdrawal is from follow-up."""
    signature: SignedBy | None = None
    """``None`` only for a withdrawal recorded at version 1, before it was signed."""

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"reason": self.reason, "after_infusion": self.after_infusion}
        if self.signature is not None:
            data["signature"] = self.signature.to_data()
        return data

    @classmethod
    def from_data(cls, d: Data) -> CaseWithdrawn:
        return cls(F.text(d, "reason"), F.flag(d, "after_infusion", False), _opt_signature(d))


@dataclass(frozen=True, slots=True)
class CaseWithdrawnV1:
    """Version 1: the reason alone, unsigned."""

    TYPE: ClassVar[str] = T.CASE_WITHDRAWN
    VERSION: ClassVar[int] = 1

    reason: str
    after_infusion: bool = False

    def to_data(self) -> dict[str, Any]:
        return {"reason": self.reason, "after_infusion": self.after_infusion}

    @classmethod
    def from_data(cls, d: Data) -> CaseWithdrawnV1:
        return cls(F.text(d, "reason"), F.flag(d, "after_infusion", False))

    def upgrade(self, event: Event) -> CaseWithdrawn:
        return CaseWithdrawn(self.reason, self.after_infusion)


@dataclass(frozen=True, slots=True)
class CaseDeceased:
    """Version 2: the death is signed (a physician)."""

    TYPE: ClassVar[str] = T.CASE_DECEASED
    VERSION: ClassVar[int] = 2

    reason: str
    signature: SignedBy | None = None
    """``None`` only for a death recorded at version 1, before it was signed."""

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"reason": self.reason}
        if self.signature is not None:
            data["signature"] = self.signature.to_data()
        return data

    @classmethod
    def from_data(cls, d: Data) -> CaseDeceased:
        return cls(F.text(d, "reason"), _opt_signature(d))


@dataclass(frozen=True, slots=True)
class CaseDeceasedV1:
    """Version 1: the reason alone, unsigned."""

    TYPE: ClassVar[str] = T.CASE_DECEASED
    VERSION: ClassVar[int] = 1

    reason: str

    def to_data(self) -> dict[str, Any]:
        return {"reason": self.reason}

    @classmethod
    def from_data(cls, d: Data) -> CaseDeceasedV1:
        return cls(F.text(d, "reason"))

    def upgrade(self, event: Event) -> CaseDeceased:
        return CaseDeceased(self.reason)


def _opt_signature(d: Data) -> SignedBy | None:
    return None if d.get("signature") is None else F.signature(d)
