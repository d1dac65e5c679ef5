"""The record: the case event log, the network ledger, and the audit trail.

Rows of :class:`Event`, :class:`LedgerEntry` and :class:`AuditRow` are never updated or
deleted; database triggers refuse it (migration ``0002_append_only``). A correction is a new
event that says so.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from cartflow.clinic.models.cases import TherapyCase


class Event(models.Model):
    """One event of a case, stored as the exact RFC 8785 bytes that were hashed.

    ``body`` is the canonical JSON of the whole entry (the event, the case's identifier, its
    ``seq`` and the previous event's hash under ``prev``); ``hash`` is its SHA-256. The other
    columns copy fields of the body for queries; verification reads the body only.
    ``(case, prev_hash)`` is unique, so two events can never claim the same predecessor: the
    chain cannot fork even if two writers got past every lock.
    """

    case = models.ForeignKey(TherapyCase, on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveIntegerField()  # 1, 2, 3, ... within the case
    type = models.CharField(max_length=64)
    schema_version = models.PositiveSmallIntegerField(default=1)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    actor = models.CharField(max_length=150)
    site = models.CharField(max_length=64, blank=True, default="")
    body = models.BinaryField()
    hash = models.CharField(max_length=64, unique=True)
    prev_hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "seq"], name="event_case_seq"),
            models.UniqueConstraint(fields=["case", "prev_hash"], name="event_case_prev"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.seq} {self.type}"


class LedgerHead(models.Model):
    """The one row naming the ledger's last entry: the network-wide lock of every append.

    It is the only row of the record that is updated: each append locks it, chains its new
    ledger entry after it and moves it on, which serialises appends network-wide (the ledger
    is one line, so it must be written one entry at a time).
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)
    # The audit trail's own chain ends here too: every audit row is written under this lock.
    audit_seq = models.PositiveBigIntegerField(default=0)
    audit_hash = models.CharField(max_length=64, default="0" * 64)


class LedgerEntry(models.Model):
    """One append of the network: which case, its new head and event count, chained.

    The ledger names cases by identifier (not by foreign key) so that it outlives a deleted
    case: a case whose events are gone, or whose tail was cut, no longer matches its last
    ledger entry.
    """

    seq = models.PositiveBigIntegerField(unique=True)
    case_coi = models.CharField(max_length=14)
    case_head = models.CharField(max_length=64)
    case_version = models.PositiveIntegerField()
    body = models.BinaryField()
    hash = models.CharField(max_length=64, unique=True)
    prev_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        indexes = [models.Index(fields=["case_coi", "seq"], name="ledger_case")]


class AuditRow(models.Model):
    """Who did what, when, from which request, with the state before and after.

    Exactly one per write; written in the write's own transaction (21 CFR 11.10(e)).
    """

    at = models.DateTimeField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    username = models.CharField(max_length=150)  # kept as written, whatever becomes of the user
    operation = models.CharField(max_length=64)
    case_coi = models.CharField(max_length=14, blank=True, default="")
    request_id = models.CharField(max_length=64, blank=True, default="")
    ip = models.CharField(max_length=64, blank=True, default="")
    user_agent = models.CharField(max_length=300, blank=True, default="")
    summary = models.JSONField(default=dict)
    # Chained like the events (``cartflow.clinic.sealing.audit_bytes``): an edited, removed
    # or reordered audit row no longer verifies.
    seq = models.PositiveBigIntegerField(unique=True, null=True)
    hash = models.CharField(max_length=64, default="")
    prev_hash = models.CharField(max_length=64, default="")

    class Meta:
        indexes = [models.Index(fields=["case_coi", "at"], name="audit_case")]
