"""The state of one therapy case: everything the guards need, folded from the log.

:class:`CaseState` is a frozen value. ``apply`` builds the next one; ``to_dict`` is the
JSON projection the clinic stores; ``waiting_for`` and ``next_actions`` feed the board.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any

from cartflow.domain.catalog import SiteProtocolValue
from cartflow.domain.journey.records import (
    AcceptedPlan,
    PatientAccess,
    PlannedDates,
    PrintedLabel,
    ResponseAssessment,
    ToxicityResolution,
)
from cartflow.domain.journey.steps import COMMAND_STEPS, TERMINAL, Step


@dataclass(frozen=True)
class SignatureRecord:
    """A signature seen on an event (the clinic binds it to the event hash)."""

    event_type: str
    signer_id: str
    role: str
    meaning: str
    signed_at: str


@dataclass(frozen=True)
class AntigenResult:
    antigen: str
    positive: bool
    qualifies: bool
    at: datetime


@dataclass(frozen=True)
class Collection:
    din: str
    at: datetime
    succeeded: bool
    reason: str = ""


@dataclass(frozen=True)
class Bag:
    bag_id: str
    lot: str
    part: int = 1
    day: int = 1
    tolerance_days: int = 0
    expires_at: datetime | None = None  # as the release states it; None: not stated


@dataclass(frozen=True)
class Release:
    """How the product was released: the dose against the label range for the order's weight."""

    dose_cells: float
    dose_min: float | None
    dose_max: float | None
    weight_kg: float | None
    in_range: bool
    signer_id: str
    signer_role: str
    at: datetime
    under_exception: bool = False


@dataclass(frozen=True)
class TemperatureReading:
    celsius: float
    limit_celsius: float
    excursion: bool
    location: str
    at: datetime


@dataclass(frozen=True)
class Quarantine:
    since: datetime
    from_step: Step
    reason: str


@dataclass(frozen=True)
class QualityDecision:
    subject: str  # "quarantine" or "out_of_specification"
    accepted: bool
    reason: str
    signer_id: str
    at: datetime


@dataclass(frozen=True)
class LdCourse:
    regimen: str
    started_at: datetime
    completed_at: datetime | None = None
    repeat: bool = False
    scheduled_days: int | None = None  # from the regimen's drugs; unknown for v1 events
    stopped_early: bool = False


@dataclass(frozen=True)
class ExceptionRecord:
    """A signed exception or modification: what, why, who signed, and its details."""

    kind: str
    reason: str
    signer_id: str
    signer_role: str
    at: datetime
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Thaw:
    bag_id: str
    at: datetime


@dataclass(frozen=True)
class Infusion:
    bag_id: str
    part: int
    at: datetime
    signer_id: str
    performer_id: str = ""


@dataclass(frozen=True)
class BedsideCheck:
    """A bedside check that matched: which identifiers matched, who performed, who witnessed.

    Checks recorded before the infusion became one command name no witness (``witness`` is
    empty) and no identifiers (the clinic then recorded only that they matched).
    """

    bag_id: str
    performer_id: str
    witness_id: str
    at: datetime
    wristband: str = ""
    bag_label: str = ""


@dataclass(frozen=True)
class ToxicityGrade:
    """A CRS or ICANS grade as observed (ASTCT 2019): when, by whom, from what."""

    grade: int
    at: datetime
    recorded_at: datetime
    actor: str
    observed: dict[str, Any] = field(default_factory=dict)
    reason: str = ""


@dataclass(frozen=True)
class MarrowBlastCount:
    """A bone-marrow blast percentage and when its sample was taken (split_dose.py reads it)."""

    blast_percent: float
    sampled_at: datetime
    recorded_at: datetime
    actor: str


@dataclass(frozen=True)
class Measurement:
    """A transgene level in copies/ug genomic DNA, ``day`` days after the first infusion."""

    day: float
    copies_per_ug: float | None
    lloq: float | None
    censored: bool
    at: datetime
    recorded_at: datetime
    actor: str


@dataclass(frozen=True)
class Booking:
    """A place taken in a site's slot: which slot, its kind, site and day."""

    slot: str
    kind: str
    site: str
    day: date
    at: datetime
    released_at: datetime | None = None  # given back by a released plan


@dataclass(frozen=True)
class Deviation:
    """A departure from procedure recorded for quality (its review is a signature on it)."""

    kind: str
    summary: str
    at: datetime
    actor: str
    details: dict[str, str] = field(default_factory=dict)
    # Filled by the review (``deviation.reviewed``): who reviewed it, when, and their comment.
    reviewed_by: str = ""
    reviewed_at: datetime | None = None
    review_comment: str = ""

    @property
    def reviewed(self) -> bool:
        return self.reviewed_at is not None


_WAITING: dict[Step, str] = {
    Step.NEW: "a referral",
    Step.REFERRED: "an antigen test",
    Step.ANTIGEN_TESTED: "a physician's eligibility signature",
    Step.ELIGIBLE: "infectious-disease screening",
    Step.SCREENED: "an apheresis slot",
    Step.APHERESIS_SCHEDULED: "the collection",
    Step.COLLECTION_FAILED: "a new apheresis slot (re-collection)",
    Step.COLLECTED: "the manufacturing order",
    Step.BRIDGING: "the manufacturing order",
    Step.MANUFACTURING: "release testing",
    Step.OUT_OF_SPECIFICATION: "a quality decision on the out-of-specification product",
    Step.RELEASED: "a shipment",
    Step.SHIPPED: "receipt of the shipment",
    Step.QUARANTINED: "a quality decision on the quarantined product",
    Step.RECEIVED: "confirmation that the product is available",
    Step.AVAILABLE: "lymphodepletion, or a signed omission",
    Step.LYMPHODEPLETING: "completion of lymphodepletion",
    Step.LYMPHODEPLETED: "a bag to be thawed",
    Step.THAWED: "infusion: bedside scan and a physician's signature",
    Step.INFUSING: "the next bag or dose part",
    Step.INFUSED: "start of monitoring",
    Step.MONITORING: "the end of the monitoring period",
    Step.LONG_TERM_FOLLOW_UP: "follow-up visits",
    Step.PRODUCT_REJECTED: "disposal of the rejected product",
    Step.PRODUCT_EXPIRED: "disposal of the expired product",
    Step.PRODUCT_DISPOSED: "a new apheresis slot, or withdrawal",
}


@dataclass(frozen=True)
class CaseState:
    """One case, as folded from its events. The empty state (``CaseState()``) is step NEW."""

    step: Step = Step.NEW
    coi: str = ""
    product_id: str = ""
    indication_id: str = ""
    region: str = ""
    site: str = ""
    site_timezone: str = ""
    referred_at: datetime | None = None
    antigen_tests: tuple[AntigenResult, ...] = ()
    signatures: tuple[SignatureRecord, ...] = ()
    eligibility_signer: str = ""
    screening_cleared: bool = False
    apheresis_slots: tuple[datetime, ...] = ()
    collections: tuple[Collection, ...] = ()
    bridging: tuple[str, ...] = ()
    order_ref: str = ""
    order_din: str = ""
    order_weight_kg: float | None = None
    latest_weight_kg: float | None = None
    out_of_specification_reason: str = ""
    release: Release | None = None
    bags: tuple[Bag, ...] = ()
    shipped_at: datetime | None = None
    temperatures: tuple[TemperatureReading, ...] = ()
    quarantine: Quarantine | None = None
    quality_decisions: tuple[QualityDecision, ...] = ()
    received_at: datetime | None = None
    storage_location: str = ""
    available_at: datetime | None = None
    ld_courses: tuple[LdCourse, ...] = ()
    ld_omission: ExceptionRecord | None = None
    exceptions: tuple[ExceptionRecord, ...] = ()
    thaws: tuple[Thaw, ...] = ()
    infusions: tuple[Infusion, ...] = ()
    bedside_checks: tuple[BedsideCheck, ...] = ()
    crs_grades: tuple[ToxicityGrade, ...] = ()
    icans_grades: tuple[ToxicityGrade, ...] = ()
    measurements: tuple[Measurement, ...] = ()
    marrow_blasts: tuple[MarrowBlastCount, ...] = ()
    deviations: tuple[Deviation, ...] = ()
    bookings: tuple[Booking, ...] = ()
    monitoring_started_at: datetime | None = None
    monitoring_completed_at: datetime | None = None
    follow_up_until: date | None = None
    follow_up_visits: int = 0
    site_values: tuple[SiteProtocolValue, ...] = ()
    product_cycles: int = 0
    product_disposed: bool = False
    expired_reason: str = ""
    disposal_reason: str = ""
    reason: str = ""
    anomalies: tuple[str, ...] = ()
    patient_accesses: tuple[PatientAccess, ...] = ()
    planned_dates: PlannedDates = field(default_factory=PlannedDates)
    plan: AcceptedPlan | None = None
    last_occurred_at: datetime | None = None
    events_applied: int = 0
    labels: tuple[PrintedLabel, ...] = ()
    responses: tuple[ResponseAssessment, ...] = ()
    toxicity_resolutions: tuple[ToxicityResolution, ...] = ()

    # --- questions the guards and the pages ask -------------------------------------------

    @property
    def collection(self) -> Collection | None:
        """The latest successful collection (the one the product is made from)."""
        for collection in reversed(self.collections):
            if collection.succeeded:
                return collection
        return None

    def bag(self, bag_id: str) -> Bag | None:
        for bag in self.bags:
            if bag.bag_id == bag_id:
                return bag
        return None

    @property
    def infused_bag_ids(self) -> frozenset[str]:
        return frozenset(i.bag_id for i in self.infusions)

    def thaw_of(self, bag_id: str) -> Thaw | None:
        for thaw in reversed(self.thaws):
            if thaw.bag_id == bag_id:
                return thaw
        return None

    @property
    def thawed_bag(self) -> str | None:
        """The bag thawed and not yet infused, if any."""
        for thaw in reversed(self.thaws):
            if thaw.bag_id not in self.infused_bag_ids:
                return thaw.bag_id
        return None

    @property
    def remaining_bags(self) -> tuple[Bag, ...]:
        return tuple(b for b in self.bags if b.bag_id not in self.infused_bag_ids)

    @property
    def ld_course(self) -> LdCourse | None:
        return self.ld_courses[-1] if self.ld_courses else None

    @property
    def ld_completed_at(self) -> datetime | None:
        course = self.ld_course
        return course.completed_at if course is not None else None

    @property
    def first_infusion_at(self) -> datetime | None:
        return self.infusions[0].at if self.infusions else None

    @property
    def is_closed(self) -> bool:
        return self.step in TERMINAL

    @property
    def waiting_for(self) -> str:
        """What the case waits for, in words (empty for a closed case)."""
        if self.step is Step.LONG_TERM_FOLLOW_UP and self.follow_up_until is not None:
            return f"follow-up visits until {self.follow_up_until.isoformat()}"
        if self.step in (Step.WITHDRAWN, Step.DECEASED) and self._unused_product:
            return "disposal of the unused product"
        return _WAITING.get(self.step, "")

    @property
    def _unused_product(self) -> bool:
        return bool(self.bags) and not self.product_disposed and bool(self.remaining_bags)

    @property
    def next_actions(self) -> tuple[str, ...]:
        """The commands (class names) the current step accepts; guards may still refuse one."""
        names = [name for name, steps in COMMAND_STEPS.items() if self.step in steps]
        names = [n for n in names if _plan_action_open(self, n)]
        if self.step in (Step.WITHDRAWN, Step.DECEASED) and not self._unused_product:
            names = [n for n in names if n != "DisposeProduct"]
        return tuple(names)

    def to_dict(self) -> dict[str, Any]:
        """The JSON projection: every field, plus ``waiting_for`` and ``next_actions``."""
        body = {f.name: _jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}
        body["waiting_for"] = self.waiting_for
        body["next_actions"] = list(self.next_actions)
        return body


def _plan_action_open(state: CaseState, name: str) -> bool:
    """The plan's commands where they can apply: accept without a plan holding capacity,
    confirm or decline a proposed slot, release a plan that holds capacity."""
    plan = state.plan
    holding = plan is not None and plan.holds_capacity
    if name == "AcceptPlan":
        return not holding
    if name in ("ConfirmPlanSlot", "DeclinePlanSlot"):
        return plan is not None and plan.status == "accepted"
    if name == "ReleasePlan":
        return holding
    return True


def _jsonable(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        return [_jsonable(v) for v in value]
    return value
