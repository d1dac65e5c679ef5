"""The audit row of a write that is not a case event (a site, a user, a slot, a token)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from cartflow.clinic.models import AuditRow, LedgerHead
from cartflow.clinic.services.append import actor_name, sealed_audit
from cartflow.clinic.services.context import NO_REQUEST, RequestMeta


def write_audit(
    operation: str,
    *,
    acting_user: User | None,
    request_meta: RequestMeta = NO_REQUEST,
    summary: dict[str, Any] | None = None,
    case_coi: str = "",
) -> AuditRow:
    """Write the one audit row of a write; call it inside that write's transaction.

    The row is chained after the audit trail's last one, under the ledger head's lock (the
    lock every append takes first, so the two never wait on each other crosswise).
    """
    with transaction.atomic():
        head = LedgerHead.objects.select_for_update().get(pk=1)
        values = sealed_audit(
            head.audit_seq + 1,
            head.audit_hash,
            at=timezone.now(),
            user_id=acting_user.pk if acting_user is not None and acting_user.pk else None,
            username=actor_name(acting_user),
            operation=operation,
            case_coi=case_coi,
            request_id=request_meta.request_id,
            ip=request_meta.ip,
            user_agent=request_meta.user_agent,
            summary=summary or {},
        )
        row = AuditRow.objects.create(
            at=values.at,
            user_id=values.user_id,
            username=values.username,
            operation=values.operation,
            case_coi=values.case_coi,
            request_id=values.request_id,
            ip=values.ip,
            user_agent=values.user_agent,
            summary=values.summary,
            seq=values.seq,
            hash=values.hash,
            prev_hash=values.prev_hash,
        )
        LedgerHead.objects.filter(pk=1).update(audit_seq=values.seq, audit_hash=values.hash)
    return row
