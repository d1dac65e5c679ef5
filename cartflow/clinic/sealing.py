"""The hashed bytes of the rows beside the event log: audit rows and patient identities.

Kept free of models and services so that the migration that sealed the rows already written
hashes them exactly as the running code does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import msgspec

from cartflow.domain.hashchain import canonical_bytes, link


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def audit_bytes(
    *,
    seq: int,
    at: datetime,
    user_id: int | None,
    username: str,
    operation: str,
    case_coi: str,
    request_id: str,
    ip: str,
    user_agent: str,
    summary: Any,
    prev: str,
) -> tuple[bytes, str]:
    """The canonical bytes of an audit row chained after ``prev``, and their hash.

    The summary goes through JSON first, as the database gives it back, so the bytes written
    and the bytes verified are the same.
    """
    body = {
        "seq": seq,
        "at": _iso(at),
        "user_id": user_id,
        "username": username,
        "operation": operation,
        "case": case_coi,
        "request_id": request_id,
        "ip": ip,
        "user_agent": user_agent,
        "summary": json.loads(json.dumps(summary or {}, default=str)),
    }
    data = canonical_bytes(link(body, prev))
    return data, hashlib.sha256(data).hexdigest()


AUDIT_KEYS = (
    "seq",
    "at",
    "user_id",
    "username",
    "operation",
    "case",
    "request_id",
    "ip",
    "user_agent",
    "summary",
)
"""The keys of an audit row's bytes (besides ``prev``), in the order of its columns."""


def audit_hash_quick(values: Sequence[Any], prev: str) -> str:
    """The hash :func:`audit_bytes` gives, for a row as the database gives it back, fast:
    ``values`` are its columns in :data:`AUDIT_KEYS`' order, ``at`` the text
    ``isoformat()`` writes of its time (which the database can write) and the summary
    decoded.

    msgspec's encoder with sorted keys (Python's C JSON encoder where msgspec refuses a value,
    such as a lone surrogate) writes RFC 8785's bytes for everything an audit row holds except
    numbers with a fraction or an exponent and keys beyond the Basic Multilingual Plane. A
    verifier may trust a match: equal SHA-256 digests mean equal bytes, and bytes that parse
    to the same JSON values are the same row. On a mismatch it must ask :func:`audit_bytes`
    (the exact form) before calling the row edited.
    """
    body = dict(zip(AUDIT_KEYS, values, strict=True))
    summary = body["summary"]
    if not isinstance(summary, dict):
        body["summary"] = summary or {}
    body["prev"] = prev
    try:
        data = _QUICK.encode(body)
    except msgspec.EncodeError:
        data = _SLOW.encode(body).encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()


_QUICK = msgspec.json.Encoder(order="sorted")
_SLOW = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


IDENTITY_OPERATION = "register_patient"
"""The audit operation whose row records a patient's identity hash (the only one: a patient's
identity is never changed in place). Verification reads that operation's rows alone."""


def identity_hash(
    *,
    public_id: Any,
    site_id: int,
    record_number: str,
    given_name: str,
    family_name: str,
    birth_date: date,
    sex: str,
) -> str:
    """The hash of what identifies a patient; its value is recorded in the chained audit trail."""
    body = {
        "patient": str(public_id),
        "site": site_id,
        "record_number": record_number,
        "given_name": given_name,
        "family_name": family_name,
        "birth_date": _iso(birth_date),
        "sex": sex,
    }
    return hashlib.sha256(canonical_bytes(body)).hexdigest()


def patient_identity_hash(patient: Any) -> str:
    return identity_hash(
        public_id=patient.public_id,
        site_id=patient.treating_site_id,
        record_number=patient.record_number,
        given_name=patient.given_name,
        family_name=patient.family_name,
        birth_date=patient.birth_date,
        sex=patient.sex,
    )
