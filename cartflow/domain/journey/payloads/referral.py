"""Payloads from referral to screening: the referral, the antigen test, eligibility (on label
or as a signed off-label exception) and the infectious-disease screening."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from cartflow.domain.events import Event
from cartflow.domain.journey import event_types as T
from cartflow.domain.journey.payloads import fields as F
from cartflow.domain.journey.payloads.fields import Data, SignedBy


@dataclass(frozen=True, slots=True)
class CaseReferred:
    TYPE: ClassVar[str] = T.CASE_REFERRED
    VERSION: ClassVar[int] = 2

    coi: str
    product: str
    indication: str
    region: str
    site_timezone: str
    approved_in: tuple[str, ...] = ()

    def to_data(self) -> dict[str, Any]:
        return {
            "coi": self.coi,
            "product": self.product,
            "indication": self.indication,
            "region": self.region,
            "site_timezone": self.site_timezone,
            "approved_in": list(self.approved_in),
        }

    @classmethod
    def from_data(cls, d: Data) -> CaseReferred:
        return cls(
            F.text(d, "coi"),
            F.text(d, "product"),
            F.text(d, "indication"),
            F.text(d, "region"),
            F.text(d, "site_timezone"),
            F.texts(d, "approved_in", []),
        )


@dataclass(frozen=True, slots=True)
class CaseReferredV1:
    """Version 1 named the site's time zone ``tz``."""

    TYPE: ClassVar[str] = T.CASE_REFERRED
    VERSION: ClassVar[int] = 1

    coi: str
    product: str
    indication: str
    region: str
    tz: str
    approved_in: tuple[str, ...] = ()

    def to_data(self) -> dict[str, Any]:
        return {
            "coi": self.coi,
            "product": self.product,
            "indication": self.indication,
            "region": self.region,
            "tz": self.tz,
            "approved_in": list(self.approved_in),
        }

    @classmethod
    def from_data(cls, d: Data) -> CaseReferredV1:
        return cls(
            F.text(d, "coi"),
            F.text(d, "product"),
            F.text(d, "indication"),
            F.text(d, "region"),
            F.text(d, "tz"),
            F.texts(d, "approved_in", []),
        )

    def upgrade(self, event: Event) -> CaseReferred:
        return CaseReferred(
            self.coi, self.product, self.indication, self.region, self.tz, self.approved_in
        )


@dataclass(frozen=True, slots=True)
class AntigenTested:
    TYPE: ClassVar[str] = T.ANTIGEN_TESTED
    VERSION: ClassVar[int] = 1

    antigen: str
    positive: bool
    qualifies: bool
    method: str = ""
    target_antigen: str | None = None

    def to_data(self) -> dict[str, Any]:
        return {
            "antigen": self.antigen,
            "positive": self.positive,
            "method": self.method,
            "target_antigen": self.target_antigen,
            "qualifies": self.qualifies,
        }

    @classmethod
    def from_data(cls, d: Data) -> AntigenTested:
        return cls(
            F.text(d, "antigen"),
            F.flag(d, "positive"),
            F.flag(d, "qualifies"),
            F.text(d, "method", ""),
            F.opt_text(d, "target_antigen"),
        )


def _patient_facts(d: Data) -> Mapping[str, Any] | None:
    # Events signed before the facts were kept beside the judgment have no "patient_facts".
    facts = F.opt_mapping(d, "patient_facts")
    return None if facts is None else F.plain(facts)


@dataclass(frozen=True, slots=True)
class EligibilitySigned:
    TYPE: ClassVar[str] = T.ELIGIBILITY_SIGNED
    VERSION: ClassVar[int] = 1

    signature: SignedBy
    assessment: Mapping[str, Any]
    patient_facts: Mapping[str, Any] | None = None
    """The patient's facts judged ("facts" names the catalog facts a decision used)."""

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "signature": self.signature.to_data(),
            "assessment": F.plain(self.assessment),
        }
        if self.patient_facts is not None:
            data["patient_facts"] = F.plain(self.patient_facts)
        return data

    @classmethod
    def from_data(cls, d: Data) -> EligibilitySigned:
        return cls(F.signature(d), F.plain(F.mapping(d, "assessment")), _patient_facts(d))


@dataclass(frozen=True, slots=True)
class OffLabelEligibility:
    TYPE: ClassVar[str] = T.OFF_LABEL_ELIGIBILITY
    VERSION: ClassVar[int] = 1

    reason: str
    judged: str
    signature: SignedBy
    assessment: Mapping[str, Any]
    patient_facts: Mapping[str, Any] | None = None

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "reason": self.reason,
            "judged": self.judged,
            "signature": self.signature.to_data(),
            "assessment": F.plain(self.assessment),
        }
        if self.patient_facts is not None:
            data["patient_facts"] = F.plain(self.patient_facts)
        return data

    @classmethod
    def from_data(cls, d: Data) -> OffLabelEligibility:
        return cls(
            F.text(d, "reason"),
            F.text(d, "judged"),
            F.signature(d),
            F.plain(F.mapping(d, "assessment")),
            _patient_facts(d),
        )


@dataclass(frozen=True, slots=True)
class ScreeningRecorded:
    TYPE: ClassVar[str] = T.SCREENING_RECORDED
    VERSION: ClassVar[int] = 1

    cleared: bool
    tests: tuple[str, ...] = ()

    def to_data(self) -> dict[str, Any]:
        return {"cleared": self.cleared, "tests": list(self.tests)}

    @classmethod
    def from_data(cls, d: Data) -> ScreeningRecorded:
        return cls(F.flag(d, "cleared"), F.texts(d, "tests", []))
