"""The choices of a form that come from the database: open slots, apheresis units, couriers."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cartflow.clinic.models import Site, Slot, SlotKind, TherapyCase
from cartflow.clinic.services.slots import SHARED_SITE_KINDS
from cartflow.domain.roles import SiteKind


def _slot_label(slot: Slot) -> str:
    free = slot.capacity - slot.booked
    return _("%(site)s: %(day)s (%(free)s of %(capacity)s free)") % {
        "site": slot.site.name,
        "day": slot.day.isoformat(),
        "free": free,
        "capacity": slot.capacity,
    }


def _open_slots(kind: str, case: TherapyCase) -> tuple[tuple[str, str], ...]:
    """Free places of ``kind`` a case may take: its treating center's own, or a shared
    site's (the booking service checks the user's sites again)."""
    today = timezone.localdate()
    rows = (
        Slot.objects.filter(kind=kind, day__gte=today.replace(year=today.year - 1))
        .filter(Q(site__kind__in=SHARED_SITE_KINDS) | Q(site_id=case.treating_site_id))
        .select_related("site")
        .order_by("day", "site__slug")[:60]
    )
    return tuple((str(s.public_id), _slot_label(s)) for s in rows if s.booked < s.capacity)


def apheresis_choices(case: TherapyCase) -> dict[str, tuple[tuple[str, str], ...]]:
    none = ("", str(_("No chair slot: capacity not managed (choose the unit below)")))
    units = Site.objects.filter(kind=SiteKind.APHERESIS_UNIT).order_by("name")
    return {
        "slot_id": (none, *_open_slots(SlotKind.APHERESIS_CHAIR, case)),
        "unit": (("", str(_("Choose…"))), *((u.slug, u.name) for u in units)),
    }


def manufacturing_choices(case: TherapyCase) -> dict[str, tuple[tuple[str, str], ...]]:
    return {"slot_id": _open_slots(SlotKind.MANUFACTURING, case)}


def courier_choices(case: TherapyCase) -> dict[str, tuple[tuple[str, str], ...]]:
    rows = Site.objects.filter(kind=SiteKind.COURIER).order_by("name")
    return {"courier": tuple((s.slug, s.name) for s in rows)}
