"""API tokens for systems: shown once, stored as a hash, revocable."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from cartflow.clinic.models import ApiToken
from cartflow.clinic.services.context import NO_REQUEST, RequestMeta
from cartflow.clinic.services.records import write_audit

TOKEN_PREFIX = "cft_"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(
    user: User,
    name: str,
    *,
    acting_user: User | None,
    request_meta: RequestMeta = NO_REQUEST,
    days: int | None = None,
) -> tuple[ApiToken, str]:
    """A new token for ``user``, valid ``days`` (default ``CARTFLOW_TOKEN_DAYS``); the plain
    token is returned once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        row = ApiToken.objects.create(
            user=user,
            name=name[:100],
            prefix=token[: len(TOKEN_PREFIX) + 8],
            token_hash=token_digest(token),
            created_at=now,
            expires_at=now + timedelta(days=days or settings.CARTFLOW_TOKEN_DAYS),
        )
        write_audit(
            "issue_token",
            acting_user=acting_user,
            request_meta=request_meta,
            summary={"for": user.get_username(), "prefix": row.prefix, "name": row.name},
        )
    return row, token


def user_for_token(token: str) -> Any | None:
    """The active user a token belongs to, or ``None`` (unknown, revoked or inactive)."""
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    row = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=token_digest(token), revoked_at__isnull=True)
        .first()
    )
    if row is None or not row.user.is_active:
        return None
    if row.expires_at is not None and row.expires_at <= timezone.now():
        return None
    return row.user


def revoke_token(
    row: ApiToken, *, acting_user: User | None, request_meta: RequestMeta = NO_REQUEST
) -> None:
    with transaction.atomic():
        row.revoked_at = timezone.now()
        row.save(update_fields=["revoked_at"])
        write_audit(
            "revoke_token",
            acting_user=acting_user,
            request_meta=request_meta,
            summary={"prefix": row.prefix},
        )
