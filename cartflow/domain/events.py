"""The envelope every journey event shares.

An event is immutable: who did what, where, when it happened (``occurred_at``, clinical time
in the site's time zone) and when it was recorded (``recorded_at``). Its ``data`` is plain JSON.
``schema_version`` lets :func:`cartflow.domain.journey.apply` read every version ever written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

JSON = Any


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must carry a time zone (an aware datetime), got {value!r}")


@dataclass(frozen=True)
class Event:
    """One recorded step of a therapy case."""

    type: str
    occurred_at: datetime
    actor: str
    data: Mapping[str, JSON] = field(default_factory=dict)
    schema_version: int = 1
    site: str = ""
    recorded_at: datetime | None = None

    def __post_init__(self) -> None:
        _require_aware("occurred_at", self.occurred_at)
        if self.recorded_at is not None:
            _require_aware("recorded_at", self.recorded_at)

    def recorded(self, at: datetime) -> Event:
        """This event as stored at ``at``."""
        return Event(
            self.type, self.occurred_at, self.actor, self.data, self.schema_version, self.site, at
        )

    def to_body(self) -> dict[str, JSON]:
        """The JSON body that is hashed and stored (RFC 8785 canonical form is taken later)."""
        return {
            "type": self.type,
            "schema_version": self.schema_version,
            "occurred_at": self.occurred_at.isoformat(),
            "recorded_at": self.recorded_at.isoformat() if self.recorded_at else None,
            "actor": self.actor,
            "site": self.site,
            "data": dict(self.data),
        }

    @classmethod
    def from_body(cls, body: Mapping[str, JSON]) -> Event:
        recorded = body.get("recorded_at")
        return cls(
            type=str(body["type"]),
            schema_version=int(body.get("schema_version", 1)),
            occurred_at=datetime.fromisoformat(str(body["occurred_at"])),
            recorded_at=datetime.fromisoformat(str(recorded)) if recorded else None,
            actor=str(body.get("actor", "")),
            site=str(body.get("site", "")),
            data=dict(body.get("data") or {}),
        )
