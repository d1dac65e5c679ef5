"""What the routers share: bounded input types, the answer to a recorded step, and reads."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from django.db.models import Prefetch
from django.http import HttpRequest
from django.utils import timezone
from ninja import Path, Schema, Status
from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints

from cartflow.clinic.api.auth import acting_user, case_of, meta
from cartflow.clinic.models import Event, Signature, TherapyCase
from cartflow.clinic.services import idempotency
from cartflow.clinic.services.append import AppendResult
from cartflow.clinic.services.context import current_request
from cartflow.domain.roles import Role

PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
"""No control characters in any text: a NUL byte is refused by PostgreSQL, a newline by a label."""


def bounded_text(max_length: int, min_length: int = 1) -> Any:
    return Annotated[
        str,
        StringConstraints(
            strip_whitespace=True, min_length=min_length, max_length=max_length, pattern=PRINTABLE
        ),
    ]


ShortText = bounded_text(64)
Text = bounded_text(300)
OptionalText = bounded_text(300, min_length=0)
Password = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Meaning = bounded_text(64)

COI_PATTERN = r"^=?[A-Za-z0-9*]{14,16}$"
CoiPath = Annotated[
    str,
    Path(
        description="the chain-of-identity identifier, compact (W123426000001X) or as scanned",
        pattern=COI_PATTERN,
        max_length=17,
    ),
]
Scan = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=40, pattern=PRINTABLE),
]
"""A scanned identifier (chain of identity, DIN): eye-readable, compact or barcode."""

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def _plausible_time(value: datetime) -> datetime:
    if value < EARLIEST:
        raise ValueError("must be in the year 2000 or later")
    if value > timezone.now() + timedelta(days=1):
        raise ValueError("a clinical time cannot lie in the future")
    return value


def _plausible_future(value: datetime) -> datetime:
    if value < EARLIEST or value > timezone.now() + timedelta(days=3 * 366):
        raise ValueError("must lie between the year 2000 and three years from now")
    return value


def _plausible_date(value: date) -> date:
    if not date(2000, 1, 1) <= value <= date(2100, 12, 31):
        raise ValueError("must lie between 2000-01-01 and 2100-12-31")
    return value


def _plausible_birth_date(value: date) -> date:
    if not date(1900, 1, 1) <= value <= timezone.localdate():
        raise ValueError("must lie between 1900-01-01 and today")
    return value


BirthDate = Annotated[date, AfterValidator(_plausible_birth_date)]
ClinicalTime = Annotated[AwareDatetime, AfterValidator(_plausible_time)]
"""When it happened (with a time zone); not in the future."""
PlannedTime = Annotated[AwareDatetime, AfterValidator(_plausible_future)]
"""A planned date and time (with a time zone), up to three years ahead."""
Day = Annotated[date, AfterValidator(_plausible_date)]


class StepIn(Schema):
    """What every recorded step may carry."""

    occurred_at: ClinicalTime | None = Field(
        None, description="clinical time, when it differs from the time of recording"
    )
    expected_version: int | None = Field(
        None,
        ge=0,
        le=1_000_000,
        description="the case's version you saw; 409 if it changed since",
    )


class SignedStepIn(StepIn):
    """A step that is signed: the signer enters the password again and states the meaning."""

    password: Password = Field(description="your password, entered again to sign")
    meaning: Meaning | None = Field(
        None, description="what the signature means (default: the operation's meaning)"
    )
    role: Role | None = Field(None, description="the role you sign in, when you hold several")


class SignatureOut(Schema):
    signer: str
    signed_at: datetime
    meaning: str
    method: str
    signs: str = Field(description="the hash of the event it signs")
    manifestation: str


class EventOut(Schema):
    seq: int
    type: str
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    site: str
    hash: str
    prev_hash: str
    data: dict[str, Any]
    signatures: list[SignatureOut]


class StepOut(Schema):
    coi: str
    step: str
    version: int
    head: str
    events: list[EventOut]


def signature_out(signature: Signature) -> dict[str, Any]:
    return {
        "signer": signature.signer_name,
        "signed_at": signature.signed_at,
        "meaning": signature.meaning,
        "method": signature.method,
        "signs": signature.event_hash,
        "manifestation": signature.manifestation(),
    }


def event_out(event: Event) -> dict[str, Any]:
    body = json.loads(bytes(event.body))
    return {
        "seq": event.seq,
        "type": event.type,
        "occurred_at": event.occurred_at,
        "recorded_at": event.recorded_at,
        "actor": event.actor,
        "site": event.site,
        "hash": event.hash,
        "prev_hash": event.prev_hash,
        "data": body.get("data") or {},
        "signatures": [signature_out(s) for s in event.signatures.all()],
    }


def events_with_signatures(case: TherapyCase) -> Any:
    return (
        Event.objects.filter(case=case)
        .prefetch_related(Prefetch("signatures", queryset=Signature.objects.order_by("signed_at")))
        .order_by("seq")
    )


def step_out(result: AppendResult) -> dict[str, Any]:
    """The answer to a recorded step: the case's new step and the events stored, signed."""
    ids = [appended.id for appended in result.events]
    events = (
        Event.objects.filter(pk__in=ids)
        .prefetch_related(Prefetch("signatures", queryset=Signature.objects.order_by("signed_at")))
        .order_by("seq")
    )
    return {
        "coi": result.case.coi,
        "step": result.step,
        "version": result.version,
        "head": result.head,
        "events": [event_out(e) for e in events],
    }


def record(request: HttpRequest, service: Any, payload: Schema | None, **fields: Any) -> Any:
    """Call the service function of one operation on the route's case; answer 201.

    With an ``Idempotency-Key`` header, a retry of the same request by the same user within
    24 hours is answered the first answer and writes nothing
    (:mod:`cartflow.clinic.services.idempotency`).
    """
    values = payload.dict() if payload is not None else {}
    values.update(fields)

    def write() -> tuple[int, Any]:
        # A signing step checks the password against this request's address.
        token = current_request.set(request)
        try:
            result = service(
                case_of(request),
                acting_user=acting_user(request),
                request_meta=meta(request),
                **_without_empty_signing(values),
            )
        finally:
            current_request.reset(token)
        return 201, step_out(result)

    key = request.headers.get(idempotency.HEADER)
    if key is None:
        return Status(*write())
    # The parsed input, not the raw body: equal requests compare equal whatever their
    # spacing, and no password is hashed into a stored row.
    asked = _without_passwords(payload.dict() if payload is not None else {})
    body = json.dumps(asked, sort_keys=True, default=str).encode()
    print_ = idempotency.fingerprint(str(request.method), request.path, body)
    return Status(*idempotency.once(acting_user(request), key, print_, write))


def _without_passwords(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_passwords(v) for k, v in value.items() if "password" not in k}
    if isinstance(value, list | tuple):
        return [_without_passwords(v) for v in value]
    return value


def _without_empty_signing(values: dict[str, Any]) -> dict[str, Any]:
    # ``meaning``/``role`` left out mean "the operation's default"; the service takes no None.
    for key in ("meaning", "role"):
        if key in values and values[key] is None:
            del values[key]
    if "role" in values:
        values["role"] = str(values["role"])
    return values
