"""Therapy cases, their chain-of-identity identifiers, and the projection the board reads."""

from __future__ import annotations

from django.db import models

from cartflow.clinic.models.patients import Patient
from cartflow.clinic.models.sites import Site


class IdentifierSequence(models.Model):
    """The last sequence number handed out per facility and year.

    Incremented by one atomic upsert (``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``), so
    two cases opened at once never get the same number on either database.
    """

    facility = models.CharField(max_length=5)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["facility", "year"], name="identifier_sequence_unique")
        ]


class TherapyCase(models.Model):
    """One therapy of one patient; ``coi`` (chain-of-identity identifier) is its public id."""

    coi = models.CharField(max_length=14, unique=True)  # compact form: G123498654321H
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="cases")
    treating_site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="cases")
    product = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.coi


class CaseParticipant(models.Model):
    """A site that holds part of a case (apheresis unit, manufacturer, courier).

    What a manufacturing site or courier may see is narrowed by these rows.
    """

    case = models.ForeignKey(TherapyCase, on_delete=models.PROTECT, related_name="participants")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="case_roles")
    since = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "site"], name="case_participant_unique")
        ]


class CaseProjection(models.Model):
    """The case's current state, folded from its events; rebuildable at any time.

    Its row is also the case's lock: an append locks it (``SELECT ... FOR UPDATE``) together
    with the ledger head. ``version`` is the number of events, ``head`` the last one's hash.
    The plain columns beside ``state`` are what the journey board filters and sorts on.
    """

    case = models.OneToOneField(
        TherapyCase, on_delete=models.PROTECT, primary_key=True, related_name="projection"
    )
    step = models.CharField(max_length=64)
    state = models.JSONField()
    version = models.PositiveIntegerField(default=0)
    head = models.CharField(max_length=64)
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["active", "step"], name="projection_board")]
