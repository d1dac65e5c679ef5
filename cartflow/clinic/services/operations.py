"""The frame every journey operation shares: build the command, sign if needed, append.

Each operation of the six steps is a written-out function in the module of its area
(``referral``, ``collection``, ``manufacturing``, ``custody``, ``treatment``, ``labels``,
``weights``) that takes the command's fields by name and calls :func:`perform`, e.g.
``record_collection(case, scanned_coi=..., collection_din=..., acting_user=user)``; the
keywords every operation shares are :class:`Recording`. A command the journey wants signed
takes ``password`` (re-entered) and optionally ``meaning`` and ``role``; the signature is
written in the same transaction and bound to the hash of the event it signs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypedDict

from django.contrib.auth.models import User
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from cartflow.clinic.models import Membership, Site, TherapyCase
from cartflow.clinic.services.append import AppendRequest, AppendResult, append, resolve_case
from cartflow.clinic.services.context import NO_REQUEST, RequestMeta
from cartflow.clinic.services.errors import SignatureRefused
from cartflow.clinic.services.signatures import Meaning, signature_intent
from cartflow.domain import journey
from cartflow.domain.roles import Role


class Recording(TypedDict, total=False):
    """How an operation is recorded, beside the command's own fields: where the request came
    from, the case's version the caller saw, and for a signed command the password entered
    again, the signature's meaning and the role signed in."""

    request_meta: RequestMeta
    expected_version: int | None
    password: str
    meaning: str
    role: str | None
    now: datetime | None
    request: HttpRequest | None


SideRows = Callable[[AppendResult, Any, Any], None]
"""Rows written beside the log, in the same transaction: (result, command, acting user)."""

DEFAULT_MEANINGS: dict[str, str] = {
    "SignEligibility": Meaning.ELIGIBILITY,
    "SignOffLabelEligibility": Meaning.EXCEPTION,
    "ReleaseProduct": Meaning.RELEASE,
    "RecordOutOfSpecification": Meaning.AUTHORSHIP,
    "DecideOutOfSpecification": Meaning.QUALITY_DECISION,
    "DecideQuarantine": Meaning.QUALITY_DECISION,
    "RecordSiteProtocolValue": Meaning.APPROVAL,
    "ModifyFludarabineDose": Meaning.RESPONSIBILITY,
    "OmitLymphodepletion": Meaning.EXCEPTION,
    "InfuseBag": Meaning.INFUSION,
    "DisposeProduct": Meaning.RESPONSIBILITY,
    "WithdrawCase": Meaning.RESPONSIBILITY,
    "RecordDeath": Meaning.RESPONSIBILITY,
    "ReviewDeviation": Meaning.REVIEW,
}


def snake_case(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


def needs_signature(command_type: type) -> bool:
    return any(f.name == "signature" for f in dataclasses.fields(command_type))


def roles_on_case(user: User, case: TherapyCase) -> list[Role]:
    """The user's roles at the sites that take part in the case, in the Role enum's order."""
    held = set(
        Membership.objects.filter(user=user, site__case_roles__case=case).values_list(
            "role", flat=True
        )
    )
    return [role for role in Role if role.value in held]


def signer_role(user: User, case: TherapyCase, role: str | None) -> Role:
    roles = roles_on_case(user, case)
    if role is not None:
        if Role(role) not in roles:
            raise SignatureRefused(
                _("you do not hold the role %(role)s at a site of this case") % {"role": role}
            )
        return Role(role)
    if not roles:
        raise SignatureRefused(_("you hold no role at a site of this case, so you cannot sign"))
    return roles[0]


def user_site(user: User, kind: str, fallback: Site) -> Site:
    """The user's site of ``kind`` (their manufacturing site, apheresis unit), else ``fallback``."""
    membership = (
        Membership.objects.filter(user=user, site__kind=kind).select_related("site").first()
    )
    return membership.site if membership else fallback


def perform(
    case: TherapyCase | str,
    command_type: type,
    *,
    acting_user: User,
    request_meta: RequestMeta = NO_REQUEST,
    expected_version: int | None = None,
    password: str = "",
    meaning: str = "",
    role: str | None = None,
    now: datetime | None = None,
    side_rows: SideRows | None = None,
    request: Any = None,
    **fields: Any,
) -> AppendResult:
    """Record one journey command on ``case`` as ``acting_user``; see the module's doc."""
    case = resolve_case(case)
    intent = None
    if needs_signature(command_type):
        # Re-authentication comes first and outside the transaction: hashing a password is
        # slow, and no lock should wait for it.
        intent = signature_intent(
            acting_user,
            password,
            meaning or DEFAULT_MEANINGS.get(command_type.__name__, Meaning.RESPONSIBILITY),
            request,
        )
        fields["signature"] = journey.Signature(
            signer_id=acting_user.get_username(),
            role=signer_role(acting_user, case, role),
            meaning=intent.meaning,
            signed_at=now or timezone.now(),
        )
    command = command_type(actor=acting_user.get_username(), **fields)

    def then(result: AppendResult) -> None:
        if side_rows is not None:
            side_rows(result, command, acting_user)

    return append(
        AppendRequest(
            case=case,
            command=command,
            acting_user=acting_user,
            request_meta=request_meta,
            expected_version=expected_version,
            operation=snake_case(command_type.__name__),
            signature=intent,
            then=then,
            now=now,
        )
    )
