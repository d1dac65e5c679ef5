"""Payloads of lymphodepletion: a signed fludarabine modification, the course started,
completed or stopped early, and its signed omission."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from cartflow.domain.events import Event
from cartflow.domain.journey import event_types as T
from cartflow.domain.journey.payloads import fields as F
from cartflow.domain.journey.payloads.fields import Data, SignedBy


@dataclass(frozen=True, slots=True)
class FludarabineModified:
    TYPE: ClassVar[str] = T.FLUDARABINE_MODIFIED
    VERSION: ClassVar[int] = 1

    creatinine_clearance_ml_min: float
    reduction_percent: float
    reason: str
    signature: SignedBy

    def to_data(self) -> dict[str, Any]:
        return {
            "creatinine_clearance_ml_min": self.creatinine_clearance_ml_min,
            "reduction_percent": self.reduction_percent,
            "reason": self.reason,
            "signature": self.signature.to_data(),
        }

    @classmethod
    def from_data(cls, d: Data) -> FludarabineModified:
        return cls(
            F.number(d, "creatinine_clearance_ml_min"),
            F.number(d, "reduction_percent"),
            F.text(d, "reason"),
            F.signature(d),
        )


@dataclass(frozen=True, slots=True)
class RegimenDrug:
    """A drug of the regimen as given: the label's dose and days, and for fludarabine the
    reduction of the latest signed modification."""

    drug: str
    mg_per_m2: float
    days: int | None
    on_days: tuple[int, ...] | None = None
    reduced_by_percent: float | None = None

    @property
    def span(self) -> int:
        """How many calendar days the drug runs (its first day to its last)."""
        if self.on_days:
            return max(self.on_days) - min(self.on_days) + 1
        if self.days is None:
            raise F.MalformedData("field 'days' is not a whole number")
        return self.days

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"drug": self.drug, "mg_per_m2": self.mg_per_m2, "days": self.days}
        if self.on_days is not None:
            data["on_days"] = list(self.on_days)
        if self.reduced_by_percent is not None:
            data["reduced_by_percent"] = self.reduced_by_percent
        return data

    @classmethod
    def from_data(cls, d: Data) -> RegimenDrug:
        on_days = d.get("on_days")
        days_given = (
            isinstance(on_days, list)
            and bool(on_days)
            and all(isinstance(x, int) and not isinstance(x, bool) for x in on_days)
        )
        return cls(
            F.text(d, "drug", ""),
            F.number(d, "mg_per_m2", 0.0),
            # A drug given on named days needs no count of days.
            F.opt_whole(d, "days") if days_given else F.whole(d, "days"),
            tuple(on_days) if days_given and isinstance(on_days, list) else None,
            F.opt_number(d, "reduced_by_percent"),
        )

    @classmethod
    def of(cls, drug: Mapping[str, Any], reduced_by_percent: float | None) -> RegimenDrug:
        """From the catalog's regimen drug (``decide``)."""
        on_days = drug.get("on_days")
        return cls(
            drug["drug"],
            drug["mg_per_m2"],
            drug["days"],
            None if on_days is None else tuple(on_days),
            reduced_by_percent,
        )


@dataclass(frozen=True, slots=True)
class LdStarted:
    TYPE: ClassVar[str] = T.LD_STARTED
    VERSION: ClassVar[int] = 2

    regimen: str
    """The catalog regimen id (a v1 event: the regimen as free text)."""
    repeat: bool
    regimen_drugs: tuple[RegimenDrug, ...] = ()
    regimen_use_when: str | None = None
    days_since_last_ld: int | None = None
    """Site days since the previous course ended; only on a repeat."""
    marrow_blast_percent: float | None = None
    marrow_sampled_at: datetime | None = None
    dose_regimen: str | None = None
    """Where the dose regimen depends on a marrow blast count (split_dose.py): the count, when
    its sample was taken, and the regimen it chose."""

    @property
    def scheduled_days(self) -> int | None:
        """How many days the regimen runs, from its drugs (``None`` for a v1 event)."""
        return max(d.span for d in self.regimen_drugs) if self.regimen_drugs else None

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "regimen": self.regimen,
            "regimen_drugs": [d.to_data() for d in self.regimen_drugs],
            "repeat": self.repeat,
        }
        if self.regimen_use_when is not None:
            data["regimen_use_when"] = self.regimen_use_when
        if self.days_since_last_ld is not None:
            data["days_since_last_ld"] = self.days_since_last_ld
        if self.marrow_blast_percent is not None:
            data["marrow_blast_percent"] = self.marrow_blast_percent
        if self.marrow_sampled_at is not None:
            data["marrow_sampled_at"] = self.marrow_sampled_at.isoformat()
        if self.dose_regimen is not None:
            data["dose_regimen"] = self.dose_regimen
        return data

    @classmethod
    def from_data(cls, d: Data) -> LdStarted:
        drugs = d.get("regimen_drugs")
        if isinstance(drugs, list):
            if not all(isinstance(x, Mapping) for x in drugs):
                raise F.MalformedData("a regimen drug is not an object")
            parsed = tuple(RegimenDrug.from_data(x) for x in drugs)
        else:
            parsed = ()
        return cls(
            F.text(d, "regimen"),
            F.flag(d, "repeat"),
            parsed,
            F.opt_text(d, "regimen_use_when"),
            F.opt_whole(d, "days_since_last_ld"),
            F.opt_number(d, "marrow_blast_percent"),
            None if d.get("marrow_sampled_at") is None else F.moment(d, "marrow_sampled_at"),
            F.opt_text(d, "dose_regimen"),
        )


@dataclass(frozen=True, slots=True)
class LdStartedV1:
    """Version 1 named the regimen in free text and recorded no drugs."""

    TYPE: ClassVar[str] = T.LD_STARTED
    VERSION: ClassVar[int] = 1

    regimen: str
    repeat: bool
    days_since_last_ld: int | None = None

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"regimen": self.regimen, "repeat": self.repeat}
        if self.days_since_last_ld is not None:
            data["days_since_last_ld"] = self.days_since_last_ld
        return data

    @classmethod
    def from_data(cls, d: Data) -> LdStartedV1:
        return cls(F.text(d, "regimen"), F.flag(d, "repeat"), F.opt_whole(d, "days_since_last_ld"))

    def upgrade(self, event: Event) -> LdStarted:
        return LdStarted(self.regimen, self.repeat, days_since_last_ld=self.days_since_last_ld)


@dataclass(frozen=True, slots=True)
class LdCompleted:
    TYPE: ClassVar[str] = T.LD_COMPLETED
    VERSION: ClassVar[int] = 1

    day_of_course: int | None = None
    """The day of the course it was completed on (not recorded before completion waited for
    the last scheduled day)."""

    def to_data(self) -> dict[str, Any]:
        return {} if self.day_of_course is None else {"day_of_course": self.day_of_course}

    @classmethod
    def from_data(cls, d: Data) -> LdCompleted:
        return cls(F.opt_whole(d, "day_of_course"))


@dataclass(frozen=True, slots=True)
class LdStoppedEarly:
    TYPE: ClassVar[str] = T.LD_STOPPED_EARLY
    VERSION: ClassVar[int] = 1

    reason: str
    day_of_course: int
    scheduled_days: int | None
    signature: SignedBy

    def to_data(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "day_of_course": self.day_of_course,
            "scheduled_days": self.scheduled_days,
            "signature": self.signature.to_data(),
        }

    @classmethod
    def from_data(cls, d: Data) -> LdStoppedEarly:
        return cls(
            F.text(d, "reason"),
            F.whole(d, "day_of_course"),
            F.opt_whole(d, "scheduled_days"),
            F.signature(d),
        )


@dataclass(frozen=True, slots=True)
class LdOmitted:
    TYPE: ClassVar[str] = T.LD_OMITTED
    VERSION: ClassVar[int] = 1

    wbc_per_l: float
    wbc_measured_at: datetime
    limit_per_l: float
    reason: str
    signature: SignedBy

    def to_data(self) -> dict[str, Any]:
        return {
            "wbc_per_l": self.wbc_per_l,
            "wbc_measured_at": self.wbc_measured_at.isoformat(),
            "limit_per_l": self.limit_per_l,
            "reason": self.reason,
            "signature": self.signature.to_data(),
        }

    @classmethod
    def from_data(cls, d: Data) -> LdOmitted:
        return cls(
            F.number(d, "wbc_per_l"),
            F.moment(d, "wbc_measured_at"),
            F.number(d, "limit_per_l"),
            F.text(d, "reason"),
            F.signature(d),
        )
