"""Who read which patient's identity: the access log, append-only, beside the record."""

from __future__ import annotations

from django.db import models


class IdentityRead(models.Model):
    """One answer (a page or an API answer) that showed patients' identity to a user.

    Written after the answer, outside any case's lock and transaction; UPDATE and DELETE are
    refused by triggers like the record's (``0009_trust_access_log``). ``patients`` holds
    the public ids of the patients shown, ``fields`` what of them was shown (``name``,
    ``birth_date``, ``record_number``).
    """

    at = models.DateTimeField()
    user_id = models.BigIntegerField(null=True)  # no foreign key: a log row locks nothing
    username = models.CharField(max_length=150)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    ip = models.CharField(max_length=64, blank=True, default="")
    request_id = models.CharField(max_length=64, blank=True, default="")
    patients = models.JSONField(default=list)
    fields = models.JSONField(default=list)

    class Meta:
        indexes = [models.Index(fields=["at"], name="identity_read_at")]
