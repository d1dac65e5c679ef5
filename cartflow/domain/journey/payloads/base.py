"""What every event payload offers: its event type and version, the exact mapping it is
stored as, and a parser from that mapping."""

from __future__ import annotations

from typing import Any, ClassVar, Protocol, Self

from cartflow.domain.events import Event
from cartflow.domain.journey.payloads.fields import Data


class Payload(Protocol):
    """The data of one event type at the version ``decide`` writes today.

    ``to_data`` gives the mapping stored (the same keys, values and omissions as before the
    payloads were typed, so the canonical bytes and their hashes stay the same); ``from_data``
    reads it back and raises :class:`~.fields.MalformedData` when it cannot.
    """

    TYPE: ClassVar[str]
    VERSION: ClassVar[int]

    def to_data(self) -> dict[str, Any]: ...

    @classmethod
    def from_data(cls, d: Data) -> Self: ...


class LegacyPayload(Payload, Protocol):
    """The data of an older version of an event type, read as stored and upgraded to the
    payload of today's version (with what the envelope says where the old data was silent)."""

    def upgrade(self, event: Event) -> Payload: ...
