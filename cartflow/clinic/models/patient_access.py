"""Patient and family logins to a case: what the chain must not carry (the link's token, the
guardian's name) kept beside the events that issue, use and revoke them."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from cartflow.clinic.models.cases import TherapyCase


class PatientAccess(models.Model):
    """One access to one case, for its patient or a named parent or guardian.

    ``public_id`` is the access id on the chain. Only the SHA-256 of the link's token is
    kept, so a copy of the database opens no case. ``user`` is the login the holder made
    from the link (a user with no site membership: it sees this case's patient view only).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(TherapyCase, on_delete=models.PROTECT, related_name="patient_accesses")
    holder = models.CharField(max_length=16)  # patient | guardian
    holder_name = models.CharField(max_length=200, blank=True, default="")
    # The holder's language: their pages open in it until they choose another.
    language = models.CharField(max_length=16, blank=True, default="")
    token_hash = models.CharField(max_length=64, unique=True)
    issued_at = models.DateTimeField()
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="patient_access",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["issued_at"]

    def __str__(self) -> str:
        return f"patient access {self.public_id}"
