"""The network: sites and who works where, in which role."""

from __future__ import annotations

import uuid
import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from cartflow.domain.journey.commands import DEFAULT_WEIGHT_TOLERANCE_PERCENT
from cartflow.domain.roles import Role, SiteKind


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone name (e.g. Europe/Berlin)")


def default_apheresis_label_fields() -> list[str]:
    return ["collection_din", "collected_on"]


class Site(models.Model):
    """A treatment center, apheresis unit, manufacturing site or courier.

    ``slug`` and ``public_id`` are what URLs carry; the row number never leaves the database.
    ``facility_code`` is the ISBT 128 facility identification number (FIN) the site allocates
    chain-of-identity identifiers under.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=32, choices=[(k.value, k.value) for k in SiteKind])
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    facility_code = models.CharField(max_length=5, unique=True, null=True, blank=True)
    region = models.CharField(max_length=2, default="US")
    # Labels say "ISBT 128" only under a facility identification number ICCBBA assigned;
    # a demo or unregistered site prints "ISBT 128 structure" with its placeholder code.
    iccbba_assigned = models.BooleanField(default=False)
    # What the apheresis collection bag's label names besides the chain of identity: a
    # per-site choice among APHERESIS_LABEL_FIELDS (cartflow/clinic/labels/content.py).
    apheresis_label_fields = models.JSONField(default=default_apheresis_label_fields, blank=True)
    # Kept by the admin; printed on the patient view and the wallet card after an infusion.
    emergency_phone = models.CharField(max_length=40, blank=True, default="")
    # From this age a minor patient gets their own access beside their guardian's.
    own_access_age = models.PositiveSmallIntegerField(default=16)
    # How far a manufacturing order's weight may lie from the latest weight recorded on the
    # case before the weight must be recorded again (site policy; the domain's default).
    weight_tolerance_percent = models.DecimalField(
        max_digits=4, decimal_places=1, default=Decimal(DEFAULT_WEIGHT_TOLERANCE_PERCENT)
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class Membership(models.Model):
    """One role of one user at one site."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=32, choices=[(r.value, r.value) for r in Role])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "site", "role"], name="membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} is {self.role} at {self.site.slug}"
