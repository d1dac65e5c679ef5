"""Electronic signatures: re-authenticate, state the meaning, bind to the event's hash.

21 CFR 11.200 asks for two components (user name and password) at each signing outside one
continuous controlled session; the signer gives the password again every time here, which is
the stricter reading. :func:`reauthenticate` is the one place that checks it, so single
sign-on can replace the password later without touching the operations that sign. A user
enrolled for a second factor gives an authenticator app's code as well
(:mod:`cartflow.clinic.services.second_factor`).
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.utils.translation import gettext as _

from cartflow.clinic.models import Event, Signature
from cartflow.clinic.services import second_factor
from cartflow.clinic.services.append import (
    SIGNATURE_EVENT,
    AppendRequest,
    AppendResult,
    SignatureIntent,
    append,
)
from cartflow.clinic.services.audit import verify_case
from cartflow.clinic.services.authentication import locked_out, lockout_message, request_for
from cartflow.clinic.services.context import NO_REQUEST, RequestMeta
from cartflow.clinic.services.errors import SignatureRefused
from cartflow.clinic.services.machine import CaseMachine
from cartflow.domain.errors import InvalidInput


class Meaning:
    """What a signature means (21 CFR 11.50(a)(3)); operations pass the one that applies."""

    AUTHORSHIP = "authorship"
    REVIEW = "review"
    APPROVAL = "approval"
    RESPONSIBILITY = "responsibility"
    ELIGIBILITY = "eligibility sign-off"
    RELEASE = "product release"
    QUALITY_DECISION = "quality decision"
    EXCEPTION = "exception approval"
    INFUSION = "infusion"


METHOD_PASSWORD = "password"


def printed_name(user: User) -> str:
    full = user.get_full_name().strip() if hasattr(user, "get_full_name") else ""
    return full or str(user.username)


def reauthenticate(user: User, password: str, request: Any = None) -> str:
    """Check the signer's password again; the method used, or :class:`SignatureRefused`."""
    if not password:
        raise SignatureRefused(_("signing needs your password, entered again"))
    # Counted like a login (per user and address): a stolen token is no password oracle.
    request = request_for(request)
    checked = authenticate(request, username=user.get_username(), password=password)
    if locked_out(request):
        raise SignatureRefused(
            _("%(lockout)s: nothing was signed") % {"lockout": lockout_message(_("signing"))}
        )
    if checked is None or checked.pk != user.pk or not checked.is_active:
        raise SignatureRefused(_("the password is not correct: nothing was signed"))
    # An enrolled user's authenticator code too (services/second_factor.py).
    return second_factor.check_code(user, request) or METHOD_PASSWORD


def signature_intent(
    user: User, password: str, meaning: str, request: Any = None
) -> SignatureIntent:
    """Re-authenticate ``user`` and return the signature to write with an append."""
    meaning = (meaning or "").strip()
    if not meaning or len(meaning) > 64:
        raise InvalidInput("meaning: say what the signature means (1 to 64 characters)")
    method = reauthenticate(user, password, request)
    return SignatureIntent(
        signer=user, signer_name=printed_name(user), meaning=meaning, method=method
    )


def witness_intent(
    username: str, password: str, meaning: str, request: Any = None
) -> tuple[Any, SignatureIntent]:
    """A second person, present at the act, signs with their own user name and password."""
    username = (username or "").strip()
    request = request_for(request)
    checked = (
        authenticate(request, username=username, password=password)
        if username and password
        else None
    )
    if locked_out(request):
        raise SignatureRefused(
            _("%(lockout)s: nothing was recorded")
            % {"lockout": lockout_message(_("the second person's signing"))}
        )
    if checked is None or not checked.is_active:
        raise SignatureRefused(
            _("the second person's user name and password did not match: nothing was recorded")
        )
    method = second_factor.check_code(checked, request, second_person=True) or METHOD_PASSWORD
    return checked, SignatureIntent(
        signer=checked, signer_name=printed_name(checked), meaning=meaning, method=method
    )


def sign(
    user: User,
    password: str,
    meaning: str,
    event: Event,
    *,
    request_meta: RequestMeta = NO_REQUEST,
    request: Any = None,
    machine: CaseMachine | None = None,
) -> Signature:
    """Sign an event already recorded (a review, an approval) after re-authenticating."""
    intent = signature_intent(user, password, meaning, request)
    bound = SignatureIntent(
        signer=intent.signer,
        signer_name=intent.signer_name,
        meaning=intent.meaning,
        method=intent.method,
        event_hash=event.hash,
        event_id=event.pk,
        event_seq=event.seq,
    )
    result: AppendResult = append(
        AppendRequest(
            case=event.case,
            command=None,
            acting_user=user,
            request_meta=request_meta,
            operation="sign",
            signature=bound,
            machine=machine,
            summary={"signed": event.hash, "meaning": intent.meaning},
        )
    )
    assert result.signature is not None
    return result.signature


def verify_signature(signature: Signature) -> tuple[bool, str]:
    """Whether the signature still binds to the event it names, and why not."""
    event = signature.event
    if event.hash != signature.event_hash:
        return False, "the signature names an event whose hash differs from the one it signed"
    sign_event = signature.signature_event
    body = json.loads(bytes(sign_event.body))
    data = body.get("data") or {}
    if body.get("type") != SIGNATURE_EVENT or data.get("signs") != signature.event_hash:
        return False, "the signature's own event in the chain signs a different record"
    if sign_event.case_id != event.case_id:
        return False, "the signature and the signed event belong to different cases"
    if (data.get("meaning"), data.get("signer")) != (signature.meaning, signature.signer_name):
        return False, "the signature's name or meaning differs from what the chain recorded"
    report = verify_case(event.case)
    if not report.ok:
        return False, f"the case's chain is broken: {report.reason}"
    return True, ""
