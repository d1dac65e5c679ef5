"""The steps of a therapy case and the moves allowed between them.

The table :data:`TRANSITIONS` is the one place the shape of the journey is written down;
``decide`` refuses a move that is not in it, and ``apply`` notes (never refuses) a recorded
event that arrives in a step the table does not allow.
"""

from __future__ import annotations

from enum import StrEnum


class Step(StrEnum):
    """Where a case stands. The values are stored in projections: never rename one."""

    NEW = "new"
    REFERRED = "referred"
    ANTIGEN_TESTED = "antigen_tested"
    ELIGIBLE = "eligible"
    SCREENED = "screened"
    APHERESIS_SCHEDULED = "apheresis_scheduled"
    COLLECTED = "collected"
    COLLECTION_FAILED = "collection_failed"
    BRIDGING = "bridging"
    MANUFACTURING = "manufacturing"
    OUT_OF_SPECIFICATION = "out_of_specification"
    RELEASED = "released"
    PRODUCT_REJECTED = "product_rejected"
    SHIPPED = "shipped"
    QUARANTINED = "quarantined"
    RECEIVED = "received"
    AVAILABLE = "available"
    LYMPHODEPLETING = "lymphodepleting"
    LYMPHODEPLETED = "lymphodepleted"
    THAWED = "thawed"
    INFUSING = "infusing"
    INFUSED = "infused"
    MONITORING = "monitoring"
    LONG_TERM_FOLLOW_UP = "long_term_follow_up"
    FOLLOW_UP_COMPLETED = "follow_up_completed"
    PRODUCT_EXPIRED = "product_expired"
    PRODUCT_DISPOSED = "product_disposed"
    WITHDRAWN = "withdrawn"
    DECEASED = "deceased"


TERMINAL: frozenset[Step] = frozenset({Step.FOLLOW_UP_COMPLETED, Step.WITHDRAWN, Step.DECEASED})
"""Steps no command leaves (product disposal after withdrawal or death is still recorded)."""

PRODUCT_HELD: frozenset[Step] = frozenset(
    {
        Step.OUT_OF_SPECIFICATION,
        Step.RELEASED,
        Step.PRODUCT_REJECTED,
        Step.SHIPPED,
        Step.QUARANTINED,
        Step.RECEIVED,
        Step.AVAILABLE,
        Step.LYMPHODEPLETING,
        Step.LYMPHODEPLETED,
        Step.THAWED,
        Step.INFUSING,
    }
)
"""Steps in which manufactured product exists and has not all been infused."""

INFUSED_STEPS: frozenset[Step] = frozenset(
    {Step.INFUSED, Step.MONITORING, Step.LONG_TERM_FOLLOW_UP, Step.FOLLOW_UP_COMPLETED}
)

_BEFORE_INFUSION: frozenset[Step] = frozenset(Step) - INFUSED_STEPS - TERMINAL - {Step.NEW}

TRANSITIONS: dict[Step, frozenset[Step]] = {
    Step.NEW: frozenset({Step.REFERRED}),
    Step.REFERRED: frozenset({Step.ANTIGEN_TESTED}),
    Step.ANTIGEN_TESTED: frozenset({Step.ELIGIBLE}),
    Step.ELIGIBLE: frozenset({Step.SCREENED}),
    Step.SCREENED: frozenset({Step.APHERESIS_SCHEDULED}),
    Step.APHERESIS_SCHEDULED: frozenset({Step.COLLECTED, Step.COLLECTION_FAILED}),
    Step.COLLECTION_FAILED: frozenset({Step.APHERESIS_SCHEDULED}),
    Step.COLLECTED: frozenset({Step.BRIDGING, Step.MANUFACTURING}),
    Step.BRIDGING: frozenset({Step.MANUFACTURING}),
    Step.MANUFACTURING: frozenset({Step.RELEASED, Step.OUT_OF_SPECIFICATION}),
    Step.OUT_OF_SPECIFICATION: frozenset({Step.RELEASED, Step.PRODUCT_REJECTED}),
    Step.RELEASED: frozenset({Step.SHIPPED, Step.PRODUCT_EXPIRED}),
    Step.SHIPPED: frozenset({Step.RECEIVED, Step.QUARANTINED, Step.PRODUCT_EXPIRED}),
    Step.QUARANTINED: frozenset(
        {
            Step.SHIPPED,
            Step.RECEIVED,
            Step.AVAILABLE,
            Step.LYMPHODEPLETING,
            Step.LYMPHODEPLETED,
            Step.PRODUCT_REJECTED,
            Step.PRODUCT_EXPIRED,
        }
    ),
    Step.RECEIVED: frozenset({Step.AVAILABLE, Step.QUARANTINED, Step.PRODUCT_EXPIRED}),
    Step.AVAILABLE: frozenset(
        {Step.LYMPHODEPLETING, Step.LYMPHODEPLETED, Step.QUARANTINED, Step.PRODUCT_EXPIRED}
    ),
    Step.LYMPHODEPLETING: frozenset({Step.LYMPHODEPLETED, Step.QUARANTINED, Step.PRODUCT_EXPIRED}),
    Step.LYMPHODEPLETED: frozenset(
        {Step.LYMPHODEPLETING, Step.THAWED, Step.QUARANTINED, Step.PRODUCT_EXPIRED}
    ),
    Step.THAWED: frozenset({Step.INFUSING, Step.INFUSED, Step.PRODUCT_EXPIRED}),
    Step.INFUSING: frozenset({Step.THAWED}),
    Step.INFUSED: frozenset({Step.MONITORING}),
    Step.MONITORING: frozenset({Step.LONG_TERM_FOLLOW_UP}),
    Step.LONG_TERM_FOLLOW_UP: frozenset({Step.FOLLOW_UP_COMPLETED}),
    Step.PRODUCT_REJECTED: frozenset({Step.PRODUCT_DISPOSED}),
    Step.PRODUCT_EXPIRED: frozenset({Step.PRODUCT_DISPOSED}),
    Step.PRODUCT_DISPOSED: frozenset({Step.APHERESIS_SCHEDULED}),
    Step.FOLLOW_UP_COMPLETED: frozenset(),
    Step.WITHDRAWN: frozenset(),
    Step.DECEASED: frozenset(),
}
"""Forward moves by step. Withdrawal and death are allowed from every non-terminal step and
are added below, so the table stays readable."""

for _step in frozenset(Step) - TERMINAL - {Step.NEW}:
    TRANSITIONS[_step] = TRANSITIONS[_step] | {Step.WITHDRAWN, Step.DECEASED}


def allowed(current: Step, target: Step) -> bool:
    """Whether the machine moves from ``current`` to ``target`` (staying put is always fine)."""
    return current == target or target in TRANSITIONS[current]


_OPEN: frozenset[Step] = frozenset(Step) - TERMINAL - {Step.NEW}
_PRODUCT_STORED: frozenset[Step] = frozenset(
    {Step.RECEIVED, Step.AVAILABLE, Step.LYMPHODEPLETING, Step.LYMPHODEPLETED}
)
# From the collection to the product's receipt: labels are printed, applied and voided while
# a bag or shipper of the case is being labelled (labels.py says which kind when).
_LABELLING: frozenset[Step] = frozenset(
    {
        Step.APHERESIS_SCHEDULED,
        Step.COLLECTION_FAILED,
        Step.COLLECTED,
        Step.BRIDGING,
        Step.MANUFACTURING,
        Step.OUT_OF_SPECIFICATION,
        Step.RELEASED,
        Step.SHIPPED,
        Step.QUARANTINED,
        Step.RECEIVED,
        Step.PRODUCT_REJECTED,
        Step.PRODUCT_EXPIRED,
    }
)

COMMAND_STEPS: dict[str, frozenset[Step]] = {
    "ReferPatient": frozenset({Step.NEW}),
    "RecordAntigenTest": frozenset({Step.REFERRED}),
    "SignEligibility": frozenset({Step.ANTIGEN_TESTED}),
    "SignOffLabelEligibility": frozenset({Step.ANTIGEN_TESTED}),
    "RecordInfectiousDiseaseScreening": frozenset({Step.ELIGIBLE}),
    "ScheduleApheresis": frozenset({Step.SCREENED, Step.COLLECTION_FAILED, Step.PRODUCT_DISPOSED}),
    "BookManufacturingSlot": frozenset({Step.APHERESIS_SCHEDULED, Step.COLLECTED, Step.BRIDGING}),
    "RecordCollection": frozenset({Step.APHERESIS_SCHEDULED}),
    "RecordWeight": _OPEN,
    "RecordBridgingTherapy": frozenset(
        {
            Step.COLLECTED,
            Step.BRIDGING,
            Step.MANUFACTURING,
            Step.OUT_OF_SPECIFICATION,
            Step.RELEASED,
            Step.SHIPPED,
            Step.QUARANTINED,
            Step.RECEIVED,
            Step.AVAILABLE,
        }
    ),
    "StartManufacturing": frozenset({Step.COLLECTED, Step.BRIDGING}),
    "ReleaseProduct": frozenset({Step.MANUFACTURING}),
    "RecordOutOfSpecification": frozenset({Step.MANUFACTURING}),
    "DecideOutOfSpecification": frozenset({Step.OUT_OF_SPECIFICATION}),
    "ShipProduct": frozenset({Step.RELEASED}),
    "RecordTemperature": _PRODUCT_STORED | {Step.SHIPPED, Step.QUARANTINED},
    "DecideQuarantine": frozenset({Step.QUARANTINED}),
    "ReceiveProduct": frozenset({Step.SHIPPED}),
    "ConfirmProductAvailability": frozenset({Step.RECEIVED}),
    "RecordSiteProtocolValue": _OPEN,
    "ModifyFludarabineDose": frozenset({Step.AVAILABLE, Step.LYMPHODEPLETING}),
    "StartLymphodepletion": frozenset({Step.AVAILABLE, Step.LYMPHODEPLETED}),
    "CompleteLymphodepletion": frozenset({Step.LYMPHODEPLETING}),
    "StopLymphodepletion": frozenset({Step.LYMPHODEPLETING}),
    "OmitLymphodepletion": frozenset({Step.AVAILABLE}),
    "ThawBag": frozenset({Step.LYMPHODEPLETED, Step.INFUSING}),
    "InfuseBag": frozenset({Step.THAWED}),
    "StartMonitoring": frozenset({Step.INFUSED}),
    "CompleteMonitoring": frozenset({Step.MONITORING}),
    "RecordFollowUpVisit": frozenset({Step.LONG_TERM_FOLLOW_UP}),
    "CompleteFollowUp": frozenset({Step.LONG_TERM_FOLLOW_UP}),
    "WithdrawCase": _OPEN,
    "RecordDeath": _OPEN,
    "ExpireProduct": _PRODUCT_STORED | {Step.RELEASED, Step.SHIPPED, Step.QUARANTINED, Step.THAWED},
    "DisposeProduct": frozenset(
        {Step.PRODUCT_REJECTED, Step.PRODUCT_EXPIRED, Step.WITHDRAWN, Step.DECEASED}
    ),
    "PrintLabels": _LABELLING,
    "ApplyLabels": _LABELLING,
    "ReprintLabel": _LABELLING,
    "VoidLabels": _LABELLING,
    "RecordResponseAssessment": _OPEN,
    "ResolveToxicity": _OPEN,
    "RecordMarrowBlasts": _OPEN,
    # The plan books like ScheduleApheresis where the collection is still to be planned, and
    # like BookManufacturingSlot where it is planned or done (its day then stays).
    "AcceptPlan": frozenset(
        {
            Step.SCREENED,
            Step.COLLECTION_FAILED,
            Step.PRODUCT_DISPOSED,
            Step.APHERESIS_SCHEDULED,
            Step.COLLECTED,
            Step.BRIDGING,
        }
    ),
    "ConfirmPlanSlot": _OPEN,
    "DeclinePlanSlot": _OPEN,
    "ReleasePlan": _OPEN,
}
"""Which commands each step accepts (by command class name); ``decide`` enforces it and
``CaseState.next_actions`` lists it for the pages."""
