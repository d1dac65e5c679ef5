"""Electronic signatures and the tokens systems authenticate with."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from cartflow.clinic.models.log import Event


class Signature(models.Model):
    """An electronic signature: who, when, meaning, and the hash of the event it signs.

    Shown as printed name, time and meaning wherever the signed record is shown
    (21 CFR 11.50). ``event_hash`` binds it to one record (11.70): pointed at another event,
    it no longer matches that event's hash. The signature is also an event in the case's own
    chain (``signature_event``), so removing or altering it breaks the chain.
    """

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="signatures")
    event_hash = models.CharField(max_length=64)
    signature_event = models.OneToOneField(
        Event, on_delete=models.PROTECT, related_name="signature_record"
    )
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signer_name = models.CharField(max_length=300)  # the printed name at the time of signing
    meaning = models.CharField(max_length=64)
    signed_at = models.DateTimeField()
    method = models.CharField(max_length=32, default="password")

    def manifestation(self) -> str:
        """The line shown beside the signed record: name, time (UTC) and meaning."""
        return f"{self.signer_name}, {self.signed_at:%Y-%m-%d %H:%M} UTC, {self.meaning}"


class ApiToken(models.Model):
    """A token a system (manufacturer, courier, hospital record) authenticates with.

    Only the SHA-256 of the token is stored; ``prefix`` lets people tell tokens apart.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    # A token left behind stops working on its own; ``None`` only for tokens issued before.
    expires_at = models.DateTimeField(null=True, blank=True)
