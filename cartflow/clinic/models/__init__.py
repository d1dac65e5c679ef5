"""The clinic's models, split by area; import them from here."""

from cartflow.clinic.models.access_log import IdentityRead
from cartflow.clinic.models.cases import (
    CaseParticipant,
    CaseProjection,
    IdentifierSequence,
    TherapyCase,
)
from cartflow.clinic.models.idempotency import IdempotentAnswer
from cartflow.clinic.models.log import AuditRow, Event, LedgerEntry, LedgerHead
from cartflow.clinic.models.materials import Collection, ProductBag
from cartflow.clinic.models.patient_access import PatientAccess
from cartflow.clinic.models.patients import AntigenTest, Diagnosis, Patient
from cartflow.clinic.models.register import SiteRegisterEntry
from cartflow.clinic.models.signatures import ApiToken, Signature
from cartflow.clinic.models.sites import Membership, Site
from cartflow.clinic.models.slots import Slot, SlotBooking, SlotKind

__all__ = [
    "AntigenTest",
    "ApiToken",
    "AuditRow",
    "CaseParticipant",
    "CaseProjection",
    "Collection",
    "Diagnosis",
    "Event",
    "IdempotentAnswer",
    "IdentifierSequence",
    "IdentityRead",
    "LedgerEntry",
    "LedgerHead",
    "Membership",
    "Patient",
    "PatientAccess",
    "ProductBag",
    "Signature",
    "Site",
    "SiteRegisterEntry",
    "Slot",
    "SlotBooking",
    "SlotKind",
    "TherapyCase",
]
