"""The table of the operations a page offers: fields, permission and service of each.

One :class:`~cartflow.clinic.forms.fields.Operation` per journey command (by the command's
class name, as ``CaseState.next_actions`` names it) and a few the pages add (booking the
manufacturing slot, grading CRS). The form's input is validated by the same schema the JSON
API validates it with (``cartflow.clinic.api.schemas``), then handed to the operation's
service function: a page never saves a clinical object itself. Reading a form is
``forms/reading.py``, its values as the service's arguments ``forms/arguments.py``.
"""

from __future__ import annotations

from typing import Any

from cartflow.catalog_file import load_catalog
from cartflow.clinic.api.schemas import custody as custody_schemas
from cartflow.clinic.api.schemas import eligibility as eligibility_schemas
from cartflow.clinic.api.schemas import exceptions as exceptions_schemas
from cartflow.clinic.api.schemas import kinetics as kinetics_schemas
from cartflow.clinic.api.schemas import marrow as marrow_schemas
from cartflow.clinic.api.schemas import steps as steps_schemas
from cartflow.clinic.api.schemas import toxicity as toxicity_schemas
from cartflow.clinic.api.schemas.common import StepIn
from cartflow.clinic.forms.arguments import (
    antigen_arguments,
    apheresis_arguments,
    bag_arguments,
    book_manufacturing_slot_by_id,
    collection_arguments,
    crs_grade_arguments,
    eligibility_arguments,
    icans_grade_arguments,
    tuple_of,
)
from cartflow.clinic.forms.choices import apheresis_choices, courier_choices, manufacturing_choices
from cartflow.clinic.forms.fields import YES_NO, Field, Operation
from cartflow.clinic.forms.page_schemas import (
    ELIGIBILITY_FORM_FACTS,
    ApheresisPageIn,
    EligibilityFormIn,
    ManufacturingSlotIn,
)
from cartflow.clinic.forms.regimen import REGIMEN, regimen_field
from cartflow.clinic.models import TherapyCase
from cartflow.clinic.services import (
    collection,
    custody,
    eligibility,
    kinetics,
    manufacturing,
    marrow,
    referral,
    toxicity,
    treatment,
    weights,
)
from cartflow.domain.catalog import ANTIGENS, DISEASE_STATUSES, DISEASES
from cartflow.domain.grading import Consciousness, Edema, Hypotension, Motor, Oxygen, Seizure
from cartflow.domain.roles import Action


def _regimen_field(case: TherapyCase) -> dict[str, Field]:
    # The catalog is loaded here, at the edge, and handed to the field.
    return regimen_field(case, load_catalog())


def _choices_of(kind: Any) -> tuple[tuple[str, str], ...]:
    return tuple((c.value, c.value.replace("-", " ")) for c in kind)


SCAN_COI = Field(
    "scanned_coi", "Scan the chain-of-identity label", "scan", help="eye-readable or barcode"
)


REASON = Field("reason", "Reason", "text")


OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation(
            "RecordAntigenTest",
            "Record the antigen test",
            Action.RECORD_ANTIGEN_TEST,
            eligibility_schemas.AntigenTestIn,
            referral.record_antigen_test,
            (
                Field("antigen", "Antigen", "choice", choices=tuple((a, a) for a in ANTIGENS)),
                Field("positive", "Result positive?", "yesno", choices=YES_NO),
                Field("method", "Method", required=False, help="e.g. flow cytometry"),
            ),
            extra=antigen_arguments,
        ),
        Operation(
            "SignEligibility",
            "Sign that the patient is eligible",
            Action.SIGN_ELIGIBILITY,
            EligibilityFormIn,
            eligibility.sign_eligibility,
            (
                Field("diagnosis", "Diagnosis", "choice", choices=tuple((d, d) for d in DISEASES)),
                Field(
                    "disease_status",
                    "Disease status",
                    "choice",
                    choices=tuple((s, s.replace("_", " ")) for s in DISEASE_STATUSES),
                ),
                Field("prior_lines", "Prior lines of therapy", "number", required=False),
            ),
            button="Sign eligibility",
            drop=ELIGIBILITY_FORM_FACTS,
            extra=eligibility_arguments,
            help="The facts are judged for the case's indication with what the record holds "
            "(age, antigen tests, region); the eligibility page judges every fact.",
        ),
        Operation(
            "RecordInfectiousDiseaseScreening",
            "Record the infectious-disease screening",
            Action.RECORD_INFECTIOUS_DISEASE_SCREENING,
            steps_schemas.ScreeningIn,
            referral.record_infectious_disease_screening,
            (
                Field("cleared", "Cleared?", "yesno", choices=YES_NO),
                Field("tests", "Tests done", "list", required=False, help="e.g. HIV, HBV, HCV"),
            ),
            extra=tuple_of("tests"),
        ),
        Operation(
            "ScheduleApheresis",
            "Schedule the apheresis",
            Action.SCHEDULE_APHERESIS,
            ApheresisPageIn,
            collection.schedule_apheresis,
            (
                Field("slot_at", "Planned date and time", "datetime"),
                Field("slot_id", "Apheresis chair", "choice", required=False),
                Field(
                    "unit",
                    "Apheresis unit",
                    "choice",
                    required=False,
                    help="needed when no chair slot is booked",
                ),
            ),
            button="Book the apheresis",
            extra=apheresis_arguments,
            choices=apheresis_choices,
        ),
        Operation(
            "RecordCollection",
            "Record the collection",
            Action.RECORD_COLLECTION,
            steps_schemas.CollectionIn,
            collection.record_collection,
            (
                SCAN_COI,
                Field("collection_din", "Scan the collection's own DIN label", "scan"),
                Field("succeeded", "Collection succeeded?", "yesno", choices=YES_NO),
                Field("reason", "Why it failed", required=False),
            ),
            extra=collection_arguments,
        ),
        Operation(
            "BookManufacturingSlot",
            "Book the manufacturing slot",
            Action.BOOK_MANUFACTURING_SLOT,
            ManufacturingSlotIn,
            book_manufacturing_slot_by_id,
            (Field("slot_id", "Manufacturing slot", "choice"),),
            button="Book the slot",
            choices=manufacturing_choices,
        ),
        Operation(
            "StartManufacturing",
            "Accept the order and start manufacturing",
            Action.START_MANUFACTURING,
            steps_schemas.StartManufacturingIn,
            manufacturing.start_manufacturing,
            (
                SCAN_COI,
                Field("scanned_din", "Scan the collection's DIN", "scan"),
                Field("weight_kg", "Patient weight on the order (kg)", "number"),
                Field("order_ref", "Order reference"),
            ),
            button="Start manufacturing",
        ),
        Operation(
            "ReleaseProduct",
            "Release the product",
            Action.RELEASE_PRODUCT,
            steps_schemas.ReleaseIn,
            manufacturing.release_product,
            (
                Field("dose_cells", "Dose (CAR-positive viable T cells)", "number"),
                Field("bag_id", "Bag identifier", "scan"),
                Field("lot", "Lot"),
            ),
            button="Sign the release",
            extra=bag_arguments,
        ),
        Operation(
            "RecordOutOfSpecification",
            "Record an out-of-specification result",
            Action.RECORD_OUT_OF_SPECIFICATION,
            steps_schemas.OutOfSpecificationIn,
            manufacturing.record_out_of_specification,
            (
                Field("dose_cells", "Dose (CAR-positive viable T cells)", "number"),
                Field("bag_id", "Bag identifier", "scan"),
                Field("lot", "Lot"),
                REASON,
            ),
            button="Sign the out-of-specification result",
            kind="exception",
            extra=bag_arguments,
        ),
        Operation(
            "DecideOutOfSpecification",
            "Quality decision on the out-of-specification product",
            Action.DECIDE_OUT_OF_SPECIFICATION,
            exceptions_schemas.OutOfSpecificationDecisionIn,
            manufacturing.decide_out_of_specification,
            (
                Field(
                    "accept",
                    "Decision",
                    "yesno",
                    choices=(("yes", "Accept under a signed exception"), ("no", "Reject")),
                ),
                REASON,
            ),
            button="Sign the quality decision",
            kind="quality",
        ),
        Operation(
            "ShipProduct",
            "Hand the shipper to the courier",
            Action.SHIP_PRODUCT,
            custody_schemas.ShipmentIn,
            custody.ship_product,
            (
                SCAN_COI,
                Field("scanned_bag_ids", "Scan every bag", "list", help="one scan per bag"),
                Field("courier", "Courier", "choice"),
            ),
            button="Ship",
            extra=tuple_of("scanned_bag_ids"),
            choices=courier_choices,
        ),
        Operation(
            "RecordTemperature",
            "Record a temperature",
            Action.RECORD_TEMPERATURE,
            custody_schemas.TemperatureIn,
            custody.record_temperature,
            (
                Field("celsius", "Temperature (°C)", "number"),
                Field("location", "Where", help="dry shipper, LN2 tank 2, ..."),
            ),
        ),
        Operation(
            "DecideQuarantine",
            "Quality decision on the quarantined product",
            Action.DECIDE_QUARANTINE,
            exceptions_schemas.QuarantineDecisionIn,
            custody.decide_quarantine,
            (
                Field(
                    "release",
                    "Decision",
                    "yesno",
                    choices=(("yes", "Release from quarantine"), ("no", "Reject")),
                ),
                REASON,
            ),
            button="Sign the quality decision",
            kind="quality",
        ),
        Operation(
            "ReceiveProduct",
            "Receive the shipper",
            Action.RECEIVE_PRODUCT,
            custody_schemas.ReceiptIn,
            custody.receive_product,
            (
                SCAN_COI,
                Field("scanned_bag_ids", "Scan every bag", "list", help="one scan per bag"),
                Field("celsius", "Temperature on arrival (°C)", "number"),
                Field("storage_location", "Stored in", help="e.g. LN2 tank 2"),
            ),
            button="Receive",
            extra=tuple_of("scanned_bag_ids"),
        ),
        Operation(
            "ConfirmProductAvailability",
            "Confirm the product is available for infusion",
            Action.CONFIRM_PRODUCT_AVAILABILITY,
            StepIn,
            custody.confirm_product_availability,
            button="Confirm availability",
        ),
        Operation(
            "RecordMarrowBlasts",
            "Record the bone-marrow blast count (it chooses the split-dose regimen)",
            Action.RECORD_MARROW_BLASTS,
            marrow_schemas.MarrowBlastsIn,
            marrow.record_marrow_blasts,
            (
                Field("blast_percent", "Blasts (% of nucleated marrow cells)", "number"),
                Field(
                    "sampled_at",
                    "Sample taken at",
                    "datetime",
                    required=False,
                    help="within the label's days before lymphodepletion starts; now if empty",
                ),
            ),
            button="Record the count",
            kind="other",
            clinical_time=False,
            drop=("occurred_at",),
        ),
        Operation(
            "StartLymphodepletion",
            "Start lymphodepleting chemotherapy",
            Action.START_LYMPHODEPLETION,
            steps_schemas.RegimenIn,
            treatment.start_lymphodepletion,
            (REGIMEN,),
            case_fields=_regimen_field,
        ),
        Operation(
            "CompleteLymphodepletion",
            "Complete lymphodepleting chemotherapy",
            Action.COMPLETE_LYMPHODEPLETION,
            StepIn,
            treatment.complete_lymphodepletion,
            button="Record completion",
        ),
        Operation(
            "OmitLymphodepletion",
            "Omit lymphodepletion (low white-cell count)",
            Action.OMIT_LYMPHODEPLETION,
            exceptions_schemas.OmissionIn,
            treatment.omit_lymphodepletion,
            (
                Field("wbc_per_l", "White cells per litre", "number"),
                Field("wbc_measured_at", "Measured at", "datetime"),
                REASON,
            ),
            button="Sign the exception",
            kind="exception",
        ),
        Operation(
            "ThawBag",
            "Thaw a bag",
            Action.THAW_BAG,
            steps_schemas.ThawIn,
            treatment.thaw_bag,
            (SCAN_COI, Field("scanned_bag_id", "Scan the bag", "scan")),
            button="Record the thaw",
        ),
        Operation(
            "StartMonitoring",
            "Start monitoring after the infusion",
            Action.START_MONITORING,
            StepIn,
            treatment.start_monitoring,
            button="Start monitoring",
        ),
        Operation(
            "GradeCrs",
            "Grade cytokine release syndrome (ASTCT 2019)",
            Action.GRADE_TOXICITY,
            toxicity_schemas.CrsIn,
            toxicity.record_crs_grade,
            (
                Field("temperature_c", "Highest temperature (°C)", "number", step="0.1"),
                Field(
                    "hypotension",
                    "Hypotension",
                    "choice",
                    choices=tuple((h.value, h.value.replace("-", " ")) for h in Hypotension),
                ),
                Field(
                    "oxygen",
                    "Oxygen support",
                    "choice",
                    choices=tuple((o.value, o.value.replace("-", " ")) for o in Oxygen),
                ),
                Field(
                    "fever_masked",
                    "Fever masked by antipyretics, tocilizumab or steroids?",
                    "yesno",
                    choices=(("no", "No"), ("yes", "Yes")),
                ),
            ),
            button="Record the CRS grade",
            extra=crs_grade_arguments,
        ),
        Operation(
            "GradeIcans",
            "Grade immune effector cell-associated neurotoxicity (ICANS, ASTCT 2019)",
            Action.GRADE_TOXICITY,
            toxicity_schemas.IcansIn,
            toxicity.record_icans_grade,
            (
                Field(
                    "consciousness",
                    "Level of consciousness",
                    "choice",
                    choices=_choices_of(Consciousness),
                ),
                Field("ice", "ICE score (0-10), from age 12", "number", required=False, step="1"),
                Field(
                    "capd",
                    "CAPD score (0-32), under 12 or with developmental delay",
                    "number",
                    required=False,
                    step="1",
                ),
                Field("age_years", "Age (years)", "number", required=False),
                Field(
                    "developmental_delay",
                    "Developmental delay?",
                    "yesno",
                    required=False,
                    choices=(("no", "No"), ("yes", "Yes")),
                ),
                Field("seizure", "Seizure", "choice", choices=_choices_of(Seizure)),
                Field("motor", "Motor findings", "choice", choices=_choices_of(Motor)),
                Field(
                    "edema",
                    "Raised intracranial pressure / cerebral oedema",
                    "choice",
                    choices=_choices_of(Edema),
                ),
            ),
            button="Record the ICANS grade",
            extra=icans_grade_arguments,
        ),
        Operation(
            "RecordKineticsMeasurement",
            "Record a transgene level (qPCR, copies/µg genomic DNA)",
            Action.RECORD_KINETICS_MEASUREMENT,
            kinetics_schemas.KineticsMeasurementIn,
            kinetics.record_kinetics_measurement,
            (
                Field(
                    "day",
                    "Day after the first infusion",
                    "number",
                    required=False,
                    help="or give the time the sample was taken",
                ),
                Field("taken_at", "Sample taken at", "datetime", required=False),
                Field(
                    "copies_per_ug",
                    "Copies per µg",
                    "number",
                    required=False,
                    help="leave empty when below the limit of quantification",
                ),
                Field("lloq", "Assay LLOQ (copies/µg)", "number", required=False),
            ),
            button="Record the measurement",
            clinical_time=False,
            drop=("occurred_at",),
        ),
        Operation(
            "CompleteMonitoring",
            "Complete the monitoring period",
            Action.COMPLETE_MONITORING,
            StepIn,
            treatment.complete_monitoring,
            button="Complete monitoring",
        ),
        Operation(
            "RecordFollowUpVisit",
            "Record a follow-up visit",
            Action.RECORD_FOLLOW_UP_VISIT,
            steps_schemas.FollowUpVisitIn,
            treatment.record_follow_up_visit,
            (Field("note_ref", "Note reference", required=False),),
        ),
        Operation(
            "CompleteFollowUp",
            "Complete long-term follow-up",
            Action.COMPLETE_FOLLOW_UP,
            StepIn,
            treatment.complete_follow_up,
            button="Complete follow-up",
        ),
        Operation(
            "RecordWeight",
            "Record the patient's weight",
            Action.RECORD_WEIGHT,
            steps_schemas.WeightIn,
            weights.record_weight,
            (Field("weight_kg", "Weight (kg)", "number"),),
            kind="other",
        ),
        Operation(
            "RecordBridgingTherapy",
            "Record bridging therapy",
            Action.RECORD_BRIDGING_THERAPY,
            steps_schemas.BridgingIn,
            collection.record_bridging_therapy,
            (Field("regimen", "Regimen"),),
            kind="other",
        ),
        Operation(
            "ExpireProduct",
            "Record that the product expired",
            Action.EXPIRE_PRODUCT,
            steps_schemas.ReasonIn,
            treatment.expire_product,
            (REASON,),
            kind="exception",
        ),
        Operation(
            "DisposeProduct",
            "Dispose of the product",
            Action.DISPOSE_PRODUCT,
            steps_schemas.SignedReasonIn,
            treatment.dispose_product,
            (REASON,),
            button="Sign the disposal",
            kind="exception",
        ),
        Operation(
            "WithdrawCase",
            "Withdraw the case",
            Action.WITHDRAW_CASE,
            steps_schemas.SignedReasonIn,
            treatment.withdraw_case,
            (REASON,),
            button="Sign the withdrawal",
            kind="other",
        ),
        Operation(
            "RecordDeath",
            "Record the patient's death",
            Action.RECORD_DEATH,
            steps_schemas.SignedReasonIn,
            treatment.record_death,
            (REASON,),
            button="Sign the record of death",
            kind="other",
        ),
    )
}


MAIN_ORDER = tuple(OPERATIONS)
"""The order the pages offer them in: the journey's own order, the rare ones last."""


BEDSIDE = "InfuseBag"
"""Infusion is recorded on the bedside page, never by a plain form."""
