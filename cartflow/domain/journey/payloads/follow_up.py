"""Payloads after the infusion: monitoring and the 15-year follow-up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from cartflow.domain.journey import event_types as T
from cartflow.domain.journey.payloads import fields as F
from cartflow.domain.journey.payloads.fields import Data


@dataclass(frozen=True, slots=True)
class MonitoringStarted:
    TYPE: ClassVar[str] = T.MONITORING_STARTED
    VERSION: ClassVar[int] = 1

    def to_data(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_data(cls, d: Data) -> MonitoringStarted:
        return cls()


@dataclass(frozen=True, slots=True)
class MonitoringCompleted:
    TYPE: ClassVar[str] = T.MONITORING_COMPLETED
    VERSION: ClassVar[int] = 1

    days_since_infusion: int | None = None
    follow_up_until: date | None = None
    """The last day of follow-up; where an event lacks it, 15 years from the first infusion."""

    def to_data(self) -> dict[str, Any]:
        return {
            "days_since_infusion": self.days_since_infusion,
            "follow_up_until": None
            if self.follow_up_until is None
            else self.follow_up_until.isoformat(),
        }

    @classmethod
    def from_data(cls, d: Data) -> MonitoringCompleted:
        return cls(F.opt_whole(d, "days_since_infusion"), F.opt_day(d, "follow_up_until"))


@dataclass(frozen=True, slots=True)
class FollowUpVisit:
    TYPE: ClassVar[str] = T.FOLLOW_UP_VISIT
    VERSION: ClassVar[int] = 1

    note_ref: str = ""

    def to_data(self) -> dict[str, Any]:
        return {"note_ref": self.note_ref}

    @classmethod
    def from_data(cls, d: Data) -> FollowUpVisit:
        return cls(F.text(d, "note_ref", ""))


@dataclass(frozen=True, slots=True)
class FollowUpCompleted:
    TYPE: ClassVar[str] = T.FOLLOW_UP_COMPLETED
    VERSION: ClassVar[int] = 1

    follow_up_until: date | None = None

    def to_data(self) -> dict[str, Any]:
        until = self.follow_up_until
        return {"follow_up_until": None if until is None else until.isoformat()}

    @classmethod
    def from_data(cls, d: Data) -> FollowUpCompleted:
        return cls(F.opt_day(d, "follow_up_until"))
