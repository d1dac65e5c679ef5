"""The physical material of a case: collections of the patient's cells and product bags."""

from __future__ import annotations

from django.db import models

from cartflow.clinic.models.cases import TherapyCase
from cartflow.clinic.models.sites import Site


class Collection(models.Model):
    """One apheresis collection, known by its own donation identification number (DIN)."""

    din = models.CharField(max_length=14, unique=True)  # compact DIN with check character
    case = models.ForeignKey(TherapyCase, on_delete=models.PROTECT, related_name="collections")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    collected_at = models.DateTimeField()
    event_hash = models.CharField(max_length=64)  # the event that recorded it


class ProductBag(models.Model):
    """A bag of manufactured product, as labelled by the manufacturer."""

    case = models.ForeignKey(TherapyCase, on_delete=models.PROTECT, related_name="bags")
    manufacturer_bag_id = models.CharField(max_length=64)
    lot = models.CharField(max_length=64)
    manufacturer = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    event_hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["manufacturer", "manufacturer_bag_id", "lot"], name="product_bag_unique"
            )
        ]
