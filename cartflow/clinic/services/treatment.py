"""Lymphodepletion, infusion, monitoring, follow-up, and the ways a case ends early."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Unpack

from django.contrib.auth.models import User
from django.utils import timezone

from cartflow.clinic.models import TherapyCase
from cartflow.clinic.services.append import AppendRequest, AppendResult, append, resolve_case
from cartflow.clinic.services.context import NO_REQUEST, RequestMeta
from cartflow.clinic.services.deviations import open_scan_deviation
from cartflow.clinic.services.errors import SignatureRefused
from cartflow.clinic.services.operations import Recording, perform, roles_on_case
from cartflow.clinic.services.signatures import Meaning, witness_intent
from cartflow.domain import journey
from cartflow.domain.journey import bedside
from cartflow.domain.roles import Role


def record_site_protocol_value(
    case: TherapyCase | str,
    *,
    acting_user: User,
    fact: str,
    value: Any,
    document_ref: str,
    effective_on: date,
    occurred_at: datetime | None = None,
    **recording: Unpack[Recording],
) -> AppendResult:
    """A site's signed value for a fact the catalog does not know, with its document."""
    return perform(
        case,
        journey.RecordSiteProtocolValue,
        acting_user=acting_user,
        occurred_at=occurred_at,
        fact=fact,
        value=value,
        document_ref=document_ref,
        effective_on=effective_on,
        **recording,
    )


def modify_fludarabine_dose(
    case: TherapyCase | str,
    *,
    acting_user: User,
    creatinine_clearance_ml_min: float,
    reduction_percent: float,
    reason: str,
    occurred_at: datetime | None = None,
    **recording: Unpack[Recording],
) -> AppendResult:
    """A physician reduces fludarabine for low creatinine clearance (a signed event)."""
    return perform(
        case,
        journey.ModifyFludarabineDose,
        acting_user=acting_user,
        occurred_at=occurred_at,
        creatinine_clearance_ml_min=creatinine_clearance_ml_min,
        reduction_percent=reduction_percent,
        reason=reason,
        **recording,
    )


def start_lymphodepletion(
    case: TherapyCase | str,
    *,
    acting_user: User,
    regimen: str,
    occurred_at: datetime | None = None,
    **recording: Unpack[Recording],
) -> AppendResult:
    """Start the lymphodepleting regimen, one of those the case may be given (by catalog id)."""
    return perform(
        case,
        journey.StartLymphodepletion,
        acting_user=acting_user,
        occurred_at=occurred_at,
        regimen=regimen,
        **recording,
    )


def complete_lymphodepletion(
    case: TherapyCase | str,
    *,
    acting_user: User,
    occurred_at: datetime | None = None,
    **recording: Unpack[Recording],
) -> AppendResult:
    """Complete the lymphodepleting regimen."""
    return perform(
        case,
        journey.CompleteLymphodepletion,
        acting_user=acting_user,
        occurred_at=occurred_at,
        **recording,
    )


def omit_lymphodepletion(
    case: TherapyCase | str,
    *,
    acting_user: User,
    wbc_per_l: float,
    wbc_measured_at: datetime,
    reason: str,
    occurred_at: datetime | None = None,
    **recording: Unpack[Recording],
) -> AppendResult:
    """The label's exception: lymphodepletion omitted for a low white-cell count."""
    return perform(
        case,
        journey.OmitLymphodepletion,
        acting_user=acting_user,
        occurred_at=occurred_at,
        wbc_per_l=wbc_per_l,
        wbc_measured_at=wbc_measured_at,
        reason=reason,
        **recording,
    )


def thaw_bag(
    case: TherapyCase | str,
    *,
    acting_user: User,
    scanned_coi: str,
    scanned_bag_id: str,
    occurred_at: datetime | None = None,
    **recording: Unpack[Recording],
) -> AppendResult:
    """Thaw a product bag, the case and the bag scanned."""
    return perform(
        case,
        journey.ThawBag,
        acting_user=acting_user,
        occurred_at=occurred_at,
        scanned_coi=scanned_coi,
        scanned_bag_id=scanned_bag_id,
        **recording,
    )


def stop_lymphodepletion(
    case: TherapyCase | str,
    *,
    acting_user: User,
    reason: str,
    occurred_at: datetime | None = None,
    **recording: Unpack[Recording],
) -> AppendResult:
    """Lymphodepletion ended before its last scheduled day (toxicity, infection, ...):
    a physician signs it, with the reason."""
    return perform(
        case,
        journey.StopLymphodepletion,
        acting_user=acting_user,
        occurred_at=occurred_at,
        reason=reason,
        **recording,
    )


def start_monitoring(
    case: TherapyCase | str,
    *,
    acting_user: User,
    occurred_at: datetime | None = None,
    **recording: Unpack[Recording],
) -> AppendResult:
    """Start monitoring after the infusion."""
    return perform(
        case,
        journey.StartMonitoring,
        acting_user=acting_user,
        occurred_at=occurred_at,
        **recording,
    )


def complete_monitoring(
    case: TherapyCase | str,
    *,
    acting_user: User,
    occurred_at: datetime | None = None,
    **recording: Unpack[Recording],
) -> AppendResult:
    """Complete the monitoring period."""
    return perform(
        case,
        journey.CompleteMonitoring,
        acting_user=acting_user,
        occurred_at=occurred_at,
        **recording,
    )


def record_follow_up_visit(
    case: TherapyCase | str,
    *,
    acting_user: User,
    occurred_at: datetime | None = None,
    note_ref: str = "",
    **recording: Unpack[Recording],
) -> AppendResult:
    """A follow-up visit after monitoring."""
    return perform(
        case,
        journey.RecordFollowUpVisit,
        acting_user=acting_user,
        occurred_at=occurred_at,
        note_ref=note_ref,
        **recording,
    )


def complete_follow_up(
    case: TherapyCase | str,
    *,
    acting_user: User,
    occurred_at: datetime | None = None,
    **recording: Unpack[Recording],
) -> AppendResult:
    """Complete long-term follow-up."""
    return perform(
        case,
        journey.CompleteFollowUp,
        acting_user=acting_user,
        occurred_at=occurred_at,
        **recording,
    )


def withdraw_case(
    case: TherapyCase | str,
    *,
    acting_user: User,
    reason: str,
    occurred_at: datetime | None = None,
    **recording: Unpack[Recording],
) -> AppendResult:
    """Withdraw the case, with the reason (a signed event)."""
    return perform(
        case,
        journey.WithdrawCase,
        acting_user=acting_user,
        occurred_at=occurred_at,
        reason=reason,
        **recording,
    )


def record_death(
    case: TherapyCase | str,
    *,
    acting_user: User,
    reason: str,
    occurred_at: datetime | None = None,
    **recording: Unpack[Recording],
) -> AppendResult:
    """Record the patient's death, signed; the case ends."""
    return perform(
        case,
        journey.RecordDeath,
        acting_user=acting_user,
        occurred_at=occurred_at,
        reason=reason,
        **recording,
    )


def expire_product(
    case: TherapyCase | str,
    *,
    acting_user: User,
    reason: str,
    occurred_at: datetime | None = None,
    **recording: Unpack[Recording],
) -> AppendResult:
    """The product expired before it was infused."""
    return perform(
        case,
        journey.ExpireProduct,
        acting_user=acting_user,
        occurred_at=occurred_at,
        reason=reason,
        **recording,
    )


def dispose_product(
    case: TherapyCase | str,
    *,
    acting_user: User,
    reason: str,
    occurred_at: datetime | None = None,
    **recording: Unpack[Recording],
) -> AppendResult:
    """Dispose of the product (a signed event)."""
    return perform(
        case,
        journey.DisposeProduct,
        acting_user=acting_user,
        occurred_at=occurred_at,
        reason=reason,
        **recording,
    )


def performer_role(user: User, case: TherapyCase) -> Role:
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
    acting_user: User,
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
