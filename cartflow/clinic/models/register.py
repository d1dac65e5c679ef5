"""A site's register of signed protocol values: its own hash chain, one entry per signing."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from cartflow.clinic.models.sites import Site


class SiteRegisterEntry(models.Model):
    """One signed entry of a site's register, stored as the exact RFC 8785 bytes hashed.

    ``body`` is the canonical JSON of the whole entry (type, site, seq, the entry's data, the
    signature with its meaning and method, the recording time and the previous entry's hash
    under ``prev``); ``hash`` is its SHA-256. The other columns copy fields of the body for
    queries and pages; ``cartflow audit verify`` checks they equal the body. Rows are never
    updated or deleted (migration ``0009_site_register``); a new value supersedes an older one
    from its effective date. ``(site, prev_hash)`` is unique, so the chain cannot fork.
    """

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="register_entries")
    seq = models.PositiveIntegerField()
    indication = models.CharField(max_length=100)
    fact = models.CharField(max_length=64)
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True)
    document_ref = models.CharField(max_length=200)
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signer_name = models.CharField(max_length=300)
    signer_role = models.CharField(max_length=32)
    meaning = models.CharField(max_length=64)
    recorded_at = models.DateTimeField()
    body = models.BinaryField()
    hash = models.CharField(max_length=64, unique=True)
    prev_hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "seq"], name="register_site_seq"),
            models.UniqueConstraint(fields=["site", "prev_hash"], name="register_site_prev"),
        ]

    def __str__(self) -> str:
        return f"{self.site_id}#{self.seq} {self.indication} {self.fact}"
