"""Lymphodepletion, infusion, monitoring, follow-up, and the ways a case ends early."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from cartflow.clinic.models import TherapyCase
from cartflow.clinic.services.append import AppendRequest, AppendResult, append, resolve_case
from cartflow.clinic.services.context import NO_REQUEST, RequestMeta
from cartflow.clinic.services.deviations import open_scan_deviation
from cartflow.clinic.services.errors import SignatureRefused
from cartflow.clinic.services.operations import operation, roles_on_case
from cartflow.clinic.services.signatures import Meaning, witness_intent
from cartflow.domain import journey
from cartflow.domain.journey import bedside
from cartflow.domain.roles import Role

record_site_protocol_value = operation(journey.RecordSiteProtocolValue)
modify_fludarabine_dose = operation(journey.ModifyFludarabineDose)
start_lymphodepletion = operation(journey.StartLymphodepletion)
complete_lymphodepletion = operation(journey.CompleteLymphodepletion)
omit_lymphodepletion = operation(journey.OmitLymphodepletion)
thaw_bag = operation(journey.ThawBag)
stop_lymphodepletion = operation(journey.StopLymphodepletion)
start_monitoring = operation(journey.StartMonitoring)
complete_monitoring = operation(journey.CompleteMonitoring)
record_follow_up_visit = operation(journey.RecordFollowUpVisit)
complete_follow_up = operation(journey.CompleteFollowUp)
withdraw_case = operation(journey.WithdrawCase)
record_death = operation(journey.RecordDeath)
expire_product = operation(journey.ExpireProduct)
dispose_product = operation(journey.DisposeProduct)


def performer_role(user: Any, case: TherapyCase) -> Role:
    """The role a user gives an infusion in: infusion nurse (pharmacy) before physician."""
    roles = roles_on_case(user, case)
    for role in bedside.PERFORMER_ROLES:
        if role in roles:
            return role
    if not roles:
        raise SignatureRefused("you hold no role at this case's sites: nothing was recorded")
    return roles[0]


def infuse(
    case: TherapyCase | str,
    *,
    acting_user: Any,
    witness_username: str,
    witness_password: str,
    scanned_wristband: str,
    identity_confirmed: bool,
    scanned_bag_label: str,
    scanned_bag_id: str,
    occurred_at: datetime | None = None,
    expected_version: int | None = None,
    request_meta: RequestMeta = NO_REQUEST,
    request: Any = None,
    now: datetime | None = None,
) -> AppendResult:
    """The bedside check and the infusion, one command of two people (the page and the API).

    ``acting_user`` performs (scans, gives the infusion); the witness re-authenticates with
    their own user name and password and signs the infusion. The domain checks every scan
    against the case and both people; the bedside check and the infusion are stored in one
    append, or neither. A scan that does not match opens a deviation for quality in its own
    transaction (so the refusal is never lost) before the refusal is raised.
    """
    case = resolve_case(case)
    now = now or timezone.now()
    witness, intent = witness_intent(witness_username, witness_password, Meaning.INFUSION, request)
    witness_roles = roles_on_case(witness, case)
    if not witness_roles:
        raise SignatureRefused(
            "the second person holds no role at this case's sites, so they cannot witness "
            "its infusion: nothing was recorded"
        )
    command = journey.InfuseBag(
        actor=acting_user.get_username(),
        occurred_at=occurred_at,
        scanned_wristband=scanned_wristband,
        identity_confirmed=identity_confirmed,
        scanned_bag_label=scanned_bag_label,
        scanned_bag_id=scanned_bag_id,
        performer=journey.Performer(
            user_id=acting_user.get_username(), role=performer_role(acting_user, case)
        ),
        signature=journey.Signature(
            signer_id=witness.get_username(),
            # The domain decides whether the witness's role may sign an infusion.
            role=Role.PHYSICIAN if Role.PHYSICIAN in witness_roles else witness_roles[0],
            meaning=intent.meaning,
            signed_at=now,
        ),
        expected_wristbands=(case.patient.record_number,),
    )
    try:
        return append(
            AppendRequest(
                case=case,
                command=command,
                acting_user=acting_user,
                request_meta=request_meta,
                expected_version=expected_version,
                operation="infuse",
                signature=intent,
                now=now,
            )
        )
    except journey.ScanMismatch as refused:
        scanned = {"bag_label": scanned_bag_label, "bag_id": scanned_bag_id}
        opened = open_scan_deviation(
            case, refused, scanned, acting_user=acting_user, request_meta=request_meta
        )
        # The page names the deviation it opened; the refusal still travels as it was.
        refused.deviation = opened.last().hash[:12]  # type: ignore[attr-defined]
        raise
