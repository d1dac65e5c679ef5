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

from django.utils.translation import gettext_lazy as _

from cartflow.catalog_file import load_catalog
from cartflow.clinic.api.schemas import custody as custody_schemas
from cartflow.clinic.api.schemas import eligibility as eligibility_schemas
from cartflow.clinic.api.schemas import exceptions as exceptions_schemas
from cartflow.clinic.api.schemas import kinetics as kinetics_schemas
from cartflow.clinic.api.schemas import marrow as marrow_schemas
from cartflow.clinic.api.schemas import records_out as records_out_schemas
from cartflow.clinic.api.schemas import steps as steps_schemas
from cartflow.clinic.api.schemas import toxicity as toxicity_schemas
from cartflow.clinic.api.schemas.common import StepIn
from cartflow.clinic.code_words import CODE_WORDS
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
from cartflow.clinic.forms.fields import CHOICE_WORDS, YES_NO, Field, Operation, choice_words
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
    observations,
    referral,
    toxicity,
    treatment,
    weights,
)
from cartflow.domain.catalog import ANTIGENS, DISEASE_STATUSES, DISEASES
from cartflow.domain.grading import Consciousness, Edema, Hypotension, Motor, Oxygen, Seizure
from cartflow.domain.journey.outcomes import Method, Response, Syndrome, Treatment
from cartflow.domain.roles import Action


def _regimen_field(case: TherapyCase) -> dict[str, Field]:
    # The catalog is loaded here, at the edge, and handed to the field.
    return regimen_field(case, load_catalog())


def _choices_of(kind: Any) -> tuple[tuple[str, str], ...]:
    return tuple((c.value, _choice_or_code(c.value)) for c in kind)


def _choice_or_code(value: str) -> Any:
    """A choice's words: the grading findings' own, else the code's (lazy either way)."""
    if value in CHOICE_WORDS:
        return CHOICE_WORDS[value]
    return CODE_WORDS.get(value, value.replace("_", " "))


# --- the table -------------------------------------------------------------------------------

SCAN_COI = Field(
    "scanned_coi", _("Scan the chain-of-identity label"), "scan", help=_("eye-readable or barcode")
)
REASON = Field("reason", _("Reason"), "text")
EXPIRY = Field(
    "expires_at",
    _("Lot expiry"),
    "datetime",
    required=False,
    help=_("as the certificate of analysis states it; printed on the product's labels"),
)

OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation(
            "RecordAntigenTest",
            _("Record the antigen test"),
            Action.RECORD_ANTIGEN_TEST,
            eligibility_schemas.AntigenTestIn,
            referral.record_antigen_test,
            (
                Field("antigen", _("Antigen"), "choice", choices=tuple((a, a) for a in ANTIGENS)),
                Field("positive", _("Result positive?"), "yesno", choices=YES_NO),
                Field("method", _("Method"), required=False, help=_("e.g. flow cytometry")),
            ),
            extra=antigen_arguments,
        ),
        Operation(
            "SignEligibility",
            _("Sign that the patient is eligible"),
            Action.SIGN_ELIGIBILITY,
            EligibilityFormIn,
            eligibility.sign_eligibility,
            (
                Field(
                    "diagnosis", _("Diagnosis"), "choice", choices=tuple((d, d) for d in DISEASES)
                ),
                Field(
                    "disease_status",
                    _("Disease status"),
                    "choice",
                    choices=tuple((s, choice_words(s)) for s in DISEASE_STATUSES),
                ),
                Field("prior_lines", _("Prior lines of therapy"), "number", required=False),
            ),
            button=_("Sign eligibility"),
            drop=ELIGIBILITY_FORM_FACTS,
            extra=eligibility_arguments,
            help=_(
                "The facts are judged for the case's indication with what the record holds "
                "(age, antigen tests, region); the eligibility page judges every fact."
            ),
        ),
        Operation(
            "RecordInfectiousDiseaseScreening",
            _("Record the infectious-disease screening"),
            Action.RECORD_INFECTIOUS_DISEASE_SCREENING,
            steps_schemas.ScreeningIn,
            referral.record_infectious_disease_screening,
            (
                Field("cleared", _("Cleared?"), "yesno", choices=YES_NO),
                Field(
                    "tests", _("Tests done"), "list", required=False, help=_("e.g. HIV, HBV, HCV")
                ),
            ),
            extra=tuple_of("tests"),
        ),
        Operation(
            "ScheduleApheresis",
            _("Schedule the apheresis"),
            Action.SCHEDULE_APHERESIS,
            ApheresisPageIn,
            collection.schedule_apheresis,
            (
                Field("slot_at", _("Planned date and time"), "datetime"),
                Field("slot_id", _("Apheresis chair"), "choice", required=False),
                Field(
                    "unit",
                    _("Apheresis unit"),
                    "choice",
                    required=False,
                    help=_("needed when no chair slot is booked"),
                ),
            ),
            button=_("Book the apheresis"),
            extra=apheresis_arguments,
            choices=apheresis_choices,
        ),
        Operation(
            "RecordCollection",
            _("Record the collection"),
            Action.RECORD_COLLECTION,
            steps_schemas.CollectionIn,
            collection.record_collection,
            (
                SCAN_COI,
                Field("collection_din", _("Scan the collection's own DIN label"), "scan"),
                Field("succeeded", _("Collection succeeded?"), "yesno", choices=YES_NO),
                Field("reason", _("Why it failed"), required=False),
            ),
            extra=collection_arguments,
        ),
        Operation(
            "BookManufacturingSlot",
            _("Book the manufacturing slot"),
            Action.BOOK_MANUFACTURING_SLOT,
            ManufacturingSlotIn,
            book_manufacturing_slot_by_id,
            (Field("slot_id", _("Manufacturing slot"), "choice"),),
            button=_("Book the slot"),
            choices=manufacturing_choices,
        ),
        Operation(
            "StartManufacturing",
            _("Accept the order and start manufacturing"),
            Action.START_MANUFACTURING,
            steps_schemas.StartManufacturingIn,
            manufacturing.start_manufacturing,
            (
                SCAN_COI,
                Field("scanned_din", _("Scan the collection's DIN"), "scan"),
                Field("weight_kg", _("Patient weight on the order (kg)"), "number"),
                Field("order_ref", _("Order reference")),
            ),
            button=_("Start manufacturing"),
        ),
        Operation(
            "ReleaseProduct",
            _("Release the product"),
            Action.RELEASE_PRODUCT,
            steps_schemas.ReleaseIn,
            manufacturing.release_product,
            (
                Field("dose_cells", _("Dose (CAR-positive viable T cells)"), "number"),
                Field("bag_id", _("Bag identifier"), "scan"),
                Field("lot", _("Lot")),
                EXPIRY,
            ),
            button=_("Sign the release"),
            extra=bag_arguments,
        ),
        Operation(
            "RecordOutOfSpecification",
            _("Record an out-of-specification result"),
            Action.RECORD_OUT_OF_SPECIFICATION,
            steps_schemas.OutOfSpecificationIn,
            manufacturing.record_out_of_specification,
            (
                Field("dose_cells", _("Dose (CAR-positive viable T cells)"), "number"),
                Field("bag_id", _("Bag identifier"), "scan"),
                Field("lot", _("Lot")),
                REASON,
            ),
            button=_("Sign the out-of-specification result"),
            kind="exception",
            extra=bag_arguments,
        ),
        Operation(
            "DecideOutOfSpecification",
            _("Quality decision on the out-of-specification product"),
            Action.DECIDE_OUT_OF_SPECIFICATION,
            exceptions_schemas.OutOfSpecificationDecisionIn,
            manufacturing.decide_out_of_specification,
            (
                Field(
                    "accept",
                    _("Decision"),
                    "yesno",
                    choices=(("yes", _("Accept under a signed exception")), ("no", _("Reject"))),
                ),
                REASON,
            ),
            button=_("Sign the quality decision"),
            kind="quality",
        ),
        Operation(
            "ShipProduct",
            _("Hand the shipper to the courier"),
            Action.SHIP_PRODUCT,
            custody_schemas.ShipmentIn,
            custody.ship_product,
            (
                SCAN_COI,
                Field("scanned_bag_ids", _("Scan every bag"), "list", help=_("one scan per bag")),
                Field("courier", _("Courier"), "choice"),
            ),
            button=_("Ship"),
            extra=tuple_of("scanned_bag_ids"),
            choices=courier_choices,
        ),
        Operation(
            "RecordTemperature",
            _("Record a temperature"),
            Action.RECORD_TEMPERATURE,
            custody_schemas.TemperatureIn,
            custody.record_temperature,
            (
                Field("celsius", _("Temperature (°C)"), "number"),
                Field("location", _("Where"), help=_("dry shipper, LN2 tank 2, ...")),
            ),
        ),
        Operation(
            "DecideQuarantine",
            _("Quality decision on the quarantined product"),
            Action.DECIDE_QUARANTINE,
            exceptions_schemas.QuarantineDecisionIn,
            custody.decide_quarantine,
            (
                Field(
                    "release",
                    _("Decision"),
                    "yesno",
                    choices=(("yes", _("Release from quarantine")), ("no", _("Reject"))),
                ),
                REASON,
            ),
            button=_("Sign the quality decision"),
            kind="quality",
        ),
        Operation(
            "ReceiveProduct",
            _("Receive the shipper"),
            Action.RECEIVE_PRODUCT,
            custody_schemas.ReceiptIn,
            custody.receive_product,
            (
                SCAN_COI,
                Field("scanned_bag_ids", _("Scan every bag"), "list", help=_("one scan per bag")),
                Field("celsius", _("Temperature on arrival (°C)"), "number"),
                Field("storage_location", _("Stored in"), help=_("e.g. LN2 tank 2")),
            ),
            button=_("Receive"),
            extra=tuple_of("scanned_bag_ids"),
        ),
        Operation(
            "ConfirmProductAvailability",
            _("Confirm the product is available for infusion"),
            Action.CONFIRM_PRODUCT_AVAILABILITY,
            StepIn,
            custody.confirm_product_availability,
            button=_("Confirm availability"),
        ),
        Operation(
            "RecordMarrowBlasts",
            _("Record the bone-marrow blast count (it chooses the split-dose regimen)"),
            Action.RECORD_MARROW_BLASTS,
            marrow_schemas.MarrowBlastsIn,
            marrow.record_marrow_blasts,
            (
                # xgettext:no-python-format
                Field("blast_percent", _("Blasts (% of nucleated marrow cells)"), "number"),
                Field(
                    "sampled_at",
                    _("Sample taken at"),
                    "datetime",
                    required=False,
                    help=_("within the label's days before lymphodepletion starts; now if empty"),
                ),
            ),
            button=_("Record the count"),
            kind="other",
            clinical_time=False,
            drop=("occurred_at",),
        ),
        Operation(
            "StartLymphodepletion",
            _("Start lymphodepleting chemotherapy"),
            Action.START_LYMPHODEPLETION,
            steps_schemas.RegimenIn,
            treatment.start_lymphodepletion,
            (REGIMEN,),
            case_fields=_regimen_field,
        ),
        Operation(
            "CompleteLymphodepletion",
            _("Complete lymphodepleting chemotherapy"),
            Action.COMPLETE_LYMPHODEPLETION,
            StepIn,
            treatment.complete_lymphodepletion,
            button=_("Record completion"),
        ),
        Operation(
            "OmitLymphodepletion",
            _("Omit lymphodepletion (low white-cell count)"),
            Action.OMIT_LYMPHODEPLETION,
            exceptions_schemas.OmissionIn,
            treatment.omit_lymphodepletion,
            (
                Field("wbc_per_l", _("White cells per litre"), "number"),
                Field("wbc_measured_at", _("Measured at"), "datetime"),
                REASON,
            ),
            button=_("Sign the exception"),
            kind="exception",
        ),
        Operation(
            "ThawBag",
            _("Thaw a bag"),
            Action.THAW_BAG,
            steps_schemas.ThawIn,
            treatment.thaw_bag,
            (SCAN_COI, Field("scanned_bag_id", _("Scan the bag"), "scan")),
            button=_("Record the thaw"),
        ),
        Operation(
            "StartMonitoring",
            _("Start monitoring after the infusion"),
            Action.START_MONITORING,
            StepIn,
            treatment.start_monitoring,
            button=_("Start monitoring"),
        ),
        Operation(
            "GradeCrs",
            _("Grade cytokine release syndrome (ASTCT 2019)"),
            Action.GRADE_TOXICITY,
            toxicity_schemas.CrsIn,
            toxicity.record_crs_grade,
            (
                Field("temperature_c", _("Highest temperature (°C)"), "number", step="0.1"),
                Field(
                    "hypotension",
                    _("Hypotension"),
                    "choice",
                    choices=_choices_of(Hypotension),
                ),
                Field(
                    "oxygen",
                    _("Oxygen support"),
                    "choice",
                    choices=_choices_of(Oxygen),
                ),
                Field(
                    "fever_masked",
                    _("Fever masked by antipyretics, tocilizumab or steroids?"),
                    "yesno",
                    choices=(("no", _("No")), ("yes", _("Yes"))),
                ),
            ),
            button=_("Record the CRS grade"),
            extra=crs_grade_arguments,
        ),
        Operation(
            "GradeIcans",
            _("Grade immune effector cell-associated neurotoxicity (ICANS, ASTCT 2019)"),
            Action.GRADE_TOXICITY,
            toxicity_schemas.IcansIn,
            toxicity.record_icans_grade,
            (
                Field(
                    "consciousness",
                    _("Level of consciousness"),
                    "choice",
                    choices=_choices_of(Consciousness),
                ),
                Field(
                    "ice", _("ICE score (0-10), from age 12"), "number", required=False, step="1"
                ),
                Field(
                    "capd",
                    _("CAPD score (0-32), under 12 or with developmental delay"),
                    "number",
                    required=False,
                    step="1",
                ),
                Field("age_years", _("Age (years)"), "number", required=False),
                Field(
                    "developmental_delay",
                    _("Developmental delay?"),
                    "yesno",
                    required=False,
                    choices=(("no", _("No")), ("yes", _("Yes"))),
                ),
                Field("seizure", _("Seizure"), "choice", choices=_choices_of(Seizure)),
                Field("motor", _("Motor findings"), "choice", choices=_choices_of(Motor)),
                Field(
                    "edema",
                    _("Raised intracranial pressure / cerebral oedema"),
                    "choice",
                    choices=_choices_of(Edema),
                ),
            ),
            button=_("Record the ICANS grade"),
            extra=icans_grade_arguments,
        ),
        Operation(
            "RecordKineticsMeasurement",
            _("Record a transgene level (qPCR, copies/µg genomic DNA)"),
            Action.RECORD_KINETICS_MEASUREMENT,
            kinetics_schemas.KineticsMeasurementIn,
            kinetics.record_kinetics_measurement,
            (
                Field(
                    "day",
                    _("Day after the first infusion"),
                    "number",
                    required=False,
                    help=_("or give the time the sample was taken"),
                ),
                Field("taken_at", _("Sample taken at"), "datetime", required=False),
                Field(
                    "copies_per_ug",
                    _("Copies per µg"),
                    "number",
                    required=False,
                    help=_("leave empty when below the limit of quantification"),
                ),
                Field("lloq", _("Assay LLOQ (copies/µg)"), "number", required=False),
            ),
            button=_("Record the measurement"),
            clinical_time=False,
            drop=("occurred_at",),
        ),
        Operation(
            "RecordResponseAssessment",
            _("Record the response to the therapy"),
            Action.RECORD_RESPONSE_ASSESSMENT,
            records_out_schemas.ResponseIn,
            observations.record_response_assessment,
            (
                Field("response", _("Response"), "choice", choices=_choices_of(Response)),
                Field("method", _("Assessed by"), "choice", choices=_choices_of(Method)),
                Field("assessed_on", _("Assessed on"), "date"),
            ),
            button=_("Record the response"),
            help=_(
                "The registry export reads the assessment nearest day 28 (days 21 to 35) as the "
                "day-28 response, and lists the later ones."
            ),
        ),
        Operation(
            "ResolveToxicity",
            _("Record that a CRS or ICANS episode resolved"),
            Action.RESOLVE_TOXICITY,
            records_out_schemas.ResolutionIn,
            observations.resolve_toxicity,
            (
                Field("syndrome", _("Syndrome"), "choice", choices=_choices_of(Syndrome)),
                Field(
                    "treatments",
                    _("Given for it"),
                    "multi",
                    required=False,
                    choices=_choices_of(Treatment),
                ),
            ),
            button=_("Record the resolution"),
            help=_(
                "Closes the episode opened by the last grade of 1 or more; its onset and "
                "highest grade are taken from the recorded grades."
            ),
        ),
        Operation(
            "CompleteMonitoring",
            _("Complete the monitoring period"),
            Action.COMPLETE_MONITORING,
            StepIn,
            treatment.complete_monitoring,
            button=_("Complete monitoring"),
        ),
        Operation(
            "RecordFollowUpVisit",
            _("Record a follow-up visit"),
            Action.RECORD_FOLLOW_UP_VISIT,
            steps_schemas.FollowUpVisitIn,
            treatment.record_follow_up_visit,
            (Field("note_ref", _("Note reference"), required=False),),
        ),
        Operation(
            "CompleteFollowUp",
            _("Complete long-term follow-up"),
            Action.COMPLETE_FOLLOW_UP,
            StepIn,
            treatment.complete_follow_up,
            button=_("Complete follow-up"),
        ),
        Operation(
            "RecordWeight",
            _("Record the patient's weight"),
            Action.RECORD_WEIGHT,
            steps_schemas.WeightIn,
            weights.record_weight,
            (Field("weight_kg", _("Weight (kg)"), "number"),),
            kind="other",
        ),
        Operation(
            "RecordBridgingTherapy",
            _("Record bridging therapy"),
            Action.RECORD_BRIDGING_THERAPY,
            steps_schemas.BridgingIn,
            collection.record_bridging_therapy,
            (Field("regimen", _("Regimen")),),
            kind="other",
        ),
        Operation(
            "ExpireProduct",
            _("Record that the product expired"),
            Action.EXPIRE_PRODUCT,
            steps_schemas.ReasonIn,
            treatment.expire_product,
            (REASON,),
            kind="exception",
        ),
        Operation(
            "DisposeProduct",
            _("Dispose of the product"),
            Action.DISPOSE_PRODUCT,
            steps_schemas.SignedReasonIn,
            treatment.dispose_product,
            (REASON,),
            button=_("Sign the disposal"),
            kind="exception",
        ),
        Operation(
            "WithdrawCase",
            _("Withdraw the case"),
            Action.WITHDRAW_CASE,
            steps_schemas.SignedReasonIn,
            treatment.withdraw_case,
            (REASON,),
            button=_("Sign the withdrawal"),
            kind="other",
        ),
        Operation(
            "RecordDeath",
            _("Record the patient's death"),
            Action.RECORD_DEATH,
            steps_schemas.SignedReasonIn,
            treatment.record_death,
            (REASON,),
            button=_("Sign the record of death"),
            kind="other",
        ),
    )
}

MAIN_ORDER = tuple(OPERATIONS)
"""The order the pages offer them in: the journey's own order, the rare ones last."""


BEDSIDE = "InfuseBag"
"""Infusion is recorded on the bedside page, never by a plain form."""
