"""The first answer to an API write sent with an ``Idempotency-Key``, kept to answer retries."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class IdempotentAnswer(models.Model):
    """One key of one user: what was asked (a fingerprint) and what was answered.

    Written in the same transaction as the write it answers, so a write is never kept
    without its answer (a retry would duplicate it) nor an answer without its write.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    answer = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key")
        ]
