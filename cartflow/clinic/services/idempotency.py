"""Writes safe to retry: the same ``Idempotency-Key`` from the same user gets the first answer.

A client that lost the answer to a write (a timeout, a dropped connection, a server killed
after the commit) sends it again with the same key and is answered what the first attempt
stored, with nothing appended twice. The same key with another request is refused: it is
a client's mistake that would otherwise lose one of the two writes. Keys are kept per user
for :data:`KEEP`; an older key may be used again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone

from cartflow.clinic.models import IdempotentAnswer
from cartflow.clinic.services.errors import Conflict
from cartflow.domain.errors import InvalidInput

KEEP = timedelta(hours=24)
HEADER = "Idempotency-Key"
KEY_MAX = 200

KEY_REUSED = (
    "Idempotency-Key: this key was already used for a different request in the last 24 hours; "
    "send a new key for a new request (the same key only to retry the same request)"
)
KEY_MALFORMED = f"Idempotency-Key: 1 to {KEY_MAX} printable ASCII characters"
TWIN_UNFINISHED = (
    "Idempotency-Key: the same request is still being answered; retry it in a moment"
)


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What identifies a request for its key: method, path and the exact body."""
    digest = hashlib.sha256()
    for part in (method.encode(), b"\0", path.encode(), b"\0", body):
        digest.update(part)
    return digest.hexdigest()


def check_key(key: str) -> str:
    key = key.strip()
    if not 1 <= len(key) <= KEY_MAX or not all(" " <= c <= "~" for c in key):
        raise InvalidInput(KEY_MALFORMED)
    return key


def stored_answer(user: User, key: str, print_: str) -> tuple[int, Any] | None:
    """The answer kept for ``key`` of ``user``; ``None`` if none (or expired).

    The same key with another fingerprint raises :class:`InvalidInput` (``KEY_REUSED``).
    """
    return _stored(user, key, print_)


def _stored(user: User, key: str, print_: str) -> tuple[int, Any] | None:
    found = IdempotentAnswer.objects.filter(user=user, key=key).first()
    if found is None:
        return None
    if found.created_at < timezone.now() - KEEP:
        found.delete()  # expired: the key starts afresh
        return None
    if found.fingerprint != print_:
        raise InvalidInput(KEY_REUSED)
    return found.status, json.loads(found.answer)


def once(
    user: User, key: str, print_: str, write: Callable[[], tuple[int, Any]]
) -> tuple[int, Any]:
    """``write()``'s status and answer, run at most once per (user, key) within :data:`KEEP`."""
    key = check_key(key)
    stored = _stored(user, key, print_)
    if stored is not None:
        return stored
    try:
        with transaction.atomic():
            status, answer = write()
            IdempotentAnswer.objects.create(
                user=user,
                key=key,
                fingerprint=print_,
                status=status,
                answer=json.dumps(answer, cls=DjangoJSONEncoder),
                created_at=timezone.now(),
            )
    except IntegrityError:
        # A twin with the same key committed first; its write stands, ours was rolled back.
        stored = _stored(user, key, print_)
        if stored is None:
            raise Conflict(TWIN_UNFINISHED) from None
        return stored
    return status, answer
