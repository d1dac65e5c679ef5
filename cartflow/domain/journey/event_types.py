"""Every event type the journey records, with the schema version ``decide`` writes today.

``apply`` reads every version listed in :data:`READABLE_VERSIONS`. A version is bumped when a
field is renamed or its meaning changes; the old version stays readable forever.
"""

from __future__ import annotations

from typing import Final

CASE_REFERRED: Final = "case.referred"
ANTIGEN_TESTED: Final = "antigen.tested"
ELIGIBILITY_SIGNED: Final = "eligibility.signed"
SCREENING_RECORDED: Final = "screening.recorded"
APHERESIS_SCHEDULED: Final = "apheresis.scheduled"
COLLECTION_RECORDED: Final = "collection.recorded"
COLLECTION_FAILED: Final = "collection.failed"
BRIDGING_GIVEN: Final = "bridging.given"
PATIENT_WEIGHED: Final = "patient.weighed"
MANUFACTURING_STARTED: Final = "manufacturing.started"
PRODUCT_RELEASED: Final = "product.released"
PRODUCT_OUT_OF_SPECIFICATION: Final = "product.out_of_specification"
OOS_ACCEPTED: Final = "exception.out_of_specification_accepted"
OOS_REJECTED: Final = "quality.out_of_specification_rejected"
PRODUCT_SHIPPED: Final = "product.shipped"
TEMPERATURE_RECORDED: Final = "product.temperature_recorded"
QUARANTINE_RELEASED: Final = "quality.quarantine_released"
QUARANTINE_REJECTED: Final = "quality.quarantine_rejected"
PRODUCT_RECEIVED: Final = "product.received"
AVAILABILITY_CONFIRMED: Final = "product.availability_confirmed"
SITE_PROTOCOL_RECORDED: Final = "site_protocol.recorded"
FLUDARABINE_MODIFIED: Final = "ld.fludarabine_modified"
LD_STARTED: Final = "ld.started"
LD_COMPLETED: Final = "ld.completed"
LD_OMITTED: Final = "exception.ld_omitted"
PRODUCT_THAWED: Final = "product.thawed"
PRODUCT_INFUSED: Final = "product.infused"
MONITORING_STARTED: Final = "monitoring.started"
MONITORING_COMPLETED: Final = "monitoring.completed"
FOLLOW_UP_VISIT: Final = "follow_up.visit_recorded"
FOLLOW_UP_COMPLETED: Final = "follow_up.completed"
CASE_WITHDRAWN: Final = "case.withdrawn"
CASE_DECEASED: Final = "case.deceased"
PRODUCT_EXPIRED: Final = "product.expired"
PRODUCT_DISPOSED: Final = "product.disposed"
LD_STOPPED_EARLY: Final = "ld.stopped_early"
BEDSIDE_VERIFIED: Final = "bedside.verified"
CRS_GRADED: Final = "toxicity.crs_graded"
ICANS_GRADED: Final = "toxicity.icans_graded"
KINETICS_MEASURED: Final = "kinetics.measured"
MARROW_BLASTS_RECORDED: Final = "marrow.blasts_recorded"
DEVIATION_OPENED: Final = "deviation.opened"
DEVIATION_REVIEWED: Final = "deviation.reviewed"
SLOT_BOOKED: Final = "slot.booked"
OFF_LABEL_ELIGIBILITY: Final = "exception.off_label_eligibility"
LABEL_PRINTED: Final = "label.printed"
LABEL_APPLIED: Final = "label.applied"
LABEL_REPRINTED: Final = "label.reprinted"
LABEL_VOIDED: Final = "label.voided"
RESPONSE_ASSESSED: Final = "response.assessed"
TOXICITY_RESOLVED: Final = "toxicity.resolved"
PLAN_ACCEPTED: Final = "plan.accepted"
PLAN_SLOT_CONFIRMED: Final = "plan.slot_confirmed"
PLAN_SLOT_DECLINED: Final = "plan.slot_declined"
PLAN_RELEASED: Final = "plan.released"

OBSERVATION_TYPES: Final = frozenset(
    {
        BEDSIDE_VERIFIED,
        CRS_GRADED,
        ICANS_GRADED,
        KINETICS_MEASURED,
        MARROW_BLASTS_RECORDED,
        DEVIATION_OPENED,
        DEVIATION_REVIEWED,
        SLOT_BOOKED,
        RESPONSE_ASSESSED,
        TOXICITY_RESOLVED,
        PLAN_ACCEPTED,
        PLAN_SLOT_CONFIRMED,
        PLAN_SLOT_DECLINED,
        PLAN_RELEASED,
    }
)
"""Records beside the steps (observations, the bedside check, deviations, slot bookings, plans):
``apply`` folds them into their own fields and leaves the steps' count (``events_applied``)
and clock (``last_occurred_at``) as they were, as it did when the clinic wrote them beside
the journey."""

CURRENT_VERSION: Final[dict[str, int]] = {
    CASE_REFERRED: 2,  # v1 named the time zone "tz"; v2 names it "site_timezone"
    ANTIGEN_TESTED: 1,
    ELIGIBILITY_SIGNED: 1,
    SCREENING_RECORDED: 1,
    APHERESIS_SCHEDULED: 1,
    COLLECTION_RECORDED: 1,
    COLLECTION_FAILED: 1,
    BRIDGING_GIVEN: 1,
    PATIENT_WEIGHED: 1,
    MANUFACTURING_STARTED: 1,
    PRODUCT_RELEASED: 1,
    PRODUCT_OUT_OF_SPECIFICATION: 1,
    OOS_ACCEPTED: 1,
    OOS_REJECTED: 1,
    PRODUCT_SHIPPED: 1,
    TEMPERATURE_RECORDED: 1,
    QUARANTINE_RELEASED: 1,
    QUARANTINE_REJECTED: 1,
    PRODUCT_RECEIVED: 1,
    AVAILABILITY_CONFIRMED: 1,
    SITE_PROTOCOL_RECORDED: 1,
    FLUDARABINE_MODIFIED: 1,
    LD_STARTED: 2,  # v1: regimen was free text; v2: the catalog regimen id and its drugs
    LD_COMPLETED: 1,
    LD_OMITTED: 1,
    PRODUCT_THAWED: 1,
    PRODUCT_INFUSED: 2,  # v1: three scans and one signer; v2: the performer and the witness
    LD_STOPPED_EARLY: 1,
    BEDSIDE_VERIFIED: 2,  # v1 (the clinic's): {"matched": {...}}; v2: the domain's check
    CRS_GRADED: 1,
    ICANS_GRADED: 1,
    KINETICS_MEASURED: 1,
    MARROW_BLASTS_RECORDED: 1,
    DEVIATION_OPENED: 1,
    DEVIATION_REVIEWED: 1,
    SLOT_BOOKED: 1,  # the clinic wrote the same fields before booking was a command
    OFF_LABEL_ELIGIBILITY: 1,
    MONITORING_STARTED: 1,
    MONITORING_COMPLETED: 1,
    FOLLOW_UP_VISIT: 1,
    FOLLOW_UP_COMPLETED: 1,
    CASE_WITHDRAWN: 2,  # v1: the reason alone; v2: signed (signature)
    CASE_DECEASED: 2,  # v1: the reason alone; v2: signed (signature)
    PRODUCT_EXPIRED: 1,
    PRODUCT_DISPOSED: 1,
    LABEL_PRINTED: 1,
    LABEL_APPLIED: 1,
    LABEL_REPRINTED: 1,
    LABEL_VOIDED: 1,
    RESPONSE_ASSESSED: 1,
    TOXICITY_RESOLVED: 1,
    PLAN_ACCEPTED: 1,
    PLAN_SLOT_CONFIRMED: 1,
    PLAN_SLOT_DECLINED: 1,
    PLAN_RELEASED: 1,
}

READABLE_VERSIONS: Final[dict[str, frozenset[int]]] = {
    name: frozenset(range(1, version + 1)) for name, version in CURRENT_VERSION.items()
}
