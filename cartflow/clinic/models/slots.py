"""Capacity: apheresis chairs and manufacturing slots per site and day."""

from __future__ import annotations

import uuid

from django.db import models

from cartflow.clinic.models.cases import TherapyCase
from cartflow.clinic.models.sites import Site


class SlotKind(models.TextChoices):
    APHERESIS_CHAIR = "apheresis_chair"
    MANUFACTURING = "manufacturing"


class Slot(models.Model):
    """``capacity`` places of one kind at one site on one day; ``booked`` of them are taken.

    ``booked`` is only ever changed by one conditional UPDATE (``booked < capacity``), so two
    users booking the last place cannot both succeed; the check constraint is the backstop.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="slots")
    kind = models.CharField(max_length=32, choices=SlotKind.choices)
    day = models.DateField()
    capacity = models.PositiveIntegerField()
    booked = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "kind", "day"], name="slot_unique"),
            models.CheckConstraint(
                condition=models.Q(booked__lte=models.F("capacity")), name="slot_not_overbooked"
            ),
        ]


class SlotBooking(models.Model):
    """A place taken, by the event that booked it; a released plan gives it back
    (``released_at``, and the event that released it), and the case may book the slot again."""

    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="bookings")
    case = models.ForeignKey(TherapyCase, on_delete=models.PROTECT, related_name="bookings")
    booked_at = models.DateTimeField()
    event_hash = models.CharField(max_length=64)
    released_at = models.DateTimeField(null=True, blank=True)
    release_hash = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["slot", "case"],
                condition=models.Q(released_at__isnull=True),
                name="slot_booking_unique",
            )
        ]
