"""The chain of custody: who held a case's cells when, at what temperature, and where.

The custody log is a hash chain (:mod:`cartflow.domain.hashchain`): each entry carries the
SHA-256 hash of the entry before it over its RFC 8785 canonical JSON bytes, so an edited,
removed, reordered or cut entry is found by :func:`verify_custody`.

Each hand-off names the party giving and the party taking, and carries the scanned
chain-of-identity identifier and the scanned bag label. A scan that does not name the case
(a different or unreadable identifier, another bag or lot) is refused, and the refusal is
itself appended to the log with outcome ``"refused"``: a mismatch is never silently accepted
nor silently dropped. :func:`record_handoff` returns the new log and says whether the hand-off
was accepted; :func:`record_handoff_strict` raises :class:`HandoffRefused` (an
:class:`~cartflow.domain.errors.IdentityMismatch`) that still carries the log with the
refusal, which the caller must save.

Input that is malformed (an implausible temperature, a naive time, an empty party name) is
not a scan mismatch: it raises :class:`~cartflow.domain.errors.InvalidInput` and nothing is
logged.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from cartflow.domain.errors import IdentityMismatch, InvalidInput
from cartflow.domain.hashchain import GENESIS, ChainReport, entry_hash, link, verify_chain
from cartflow.domain.identifiers import BagLabel, Din, parse_scan

ENTRY_TYPE: Final = "custody.handoff"
SCHEMA_VERSION: Final = 1
ACCEPTED: Final = "accepted"
REFUSED: Final = "refused"

MIN_TEMPERATURE_C: Final = -273.15
"""Absolute zero: nothing colder is physically possible."""
MAX_TEMPERATURE_C: Final = 60.0
"""Warmer than any shipper, freezer or ward: a reading above it is a device or typing error."""

TEXT_MAX: Final = 120
"""The longest party name or location accepted, in characters."""
SCAN_KEPT: Final = 64
"""How many characters of a scan are kept in a refused entry."""


@dataclass(frozen=True)
class Handoff:
    """One hand-off of a case's bag, as recorded by the person taking it.

    ``scanned_coi`` is the chain-of-identity identifier as scanned or typed (any form
    :func:`~cartflow.domain.identifiers.parse_scan` reads, flag 00 included);
    ``scanned_bag_id`` and ``scanned_lot`` are the bag's manufacturer identifier and lot as
    scanned. ``at`` must be an aware datetime (time is passed in).
    """

    giver: str
    taker: str
    scanned_coi: str
    scanned_bag_id: str
    scanned_lot: str
    temperature_c: float
    at: datetime
    location: str


@dataclass(frozen=True)
class CustodyLog:
    """A case's custody entries in order, each linked to the one before it.

    ``start`` is the hash the first entry links to (the genesis value for a new case).
    Entries are plain JSON dictionaries, stored as they are hashed; treat them as read-only.
    """

    entries: tuple[Mapping[str, Any], ...] = ()
    start: str = GENESIS

    @property
    def head(self) -> str:
        """The hash of the last entry (``start`` for an empty log)."""
        return entry_hash(self.entries[-1]) if self.entries else self.start

    def __len__(self) -> int:
        return len(self.entries)


@dataclass(frozen=True)
class HandoffResult:
    """The outcome of a hand-off: the new log, the entry appended, and whether it was accepted.

    ``mismatched`` names the scans that did not match (``"coi"``, ``"bag_id"``, ``"lot"``);
    ``reason`` says so in plain words (empty when accepted).
    """

    log: CustodyLog
    entry: Mapping[str, Any]
    accepted: bool
    mismatched: tuple[str, ...] = ()
    reason: str = ""


class HandoffRefused(IdentityMismatch):
    """A scan did not match the case; ``result.log`` holds the logged refusal, to be saved."""

    def __init__(self, result: HandoffResult) -> None:
        super().__init__(result.reason, which=result.mismatched)
        self.result = result


def _text(name: str, value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"the {name} is required: a name of at most {TEXT_MAX} characters")
    value = value.strip()
    if len(value) > TEXT_MAX or not value.isprintable():
        raise InvalidInput(
            f"the {name} must be at most {TEXT_MAX} printable characters (no line breaks)"
        )
    return value


def check_temperature(temperature_c: float) -> float:
    """``temperature_c`` as a float, or :class:`InvalidInput` if it is physically implausible."""
    if isinstance(temperature_c, bool) or not isinstance(temperature_c, int | float):
        raise InvalidInput("the temperature must be a number of degrees Celsius")
    value = float(temperature_c)
    if not math.isfinite(value) or not MIN_TEMPERATURE_C <= value <= MAX_TEMPERATURE_C:
        raise InvalidInput(
            f"the temperature {temperature_c!r} °C is not physically plausible; "
            f"accepted: {MIN_TEMPERATURE_C} to {MAX_TEMPERATURE_C:g} °C"
        )
    return value


def _check_time(at: datetime) -> datetime:
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput("the hand-off time must be a date and time with a time zone")
    return at


def _kept(scan: str) -> str:
    """A scan as stored: printable characters only, at most ``SCAN_KEPT`` of them."""
    cleaned = "".join(c if c.isprintable() else "?" for c in str(scan).strip())
    return cleaned[:SCAN_KEPT]


def _coi_mismatch(scanned: str, case_coi: Din) -> str | None:
    try:
        din = parse_scan(scanned).din
    except InvalidInput:
        return "the chain-of-identity scan is not a valid identifier"
    if din != case_coi:
        return "the chain-of-identity scan names a different case"
    return None


def record_handoff(
    log: CustodyLog, case_coi: Din, expected_bag: BagLabel, handoff: Handoff
) -> HandoffResult:
    """Append a hand-off to ``log``: accepted if every scan matches the case, else refused.

    Both outcomes are appended; the caller saves ``result.log`` either way and, when
    ``result.accepted`` is false, stops the hand-off. Malformed input raises
    :class:`InvalidInput` and appends nothing.
    """
    giver = _text("party giving", handoff.giver)
    taker = _text("party taking", handoff.taker)
    if giver == taker:
        raise InvalidInput("the party giving and the party taking must be different parties")
    location = _text("location", handoff.location)
    temperature = check_temperature(handoff.temperature_c)
    at = _check_time(handoff.at)

    mismatched: list[str] = []
    reasons: list[str] = []
    coi_problem = _coi_mismatch(handoff.scanned_coi, case_coi)
    if coi_problem:
        mismatched.append("coi")
        reasons.append(coi_problem)
    if str(handoff.scanned_bag_id).strip() != expected_bag.bag_id:
        mismatched.append("bag_id")
        reasons.append("the bag identifier scan does not match this case's bag")
    if str(handoff.scanned_lot).strip() != expected_bag.lot:
        mismatched.append("lot")
        reasons.append("the bag lot scan does not match this case's bag")
    reason = ""
    if reasons:
        reason = (
            "hand-off refused: "
            + "; ".join(reasons)
            + ". Do not hand over: check the bag and the paperwork against the case"
        )

    body: dict[str, Any] = {
        "type": ENTRY_TYPE,
        "schema_version": SCHEMA_VERSION,
        "coi": case_coi.compact,
        "giver": giver,
        "taker": taker,
        "scanned_coi": _kept(handoff.scanned_coi),
        "scanned_bag": {
            "bag_id": _kept(handoff.scanned_bag_id),
            "lot": _kept(handoff.scanned_lot),
        },
        "temperature_c": temperature,
        "at": at.isoformat(),
        "location": location,
        "outcome": REFUSED if reasons else ACCEPTED,
        "mismatched": list(mismatched),
        "reason": reason,
    }
    entry = link(body, log.head)
    new_log = CustodyLog((*log.entries, entry), log.start)
    return HandoffResult(new_log, entry, not reasons, tuple(mismatched), reason)


def record_handoff_strict(
    log: CustodyLog, case_coi: Din, expected_bag: BagLabel, handoff: Handoff
) -> CustodyLog:
    """Like :func:`record_handoff`, but a refusal raises :class:`HandoffRefused`.

    The exception's ``result.log`` holds the log with the refusal appended: save it before
    reporting the error, so the refusal is on record.
    """
    result = record_handoff(log, case_coi, expected_bag, handoff)
    if not result.accepted:
        raise HandoffRefused(result)
    return result.log


def verify_custody(
    log: CustodyLog | Sequence[Mapping[str, Any]],
    *,
    start: str = GENESIS,
    expected_head: str | None = None,
    expected_length: int | None = None,
) -> ChainReport:
    """Check every link of a custody log; the report names the first entry where it breaks.

    Editing entry ``k`` breaks the link at ``k + 1`` (its successor no longer carries its
    hash); removing or moving an entry breaks it where the gap or move is. Editing the last
    entry or cutting the tail is found only against ``expected_head`` / ``expected_length``,
    kept somewhere the log cannot rewrite (the ledger).
    """
    if isinstance(log, CustodyLog):
        entries: Sequence[Mapping[str, Any]] = log.entries
        start = log.start
    else:
        entries = log
    return verify_chain(entries, start, expected_head, expected_length)
