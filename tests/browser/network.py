"""The synthetic network the page tests work in, and the journey they walk through the pages.

The network (sites, people, slots) is set up through the service functions; the patient's
journey from registration to the first CRS grading is a list of :class:`PageStep`, each one
form of one page filled in by one person. The Django-client tests (tests/clinic/
test_pages_journey.py) and the browser test (tests/browser/test_journey.py) walk the same list.

Nobody here is real: "Demo Patient-901", record number DEMO-9901, born on a first of January.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from cartflow.domain.identifiers import Din, new_identifier
from cartflow.domain.roles import Role

ZONE = "Europe/Zurich"
PATIENT = {
    "record_number": "DEMO-9901",
    "given_name": "Demo",
    "family_name": "Patient-901",
    "birth_date": "1971-01-01",
    "sex": "female",
}
SECRET_WORDS = ("Patient-901", "DEMO-9901", "1971-01-01", "1971")
"""What a manufacturing operator's pages must never show: the name, record and birth date."""

SITES = {
    "center": ("pages-center", "Pages Test Center (synthetic)", "treatment_center", "W8001"),
    "unit": ("pages-unit", "Pages Test Apheresis Unit (synthetic)", "apheresis_unit", "W8011"),
    "factory": ("pages-factory", "Pages Test Factory (synthetic)", "manufacturing_site", None),
    "courier": ("pages-courier", "Pages Test Courier (synthetic)", "courier", None),
}

PEOPLE: dict[str, tuple[str, Role, str]] = {
    # key: (printed name, role, site key); the user name is "pages-<key>"
    "coordinator": ("Test Coordinator Cora", Role.COORDINATOR, "center"),
    "physician": ("Test Physician Phil", Role.PHYSICIAN, "center"),
    "apheresis": ("Test Apheresis Nurse Abe", Role.APHERESIS, "unit"),
    "maker": ("Test Manufacturing Operator Mo", Role.MANUFACTURING, "factory"),
    "courier": ("Test Courier Cy", Role.COURIER, "courier"),
    "quality": ("Test Quality Reviewer Quinn", Role.QUALITY, "center"),
    "nurse": ("Test Infusion Nurse Ines", Role.PHARMACY, "center"),
}


FIRST_CHOICE = "(the network's slot)"
"""A slot is picked from the list the page offers, by its site's name (the value is a UUID)."""


def username(key: str) -> str:
    return f"pages-{key}"


def password(key: str) -> str:
    return f"pages-secret-{key}"


@dataclass
class Network:
    now: datetime
    chair_day: date
    din: Din
    bag_id: str = "BAG-9901"
    lot: str = "LOT-9901"
    users: dict[str, Any] = field(default_factory=dict)


def clinical(now: datetime, days: float, hour: int) -> datetime:
    """A time ``days`` before ``now`` at ``hour`` o'clock at the site."""
    local = (now - timedelta(days=days)).astimezone(zoneinfo.ZoneInfo(ZONE))
    return local.replace(hour=hour, minute=0, second=0, microsecond=0)


def local_text(moment: datetime) -> str:
    """What a person types into a ``datetime-local`` field: the site's wall-clock time."""
    return moment.astimezone(zoneinfo.ZoneInfo(ZONE)).strftime("%Y-%m-%dT%H:%M")


def build_network(now: datetime) -> Network:
    """Sites, people and slots, through the services (the journey itself goes through pages)."""
    from django.contrib.auth import get_user_model

    from cartflow.clinic import services
    from cartflow.clinic.models import SlotKind

    users = get_user_model()
    admin = users.objects.create_user("pages-setup", password="pages-setup-only")
    sites = {
        key: services.create_site(
            slug, name, kind, time_zone=ZONE, facility_code=fin, acting_user=admin
        )
        for key, (slug, name, kind, fin) in SITES.items()
    }
    net = Network(
        now=now,
        chair_day=clinical(now, 17, 8).date(),
        din=new_identifier("W8011", now.year % 100, 4242),
    )
    for key, (printed, role, site) in PEOPLE.items():
        first, _, last = printed.partition(" ")
        user = users.objects.create_user(
            username(key), password=password(key), first_name=first, last_name=last
        )
        services.grant_role(user, sites[site], role.value, acting_user=admin)
        net.users[key] = user
    services.open_slot(sites["unit"], SlotKind.APHERESIS_CHAIR, net.chair_day, 4, acting_user=admin)
    services.open_slot(
        sites["factory"], SlotKind.MANUFACTURING, clinical(now, 16, 9).date(), 4, acting_user=admin
    )
    return net


@dataclass(frozen=True)
class PageStep:
    """One form on one page: who fills it, which operation, the values typed, and when."""

    who: str
    operation: str
    values: dict[str, str] = field(default_factory=dict)
    at: datetime | None = None
    signed: bool = False


def journey(net: Network, coi_barcode: str) -> list[PageStep]:
    """From the antigen test (the case exists) to the thaw; then the bedside, then CRS."""
    now = net.now

    def at(days: float, hour: int) -> datetime:
        return clinical(now, days, hour)

    return [
        PageStep(
            "physician",
            "RecordAntigenTest",
            {"antigen": "CD19", "positive": "yes", "method": "flow cytometry"},
            at(20, 9),
        ),
        PageStep(
            "physician",
            "SignEligibility",
            {"diagnosis": "LBCL", "disease_status": "refractory", "prior_lines": "2"},
            at(20, 10),
            signed=True,
        ),
        PageStep(
            "coordinator",
            "RecordInfectiousDiseaseScreening",
            {"cleared": "yes", "tests": "HIV, HBV, HCV"},
            at(19, 9),
        ),
        PageStep(
            "coordinator",
            "ScheduleApheresis",
            {"slot_at": local_text(at(17, 8)), "slot_id": FIRST_CHOICE},
            at(19, 10),
        ),
        PageStep(
            "apheresis",
            "RecordCollection",
            {
                "scanned_coi": coi_barcode,
                "collection_din": net.din.eye_readable,
                "succeeded": "yes",
            },
            at(17, 12),
        ),
        PageStep("coordinator", "BookManufacturingSlot", {"slot_id": FIRST_CHOICE}, at(17, 13)),
        PageStep(
            "maker",
            "StartManufacturing",
            {
                "scanned_coi": coi_barcode,
                "scanned_din": net.din.barcode,
                "weight_kg": "72",
                "order_ref": "ORDER-9901",
            },
            at(16, 9),
        ),
        PageStep(
            "maker",
            "ReleaseProduct",
            {"dose_cells": "2.0e8", "bag_id": net.bag_id, "lot": net.lot},
            at(6, 9),
            signed=True,
        ),
        PageStep(
            "maker",
            "ShipProduct",
            {"scanned_coi": coi_barcode, "scanned_bag_ids": net.bag_id, "courier": "pages-courier"},
            at(6, 12),
        ),
        PageStep(
            "courier",
            "RecordTemperature",
            {"celsius": "-160", "location": "dry shipper"},
            at(6, 18),
        ),
        PageStep(
            "nurse",
            "ReceiveProduct",
            {
                "scanned_coi": coi_barcode,
                "scanned_bag_ids": net.bag_id,
                "celsius": "-158",
                "storage_location": "LN2 tank 2",
            },
            at(5, 9),
        ),
        PageStep("nurse", "ConfirmProductAvailability", {}, at(5, 10)),
        PageStep(
            "physician",
            "StartLymphodepletion",
            {"regimen": "flu-cy"},
            at(5, 11),
        ),
        PageStep("physician", "CompleteLymphodepletion", {}, at(3, 11)),
        PageStep("nurse", "ThawBag", {"scanned_coi": coi_barcode, "scanned_bag_id": net.bag_id}),
    ]


AFTER_INFUSION = [
    PageStep("physician", "StartMonitoring", {}),
    PageStep(
        "physician",
        "GradeCrs",
        {
            "temperature_c": "38.6",
            "hypotension": "none",
            "oxygen": "low-flow",
            "fever_masked": "no",
        },
    ),
]
