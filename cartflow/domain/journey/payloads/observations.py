"""Payloads of what is observed beside the steps: CRS and ICANS grades, transgene levels,
deviations, the response of the disease and the end of a toxicity episode."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar

from cartflow.domain.journey import event_types as T
from cartflow.domain.journey.payloads import fields as F
from cartflow.domain.journey.payloads.fields import Data, SignedBy


@dataclass(frozen=True, slots=True)
class CrsGraded:
    """An ASTCT 2019 CRS grade and what it was graded from (``observed``, as entered)."""

    TYPE: ClassVar[str] = T.CRS_GRADED
    VERSION: ClassVar[int] = 1

    observed: Mapping[str, Any]
    grade: int
    crs: bool
    reason: str = ""
    deciding_domains: tuple[str, ...] = ()

    def to_data(self) -> dict[str, Any]:
        return {
            "observed": F.plain(self.observed),
            "grade": self.grade,
            "crs": self.crs,
            "reason": self.reason,
            "deciding_domains": list(self.deciding_domains),
        }

    @classmethod
    def from_data(cls, d: Data) -> CrsGraded:
        grade = F.whole(d, "grade")
        return cls(
            F.plain(F.mapping(d, "observed")),
            grade,
            F.flag(d, "crs", grade > 0),
            F.text(d, "reason", ""),
            F.texts(d, "deciding_domains", []),
        )


@dataclass(frozen=True, slots=True)
class IcansGraded:
    TYPE: ClassVar[str] = T.ICANS_GRADED
    VERSION: ClassVar[int] = 1

    observed: Mapping[str, Any]
    grade: int
    icans: bool
    instrument: str = ""
    """ICE or CAPD."""
    deciding_domains: tuple[str, ...] = ()
    domain_grades: Mapping[str, int] = field(default_factory=dict)
    reason: str = ""

    def to_data(self) -> dict[str, Any]:
        return {
            "observed": F.plain(self.observed),
            "grade": self.grade,
            "icans": self.icans,
            "instrument": self.instrument,
            "deciding_domains": list(self.deciding_domains),
            "domain_grades": dict(self.domain_grades),
            "reason": self.reason,
        }

    @classmethod
    def from_data(cls, d: Data) -> IcansGraded:
        grade = F.whole(d, "grade")
        grades = F.opt_mapping(d, "domain_grades") or {}
        return cls(
            F.plain(F.mapping(d, "observed")),
            grade,
            F.flag(d, "icans", grade > 0),
            F.text(d, "instrument", ""),
            F.texts(d, "deciding_domains", []),
            {str(k): F.whole(grades, k) for k in grades},
            F.text(d, "reason", ""),
        )


@dataclass(frozen=True, slots=True)
class KineticsMeasured:
    """A transgene level, ``day`` days after the first infusion; censored below the assay's
    limit of quantification."""

    TYPE: ClassVar[str] = T.KINETICS_MEASURED
    VERSION: ClassVar[int] = 1

    day: float
    copies_per_ug: float | None
    lloq: float | None
    censored: bool
    unit: str = ""
    infused_at: datetime | None = None

    def to_data(self) -> dict[str, Any]:
        return {
            "day": self.day,
            "copies_per_ug": self.copies_per_ug,
            "lloq": self.lloq,
            "censored": self.censored,
            "unit": self.unit,
            "infused_at": None if self.infused_at is None else self.infused_at.isoformat(),
        }

    @classmethod
    def from_data(cls, d: Data) -> KineticsMeasured:
        return cls(
            F.number(d, "day"),
            F.opt_number(d, "copies_per_ug"),
            F.opt_number(d, "lloq"),
            F.flag(d, "censored"),
            F.text(d, "unit", ""),
            None if d.get("infused_at") is None else F.moment(d, "infused_at"),
        )


@dataclass(frozen=True, slots=True)
class MarrowBlastsRecorded:
    """A bone-marrow blast percentage; the event's clinical time is the sample's."""

    TYPE: ClassVar[str] = T.MARROW_BLASTS_RECORDED
    VERSION: ClassVar[int] = 1

    blast_percent: float

    def to_data(self) -> dict[str, Any]:
        return {"blast_percent": self.blast_percent}

    @classmethod
    def from_data(cls, d: Data) -> MarrowBlastsRecorded:
        return cls(F.number(d, "blast_percent"))


@dataclass(frozen=True, slots=True)
class DeviationOpened:
    TYPE: ClassVar[str] = T.DEVIATION_OPENED
    VERSION: ClassVar[int] = 1

    kind: str
    summary: str
    details: Mapping[str, str]

    def to_data(self) -> dict[str, Any]:
        return {"kind": self.kind, "summary": self.summary, "details": dict(self.details)}

    @classmethod
    def from_data(cls, d: Data) -> DeviationOpened:
        raw = d.get("details") or {}
        if not isinstance(raw, Mapping):
            raise F.MalformedData("field 'details' is not an object")
        details = {str(k): str(v) for k, v in raw.items()}
        return cls(F.text(d, "kind"), F.text(d, "summary"), details)


@dataclass(frozen=True, slots=True)
class DeviationReviewed:
    """Quality reviewed deviations of the case (``numbers``: their 1-based order on the case),
    with a comment, signed (meaning: review)."""

    TYPE: ClassVar[str] = T.DEVIATION_REVIEWED
    VERSION: ClassVar[int] = 1

    numbers: tuple[int, ...]
    comment: str
    signature: SignedBy

    def to_data(self) -> dict[str, Any]:
        return {
            "numbers": list(self.numbers),
            "comment": self.comment,
            "signature": self.signature.to_data(),
        }

    @classmethod
    def from_data(cls, d: Data) -> DeviationReviewed:
        raw = F.items(d, "numbers")
        if not all(isinstance(n, int) and not isinstance(n, bool) for n in raw):
            raise F.MalformedData("field 'numbers' is not a list of numbers")
        return cls(tuple(raw), F.text(d, "comment"), F.signature(d))


@dataclass(frozen=True, slots=True)
class ResponseAssessed:
    TYPE: ClassVar[str] = T.RESPONSE_ASSESSED
    VERSION: ClassVar[int] = 1

    response: str
    method: str
    assessed_on: date
    day: int
    """Days from the first infusion to the assessment (site calendar)."""

    def to_data(self) -> dict[str, Any]:
        return {
            "response": self.response,
            "method": self.method,
            "assessed_on": self.assessed_on.isoformat(),
            "day": self.day,
        }

    @classmethod
    def from_data(cls, d: Data) -> ResponseAssessed:
        return cls(
            F.text(d, "response"),
            F.text(d, "method"),
            F.day(d, "assessed_on"),
            F.whole(d, "day"),
        )


@dataclass(frozen=True, slots=True)
class ToxicityResolved:
    TYPE: ClassVar[str] = T.TOXICITY_RESOLVED
    VERSION: ClassVar[int] = 1

    syndrome: str
    onset_at: datetime
    max_grade: int
    treatments: tuple[str, ...] = ()

    def to_data(self) -> dict[str, Any]:
        return {
            "syndrome": self.syndrome,
            "onset_at": self.onset_at.isoformat(),
            "max_grade": self.max_grade,
            "treatments": list(self.treatments),
        }

    @classmethod
    def from_data(cls, d: Data) -> ToxicityResolved:
        return cls(
            F.text(d, "syndrome"),
            F.moment(d, "onset_at"),
            F.whole(d, "max_grade"),
            F.texts(d, "treatments", []),
        )
