"""The records the label and outcome commands fold into the case state.

They live apart from ``state.py`` so the labels and the registry's facts can grow without
touching the state every other operation shares.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class LabelKind(StrEnum):
    """What a printed label goes on."""

    COLLECTION_BAG = "collection_bag"
    PRODUCT_BAG = "product_bag"
    SHIPPER = "shipper"


class LabelStatus(StrEnum):
    """Where a printed label is: only ``printed`` is unaccounted for."""

    PRINTED = "printed"
    APPLIED = "applied"
    VOIDED = "voided"
    REPRINTED = "reprinted"  # replaced by a new label, the reason recorded


@dataclass(frozen=True)
class PrintedLabel:
    """One printed label: ``number`` of ``of`` (a product's bag n of N; 1 of 1 otherwise)."""

    label_id: str
    kind: str
    number: int
    of: int
    printed_at: datetime
    printed_by: str
    status: str = LabelStatus.PRINTED.value
    settled_at: datetime | None = None
    settled_by: str = ""
    reason: str = ""
    replaces: str = ""

    @property
    def unaccounted(self) -> bool:
        return self.status == LabelStatus.PRINTED.value


@dataclass(frozen=True)
class ResponseAssessment:
    """The disease's response after the infusion, as assessed on a date by a method."""

    response: str
    method: str
    assessed_on: date
    day: int
    at: datetime
    actor: str


@dataclass(frozen=True)
class ToxicityResolution:
    """A CRS or ICANS episode: onset (its first grade of 1 or more), resolution, worst grade,
    and what was given for it."""

    syndrome: str
    onset_at: datetime
    resolved_at: datetime
    max_grade: int
    actor: str
    treatments: tuple[str, ...] = field(default_factory=tuple)


# --- patient and family access (patient_access.py) --------------------------------------------


@dataclass(frozen=True)
class PatientAccess:
    access_id: str
    holder: str
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class PlannedDates:
    apheresis_on: date | None = None
    lymphodepletion_on: date | None = None
    infusion_on: date | None = None
    recorded_at: datetime | None = None


# --- the accepted vein-to-vein plan (plans.py) ------------------------------------------------


class PlanStatus(StrEnum):
    """Where an accepted plan stands: the manufacturing site confirms or declines its slot;
    a released plan holds nothing any more (the case is re-planned)."""

    ACCEPTED = "accepted"  # the manufacturing slot is proposed to its site
    CONFIRMED = "confirmed"
    DECLINED = "declined"  # the case needs a re-plan
    RELEASED = "released"


@dataclass(frozen=True)
class AcceptedPlan:
    """The planned dates of one case, as accepted by the coordinator.

    The apheresis chair and the manufacturing slot are bookings of their own (``slot.booked``,
    ``apheresis.scheduled``); the infusion bed (on ``infusion_on``), the monitoring bed (from
    ``infusion_on`` to ``monitoring_until``) and the courier lane (``shipment_on``, from
    ``manufacturing_site`` to ``centre``) are planned capacity held by this plan alone.
    """

    plan_id: str
    status: str
    centre: str
    manufacturing_site: str
    manufacturing_slot: str
    apheresis_on: date
    manufacturing_start_on: date
    release_on: date
    shipment_on: date
    arrival_on: date
    ld_start_on: date
    ld_end_on: date
    infusion_on: date
    monitoring_until: date
    transit_days: int
    accepted_at: datetime
    accepted_by: str
    decided_at: datetime | None = None
    decided_by: str = ""
    reason: str = ""
    released_at: datetime | None = None

    @property
    def holds_capacity(self) -> bool:
        return self.status != PlanStatus.RELEASED.value

    @property
    def needs_replan(self) -> bool:
        return self.status == PlanStatus.DECLINED.value
