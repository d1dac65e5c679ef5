"""Patients and what is known of their disease before a therapy case is opened."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from cartflow.clinic.models.sites import Site


class Patient(models.Model):
    """A patient of a treatment center, known there by the hospital's own record number.

    Manufacturing sites and couriers never see this row: they know a case by its
    chain-of-identity identifier only.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    treating_site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="patients")
    record_number = models.CharField(max_length=64)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    birth_date = models.DateField()
    sex = models.CharField(max_length=16, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    # The hash of the identity fields (``cartflow.clinic.sealing``); the chained audit trail
    # records it at registration, so an edited name or birth date no longer verifies.
    identity_hash = models.CharField(max_length=64, default="", editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["treating_site", "record_number"], name="patient_record_number_per_site"
            )
        ]

    def __str__(self) -> str:
        return f"patient {self.public_id}"

    @property
    def display_name(self) -> str:
        return f"{self.family_name}, {self.given_name}"


class Diagnosis(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="diagnoses")
    code = models.CharField(max_length=32)  # e.g. an ICD-10 code or the catalog's indication
    description = models.CharField(max_length=300, blank=True, default="")
    diagnosed_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)


class AntigenTest(models.Model):
    """A test of the target antigen (CD19, BCMA, ...) on the patient's cancer cells."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="antigen_tests")
    antigen = models.CharField(max_length=32)
    result = models.CharField(max_length=32)  # positive | negative | indeterminate
    method = models.CharField(max_length=64, blank=True, default="")
    tested_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
