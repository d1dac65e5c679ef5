"""Reading one field of a stored event's data, and the records several payloads share.

Every reader raises :class:`MalformedData` (which ``apply`` keeps as an anomaly) when a field
is missing or of the wrong type; the words name the field, as an anomaly is read by a person.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from cartflow.domain.journey.commands import Performer, Signature

Data = Mapping[str, Any]

DECISION_KEYS: Final = ("catalog_version", "facts")
"""What ``decide`` adds to every event it writes (the catalog and the facts it used), beside
the payload: a payload neither reads nor writes them."""


class MalformedData(ValueError):
    """A field of a recorded event is missing or of the wrong type (kept as an anomaly)."""


def text(d: Data, key: str, default: str | None = None) -> str:
    value = d.get(key, default)
    if not isinstance(value, str):
        raise MalformedData(f"field {key!r} is not text")
    return value


def opt_text(d: Data, key: str) -> str | None:
    return None if d.get(key) is None else text(d, key)


def flag(d: Data, key: str, default: bool | None = None) -> bool:
    value = d.get(key, default)
    if not isinstance(value, bool):
        raise MalformedData(f"field {key!r} is not true/false")
    return value


def number(d: Data, key: str, default: float | None = None) -> float:
    value = d.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedData(f"field {key!r} is not a number")
    return float(value)


def opt_number(d: Data, key: str) -> float | None:
    return None if d.get(key) is None else number(d, key)


def whole(d: Data, key: str, default: int | None = None) -> int:
    value = d.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedData(f"field {key!r} is not a whole number")
    return value


def opt_whole(d: Data, key: str) -> int | None:
    return None if d.get(key) is None else whole(d, key)


def moment(d: Data, key: str) -> datetime:
    try:
        value = datetime.fromisoformat(text(d, key))
    except ValueError as exc:
        raise MalformedData(f"field {key!r} is not a date and time") from exc
    if value.tzinfo is None:
        raise MalformedData(f"field {key!r} has no time zone")
    return value


def day(d: Data, key: str) -> date:
    try:
        return date.fromisoformat(text(d, key))
    except ValueError as exc:
        raise MalformedData(f"field {key!r} is not a date") from exc


def opt_day(d: Data, key: str) -> date | None:
    return None if d.get(key) is None else day(d, key)


def mapping(d: Data, key: str) -> Data:
    value = d.get(key)
    if not isinstance(value, Mapping):
        raise MalformedData(f"field {key!r} is not an object")
    return value


def opt_mapping(d: Data, key: str) -> Data | None:
    return None if d.get(key) is None else mapping(d, key)


def items(d: Data, key: str, default: list[Any] | None = None) -> list[Any]:
    value = d.get(key, default)
    if not isinstance(value, list):
        raise MalformedData(f"field {key!r} is not a list")
    return value


def objects(d: Data, key: str, what: str) -> list[Data]:
    found = items(d, key)
    if not all(isinstance(x, Mapping) for x in found):
        raise MalformedData(f"{what} is not an object")
    return found


def texts(d: Data, key: str, default: list[Any] | None = None) -> tuple[str, ...]:
    found = items(d, key, default)
    if not all(isinstance(x, str) for x in found):
        raise MalformedData(f"field {key!r} is not a list of text")
    return tuple(found)


def plain(value: Any) -> Any:
    """A JSON value as ``decide`` wrote it: mappings and lists copied, so a payload never
    shares a container with the data it was read from."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class SignedBy:
    """A signature as an event records it (the clinic binds it to the event's hash)."""

    signer_id: str
    role: str
    meaning: str
    signed_at: str

    def to_data(self) -> dict[str, str]:
        return {
            "signer_id": self.signer_id,
            "role": self.role,
            "meaning": self.meaning,
            "signed_at": self.signed_at,
        }

    @classmethod
    def from_data(cls, d: Data) -> SignedBy:
        return cls(text(d, "signer_id"), text(d, "role"), text(d, "meaning"), text(d, "signed_at"))

    @classmethod
    def of(cls, signature: Signature) -> SignedBy:
        return cls.from_data(signature.to_dict())


def signature(d: Data) -> SignedBy:
    return SignedBy.from_data(mapping(d, "signature"))


@dataclass(frozen=True, slots=True)
class PerformerRecord:
    """Who did an act at the bedside: a user id and the role acted in."""

    user_id: str
    role: str

    def to_data(self) -> dict[str, str]:
        return {"user_id": self.user_id, "role": self.role}

    @classmethod
    def from_data(cls, d: Data) -> PerformerRecord:
        return cls(text(d, "user_id"), text(d, "role", ""))

    @classmethod
    def of(cls, performer: Performer) -> PerformerRecord:
        return cls.from_data(performer.to_dict())


@dataclass(frozen=True, slots=True)
class LdCheck:
    """How lymphodepletion stood when the first part was thawed or infused: omitted under
    the signed exception, or completed ``days_since_ld`` site days before."""

    omitted: bool
    days_since_ld: int | None

    def to_data(self) -> dict[str, Any]:
        return {"ld_omitted": self.omitted, "days_since_ld": self.days_since_ld}

    @classmethod
    def from_data(cls, d: Data) -> LdCheck | None:
        """``None`` for a later part (the event then carries neither key)."""
        if "ld_omitted" not in d and "days_since_ld" not in d:
            return None
        return cls(flag(d, "ld_omitted"), opt_whole(d, "days_since_ld"))
