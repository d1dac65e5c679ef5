"""One frozen dataclass per operation on a case.

Every command names its ``actor`` (the user id, never a name) and may carry ``occurred_at``,
the clinical time when it differs from the moment of recording (``now`` in ``decide``).
A command that needs a signature carries a :class:`Signature`; the domain checks the signer's
role and the clinic's signature service re-authenticates the signer and binds the signature
to the event's hash afterwards. Commands carry no patient name or birth date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final

from cartflow.domain.roles import Role

DEFAULT_WEIGHT_TOLERANCE_PERCENT: Final = 10.0
"""A site may set its own; 10% unless it does (site policy, journey/weights.py)."""


@dataclass(frozen=True, kw_only=True)
class Signature:
    """Who signs, in which role, what the signature means, and when."""

    signer_id: str
    role: Role
    meaning: str
    signed_at: datetime

    def to_dict(self) -> dict[str, str]:
        return {
            "signer_id": self.signer_id,
            "role": self.role.value,
            "meaning": self.meaning,
            "signed_at": self.signed_at.isoformat(),
        }


@dataclass(frozen=True, kw_only=True)
class BagSpec:
    """A product bag as released: manufacturer's id and lot, and which dose part it carries.

    ``part`` is 1 for a single dose; a split dose numbers its parts 1, 2, ... in the order of
    the label's split-dose rule, which gives each part its day (Day 1 = the first infusion).
    """

    bag_id: str
    lot: str
    part: int = 1
    expires_at: datetime | None = None
    """The lot's expiry as the manufacturer's release states it (its certificate of analysis):
    printed on the product's labels; None where the release does not state it."""


@dataclass(frozen=True, kw_only=True)
class Command:
    """What every command carries."""

    actor: str
    occurred_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class ReferPatient(Command):
    """Open a case. ``coi`` is the chain-of-identity identifier (any written form)."""

    coi: str
    product_id: str
    indication_id: str
    region: str
    site: str
    site_timezone: str


@dataclass(frozen=True, kw_only=True)
class RecordAntigenTest(Command):
    antigen: str
    positive: bool
    method: str = ""


@dataclass(frozen=True, kw_only=True)
class SignEligibility(Command):
    """A physician signs that the patient is eligible; ``facts`` are the patient's facts and
    ``assessment`` the eligibility module's judgment of them (JSON), kept with the signature."""

    signature: Signature
    assessment: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class SignOffLabelEligibility(Command):
    """A physician treats although the facts are not judged eligible: a signed exception with
    the reason, the facts and their judgment kept with it."""

    signature: Signature
    reason: str
    assessment: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class RecordInfectiousDiseaseScreening(Command):
    cleared: bool
    tests: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ScheduleApheresis(Command):
    """The collection is planned for ``slot_at``; ``chair_day`` is the day of the apheresis
    chair slot booked for it, when the unit's capacity is managed (the service puts it in)."""

    slot_at: datetime
    chair_day: date | None = None


@dataclass(frozen=True, kw_only=True)
class BookManufacturingSlot(Command):
    """A place in a manufacturing site's slot on ``day`` (the service puts in the slot's id,
    site and day from the slot chosen)."""

    slot_id: str
    site: str
    day: date


@dataclass(frozen=True, kw_only=True)
class RecordCollection(Command):
    """The apheresis unit records a collection: its DIN label, the case scan, and the outcome."""

    scanned_coi: str
    collection_din: str
    succeeded: bool = True
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class RecordWeight(Command):
    """A weighing of the patient. It never reclassifies the dose: release is judged by the
    weight on the manufacturing order."""

    weight_kg: float


@dataclass(frozen=True, kw_only=True)
class RecordBridgingTherapy(Command):
    regimen: str


@dataclass(frozen=True, kw_only=True)
class StartManufacturing(Command):
    """The manufacturing site accepts the order: scans the case and the collection's DIN,
    and records the weight on the order (the dose is judged by this weight)."""

    scanned_coi: str
    scanned_din: str
    weight_kg: float
    order_ref: str
    # The treating site's tolerance, put in by the service (weights.py holds the rule).
    weight_tolerance_percent: float = DEFAULT_WEIGHT_TOLERANCE_PERCENT


@dataclass(frozen=True, kw_only=True)
class ReleaseProduct(Command):
    """Release within specification: ``dose_cells`` is the total CAR+ viable T cells."""

    dose_cells: float
    bags: tuple[BagSpec, ...]
    signature: Signature


@dataclass(frozen=True, kw_only=True)
class RecordOutOfSpecification(Command):
    dose_cells: float
    bags: tuple[BagSpec, ...]
    reason: str
    signature: Signature


@dataclass(frozen=True, kw_only=True)
class DecideOutOfSpecification(Command):
    """Quality accepts the product under a signed exception (``accept``) or rejects it."""

    accept: bool
    reason: str
    signature: Signature


@dataclass(frozen=True, kw_only=True)
class ShipProduct(Command):
    scanned_coi: str
    scanned_bag_ids: tuple[str, ...]
    courier: str


@dataclass(frozen=True, kw_only=True)
class RecordTemperature(Command):
    """A temperature reading of the shipper or the storage; above the label's storage limit
    it quarantines the product until a quality decision."""

    celsius: float
    location: str


@dataclass(frozen=True, kw_only=True)
class DecideQuarantine(Command):
    """Quality releases the quarantined product (``release``) or rejects it."""

    release: bool
    reason: str
    signature: Signature


@dataclass(frozen=True, kw_only=True)
class ReceiveProduct(Command):
    scanned_coi: str
    scanned_bag_ids: tuple[str, ...]
    celsius: float
    storage_location: str


@dataclass(frozen=True, kw_only=True)
class ConfirmProductAvailability(Command):
    pass


@dataclass(frozen=True, kw_only=True)
class RecordSiteProtocolValue(Command):
    """A site's signed value for a fact the catalog does not know, with its document."""

    fact: str
    value: Any
    document_ref: str
    effective_on: date
    signature: Signature


@dataclass(frozen=True, kw_only=True)
class ModifyFludarabineDose(Command):
    """A physician reduces fludarabine for low creatinine clearance (a signed event)."""

    creatinine_clearance_ml_min: float
    reduction_percent: float
    reason: str
    signature: Signature


@dataclass(frozen=True, kw_only=True)
class StartLymphodepletion(Command):
    regimen: str


@dataclass(frozen=True, kw_only=True)
class CompleteLymphodepletion(Command):
    pass


@dataclass(frozen=True, kw_only=True)
class StopLymphodepletion(Command):
    """Lymphodepletion ended before its last scheduled day (toxicity, infection, ...):
    a physician signs it, with the reason."""

    reason: str
    signature: Signature


@dataclass(frozen=True, kw_only=True)
class OmitLymphodepletion(Command):
    """The label's exception: lymphodepletion omitted for a low white-cell count."""

    wbc_per_l: float
    wbc_measured_at: datetime
    reason: str
    signature: Signature


@dataclass(frozen=True, kw_only=True)
class ThawBag(Command):
    scanned_coi: str
    scanned_bag_id: str


@dataclass(frozen=True, kw_only=True)
class Performer:
    """Who does an act at the bedside: a user id (never a name) and the role acted in."""

    user_id: str
    role: Role

    def to_dict(self) -> dict[str, str]:
        return {"user_id": self.user_id, "role": self.role.value}


@dataclass(frozen=True, kw_only=True)
class InfuseBag(Command):
    """The bedside check and the infusion, as one act of two people.

    The performer scans the patient's wristband (the hospital record number or the case's
    chain-of-identity label), confirms the second identifier (name and birth date) with the
    patient, scans the bag's identity label (chain of identity, or the collection's DIN) and
    the bag's number; a second person witnesses and signs the infusion (``signature``).
    ``expected_wristbands`` are the patient's record numbers, put in by the service from the
    patient's record: ``decide`` compares them and never writes them into an event.
    """

    scanned_wristband: str
    identity_confirmed: bool
    scanned_bag_label: str
    scanned_bag_id: str
    performer: Performer
    signature: Signature
    expected_wristbands: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class StartMonitoring(Command):
    pass


@dataclass(frozen=True, kw_only=True)
class CompleteMonitoring(Command):
    pass


@dataclass(frozen=True, kw_only=True)
class RecordFollowUpVisit(Command):
    note_ref: str = ""


@dataclass(frozen=True, kw_only=True)
class CompleteFollowUp(Command):
    pass


@dataclass(frozen=True, kw_only=True)
class WithdrawCase(Command):
    """The case ends before its course is complete, with the reason; the physician or the
    coordinator signs it (meaning: responsibility)."""

    reason: str
    signature: Signature


@dataclass(frozen=True, kw_only=True)
class RecordDeath(Command):
    """The patient died: the cause or circumstances as reason; a physician signs it."""

    reason: str
    signature: Signature


@dataclass(frozen=True, kw_only=True)
class ExpireProduct(Command):
    reason: str


@dataclass(frozen=True, kw_only=True)
class DisposeProduct(Command):
    reason: str
    signature: Signature


# --- observations: charted beside the steps, often late ---------------------------------------


@dataclass(frozen=True, kw_only=True)
class GradeCrs(Command):
    """CRS by ASTCT 2019 from the period's highest temperature, hypotension and oxygen."""

    temperature_c: float
    hypotension: str
    oxygen: str
    fever_masked: bool = False


@dataclass(frozen=True, kw_only=True)
class GradeIcans(Command):
    """ICANS by ASTCT 2019: ICE from age 12, CAPD under 12 or with developmental delay."""

    consciousness: str
    ice: int | None = None
    capd: int | None = None
    age_years: float | None = None
    developmental_delay: bool = False
    seizure: str = "none"
    motor: str = "none"
    edema: str = "none"


@dataclass(frozen=True, kw_only=True)
class RecordKineticsMeasurement(Command):
    """A transgene level (copies/ug genomic DNA), on a day after the first infusion (``day``)
    or at the time the sample was taken (``occurred_at``); below ``lloq`` it is censored."""

    copies_per_ug: float | None
    lloq: float | None = None
    day: float | None = None


@dataclass(frozen=True, kw_only=True)
class RecordMarrowBlasts(Command):
    """A bone-marrow blast percentage (of nucleated cells) from a sample taken at
    ``occurred_at``: the split-dose regimen of obecabtagene autoleucel is chosen by it."""

    blast_percent: float


@dataclass(frozen=True, kw_only=True)
class OpenDeviation(Command):
    """A departure from procedure, for quality to review (a refused bedside scan, ...)."""

    kind: str
    summary: str
    details: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, kw_only=True)
class ReviewDeviation(Command):
    """Quality reviews deviations of the case (``numbers``: their 1-based order on the case,
    as ``CaseState.deviations`` lists them), with a comment, signed (meaning: review)."""

    numbers: tuple[int, ...]
    comment: str
    signature: Signature


@dataclass(frozen=True, kw_only=True)
class PrintLabels(Command):
    """Labels printed for the case: ``kind`` is ``collection_bag``, ``product_bag`` or
    ``shipper``; ``count`` labels (a product's bags are numbered 1 to ``count``)."""

    kind: str
    count: int = 1


@dataclass(frozen=True, kw_only=True)
class ApplyLabels(Command):
    """Printed labels put on their bag or shipper."""

    label_ids: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class ReprintLabel(Command):
    """A printed label replaced by a new one (damaged, misprinted), with the reason."""

    label_id: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class VoidLabels(Command):
    """Printed labels destroyed unused, with the reason."""

    label_ids: tuple[str, ...]
    reason: str


@dataclass(frozen=True, kw_only=True)
class RecordResponseAssessment(Command):
    """The disease's response after the infusion, by ``method``, assessed on ``assessed_on``."""

    response: str
    method: str
    assessed_on: date


@dataclass(frozen=True, kw_only=True)
class ResolveToxicity(Command):
    """A CRS or ICANS episode resolved (``syndrome``: ``crs`` or ``icans``) at ``occurred_at``,
    with what was given for it (``treatments``: tocilizumab, corticosteroids, ...)."""

    syndrome: str
    treatments: tuple[str, ...] = ()


# --- the vein-to-vein plan (plans.py) --------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class AcceptPlan(Command):
    """The coordinator accepts a proposed plan. It books the apheresis chair (the journey's
    ``ScheduleApheresis`` for ``apheresis_at`` on ``chair_day``) unless the collection is
    already scheduled or done, and the manufacturing slot (``BookManufacturingSlot``), with
    the same guards as a booking by hand; the other legs are planned dates, and the infusion
    bed, the monitoring bed and the courier lane are capacity the plan holds. The service
    puts in the slots' ids, sites and days from the plan."""

    plan_id: str
    centre: str
    apheresis_at: datetime
    chair_day: date | None = None
    manufacturing_slot_id: str
    manufacturing_site: str
    manufacturing_start_on: date
    release_on: date
    shipment_on: date
    arrival_on: date
    ld_start_on: date
    ld_end_on: date
    infusion_on: date
    monitoring_until: date
    transit_days: int


@dataclass(frozen=True, kw_only=True)
class ConfirmPlanSlot(Command):
    """The manufacturing site confirms the slot the accepted plan proposed to it."""

    plan_id: str


@dataclass(frozen=True, kw_only=True)
class DeclinePlanSlot(Command):
    """The manufacturing site declines the proposed slot, with the reason: the case needs a
    re-plan."""

    plan_id: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class ReleasePlan(Command):
    """Re-planning: the plan's bookings not yet used and its planned capacity are given back,
    with the reason."""

    plan_id: str
    reason: str


ALL_COMMANDS: tuple[type[Command], ...] = (
    ReferPatient,
    RecordAntigenTest,
    SignEligibility,
    SignOffLabelEligibility,
    RecordInfectiousDiseaseScreening,
    ScheduleApheresis,
    BookManufacturingSlot,
    RecordCollection,
    RecordWeight,
    RecordBridgingTherapy,
    StartManufacturing,
    ReleaseProduct,
    RecordOutOfSpecification,
    DecideOutOfSpecification,
    ShipProduct,
    RecordTemperature,
    DecideQuarantine,
    ReceiveProduct,
    ConfirmProductAvailability,
    RecordSiteProtocolValue,
    ModifyFludarabineDose,
    StartLymphodepletion,
    CompleteLymphodepletion,
    StopLymphodepletion,
    OmitLymphodepletion,
    ThawBag,
    InfuseBag,
    StartMonitoring,
    CompleteMonitoring,
    RecordFollowUpVisit,
    CompleteFollowUp,
    WithdrawCase,
    RecordDeath,
    ExpireProduct,
    DisposeProduct,
    GradeCrs,
    GradeIcans,
    RecordKineticsMeasurement,
    OpenDeviation,
    ReviewDeviation,
    PrintLabels,
    ApplyLabels,
    ReprintLabel,
    VoidLabels,
    RecordResponseAssessment,
    ResolveToxicity,
    AcceptPlan,
    ConfirmPlanSlot,
    DeclinePlanSlot,
    ReleasePlan,
)

OBSERVATIONS: frozenset[type[Command]] = frozenset(
    {
        GradeCrs,
        GradeIcans,
        RecordKineticsMeasurement,
        RecordMarrowBlasts,
        OpenDeviation,
        ReviewDeviation,
        RecordResponseAssessment,
        ResolveToxicity,
    }
)
"""Commands that record what was seen rather than move the case: they may carry a clinical
time earlier than the case's last event (charted late), and never change its step."""
