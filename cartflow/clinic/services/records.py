"""The audit row of a write that is not a case event (a site, a user, a slot, a token)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from cartflow.clinic.models import AuditRow
from cartflow.clinic.services.append import actor_name
from cartflow.clinic.services.context import NO_REQUEST, RequestMeta


def write_audit(
    operation: str,
    *,
    acting_user: Any,
    request_meta: RequestMeta = NO_REQUEST,
    summary: dict[str, Any] | None = None,
    case_coi: str = "",
) -> AuditRow:
    """Write the one audit row of a write; call it inside that write's transaction."""
    return AuditRow.objects.create(
        at=timezone.now(),
        user=acting_user if getattr(acting_user, "pk", None) else None,
        username=actor_name(acting_user),
        operation=operation,
        case_coi=case_coi,
        request_id=request_meta.request_id,
        ip=request_meta.ip,
        user_agent=request_meta.user_agent,
        summary=summary or {},
    )
