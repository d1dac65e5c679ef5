"""What the routers share: the answer to a recorded step, the reads of events and signatures,
and ``record`` (one journey operation from a request). Schemas live in ``api/schemas``."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

from django.db.models import Prefetch
from django.http import HttpRequest
from ninja import Schema, Status

from cartflow.clinic.api.auth import acting_user, case_of, meta
from cartflow.clinic.models import Event, Signature, TherapyCase
from cartflow.clinic.services import idempotency
from cartflow.clinic.services.append import Appended, AppendResult
from cartflow.clinic.services.context import current_request


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
    """The answer to a recorded step: the case's new step and the events stored, signed.

    Built from the rows the append wrote, not read back: it is built inside the write's
    transaction (an ``Idempotency-Key`` stores it there), which holds the network's write
    lock, so every query saved is time every other writer does not wait.
    """
    return {
        "coi": result.case.coi,
        "step": result.step,
        "version": result.version,
        "head": result.head,
        "events": [_appended_out(appended, result.signature) for appended in result.events],
    }


def _appended_out(appended: Appended, signature: Signature | None) -> dict[str, Any]:
    row = appended.row
    signatures = [signature] if signature is not None and signature.event_id == appended.id else []
    return {
        "seq": row.seq,
        "type": row.type,
        # as the database gives them back: in UTC
        "occurred_at": row.occurred_at.astimezone(UTC),
        "recorded_at": row.recorded_at.astimezone(UTC),
        "actor": row.actor,
        "site": row.site,
        "hash": row.hash,
        "prev_hash": row.prev_hash,
        "data": json.loads(row.body).get("data") or {},
        "signatures": [signature_out(s) for s in signatures],
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
