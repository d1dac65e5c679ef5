"""Hash chains over RFC 8785 canonical JSON: the custody log, the event log and the ledger.

Each entry carries the SHA-256 hash of the entry before it; an entry's own hash is taken over
the canonical bytes of the whole entry, ``prev`` included. Editing, deleting, reordering or
cutting entries therefore breaks a link that :func:`verify_chain` reports.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import rfc8785

GENESIS = "0" * 64
PREV_KEY = "prev"


def _plain(value: Any) -> Any:
    """``value`` with every mapping as a dict and every sequence as a list (rfc8785 accepts
    only ``dict`` for objects, so a read-only mapping would otherwise be refused)."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def canonical_bytes(value: Mapping[str, Any]) -> bytes:
    """The RFC 8785 (JSON Canonicalization Scheme) bytes of ``value`` (any mapping)."""
    return bytes(rfc8785.dumps(_plain(value)))


def entry_hash(entry: Mapping[str, Any]) -> str:
    """The hex SHA-256 of an entry's canonical bytes."""
    return hashlib.sha256(canonical_bytes(entry)).hexdigest()


def link(body: Mapping[str, Any], prev_hash: str) -> dict[str, Any]:
    """A new entry: ``body`` with the previous entry's hash under ``prev``."""
    if PREV_KEY in body:
        raise ValueError(f"an entry body may not carry its own {PREV_KEY!r} field")
    return {**body, PREV_KEY: prev_hash}


def build_chain(bodies: Sequence[Mapping[str, Any]], start: str = GENESIS) -> list[dict[str, Any]]:
    """Link ``bodies`` in order into a chain that starts after ``start``."""
    chain: list[dict[str, Any]] = []
    prev = start
    for body in bodies:
        entry = link(body, prev)
        chain.append(entry)
        prev = entry_hash(entry)
    return chain


@dataclass(frozen=True)
class ChainReport:
    """The outcome of a verification: ``ok``, or the first broken entry and why."""

    ok: bool
    entries: int
    head: str
    broken_at: int | None = None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head": self.head,
            "broken_at": self.broken_at,
            "reason": self.reason,
        }


def verify_chain(
    entries: Sequence[Mapping[str, Any]],
    start: str = GENESIS,
    expected_head: str | None = None,
    expected_length: int | None = None,
) -> ChainReport:
    """Check every link; report the first entry (0-based) where the chain breaks.

    ``expected_head`` and ``expected_length`` come from somewhere the chain cannot rewrite
    (the ledger): with them, a cut tail is found too, since the remaining chain is intact.
    """
    prev = start
    for index, entry in enumerate(entries):
        if entry.get(PREV_KEY) != prev:
            reason = (
                "the entry does not carry the hash of the entry before it "
                "(an entry was edited, removed or moved)"
            )
            return ChainReport(False, len(entries), prev, index, reason)
        prev = entry_hash(entry)
    if expected_length is not None and len(entries) != expected_length:
        reason = f"the chain holds {len(entries)} entries, the ledger recorded {expected_length}"
        return ChainReport(False, len(entries), prev, min(len(entries), expected_length), reason)
    if expected_head is not None and prev != expected_head:
        reason = "the last entry's hash differs from the head recorded in the ledger"
        return ChainReport(False, len(entries), prev, len(entries), reason)
    return ChainReport(True, len(entries), prev)
