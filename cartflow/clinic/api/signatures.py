"""Electronic signatures: list a case's signatures, sign a recorded event (a review).

The signer enters the password again and states the meaning; the signature records the hash
of the event it signs, and every read shows the printed name, the time and the meaning
(21 CFR 11.50, 11.70, 11.200).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from cartflow.clinic import services
from cartflow.clinic.api.auth import access_to, acting_user, case_of, meta
from cartflow.clinic.api.common import signature_out
from cartflow.clinic.api.schemas.common import SignatureOut
from cartflow.clinic.api.schemas.fields import CoiPath
from cartflow.clinic.api.schemas.signatures import EventHash, SignIn, VerifiedSignatureOut
from cartflow.clinic.models import Event, Signature
from cartflow.clinic.services.errors import NotFound
from cartflow.domain.roles import Action

router = Router(tags=["signatures"])


def verified(signature: Signature) -> dict[str, Any]:
    ok, problem = services.verify_signature(signature)
    return {
        **signature_out(signature),
        "event_type": signature.event.type,
        "event_seq": signature.event.seq,
        "valid": ok,
        "problem": problem,
    }


@router.get(
    "/cases/{coi}/signatures",
    response=list[VerifiedSignatureOut],
    auth=access_to(Action.VIEW_CASE),
    summary="Every signature of the case, each checked against the event it signs",
)
def list_signatures(request: HttpRequest, coi: CoiPath) -> Any:
    rows = (
        Signature.objects.filter(event__case=case_of(request))
        .select_related("event", "signature_event")
        .order_by("signed_at", "pk")
    )
    return [verified(s) for s in rows]


@router.post(
    "/cases/{coi}/events/{event_hash}/signatures",
    response={201: SignatureOut},
    auth=access_to(Action.SIGN_EVENT),
    summary="Sign an event already recorded (re-enter the password, state the meaning)",
)
def sign_event(request: HttpRequest, coi: CoiPath, event_hash: EventHash, payload: SignIn) -> Any:
    event = Event.objects.filter(case=case_of(request), hash=event_hash).first()
    if event is None:
        raise NotFound(f"no event {event_hash} in case {case_of(request).coi}")
    signature = services.sign(
        acting_user(request),
        payload.password,
        payload.meaning,
        event,
        request_meta=meta(request),
        request=request,
    )
    return Status(201, signature_out(signature))
