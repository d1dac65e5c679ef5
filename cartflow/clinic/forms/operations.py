"""The operations a page offers, each with its fields, its permission and its service.

One :class:`Operation` per journey command (by the command's class name, as
``CaseState.next_actions`` names it) and a few the pages add (booking the manufacturing slot,
grading CRS). The form's input is validated by the same schema the JSON API validates it with
(``cartflow.clinic.api``), then handed to the operation's service function: a page never saves
a clinical object itself.
"""

from __future__ import annotations

import re
import uuid
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.http import QueryDict
from django.utils import timezone
from pydantic import BaseModel, ValidationError
from pydantic import Field as PydanticField

from cartflow.catalog_file import load_catalog
from cartflow.clinic.api import custody as custody_api
from cartflow.clinic.api import eligibility as eligibility_api
from cartflow.clinic.api import exceptions as exceptions_api
from cartflow.clinic.api import kinetics as kinetics_api
from cartflow.clinic.api import steps as steps_api
from cartflow.clinic.api import toxicity as toxicity_api
from cartflow.clinic.api.common import SignedStepIn, StepIn
from cartflow.clinic.case_state import case_state
from cartflow.clinic.models import Site, Slot, SlotKind, TherapyCase
from cartflow.clinic.services import (
    collection,
    custody,
    eligibility,
    kinetics,
    manufacturing,
    referral,
    toxicity,
    treatment,
)
from cartflow.clinic.services.operations import DEFAULT_MEANINGS
from cartflow.clinic.services.signatures import Meaning
from cartflow.clinic.services.slots import SHARED_SITE_KINDS
from cartflow.clinic.templatetags.cartflow_time import case_zone
from cartflow.domain import journey
from cartflow.domain.catalog import (
    ANTIGENS,
    DISEASE_STATUSES,
    DISEASES,
    FactName,
    FactStatus,
)
from cartflow.domain.errors import DomainError, NotInCatalog
from cartflow.domain.grading import Consciousness, Edema, Hypotension, Motor, Oxygen, Seizure
from cartflow.domain.journey.time_windows import local_date, site_zone
from cartflow.domain.roles import Action, SiteKind

YES_NO = (("yes", "Yes"), ("no", "No"))


@dataclass(frozen=True)
class Field:
    """One input of a form. ``kind``: text, scan, number, choice, yesno, datetime, list."""

    name: str
    label: str
    kind: str = "text"
    required: bool = True
    help: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    step: str = "any"


@dataclass(frozen=True)
class Operation:
    """What a page needs to offer one operation and record it through its service."""

    name: str
    title: str
    action: Action
    schema: type[BaseModel]
    service: Callable[..., Any]
    fields: tuple[Field, ...] = ()
    button: str = "Record"
    kind: str = "step"  # step | exception | quality | other
    extra: Callable[[BaseModel, TherapyCase], dict[str, Any]] | None = None
    choices: Callable[[TherapyCase], dict[str, tuple[tuple[str, str], ...]]] | None = None
    case_fields: Callable[[TherapyCase], Mapping[str, Field]] | None = None
    help: str = ""
    clinical_time: bool = True
    drop: tuple[str, ...] = field(default=())

    @property
    def signed(self) -> bool:
        return issubclass(self.schema, SignedStepIn)

    @property
    def meaning(self) -> str:
        return DEFAULT_MEANINGS.get(self.name, Meaning.RESPONSIBILITY)

    def fields_for(self, case: TherapyCase) -> tuple[Field, ...]:
        """The fields, with choices that depend on the case (slots, couriers) filled in, and
        any field the case reshapes (the lymphodepleting regimen) replaced."""
        dynamic = self.choices(case) if self.choices is not None else {}
        reshaped = self.case_fields(case) if self.case_fields is not None else {}
        return tuple(
            reshaped[f.name]
            if f.name in reshaped
            else replace(f, choices=dynamic[f.name])
            if f.name in dynamic
            else f
            for f in self.fields
        )


# --- choices that depend on the case ---------------------------------------------------------


def _slot_label(slot: Slot) -> str:
    free = slot.capacity - slot.booked
    return f"{slot.site.name}: {slot.day.isoformat()} ({free} of {slot.capacity} free)"


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


def _apheresis_choices(case: TherapyCase) -> dict[str, tuple[tuple[str, str], ...]]:
    none = ("", "No chair slot: capacity not managed (choose the unit below)")
    units = Site.objects.filter(kind=SiteKind.APHERESIS_UNIT).order_by("name")
    return {
        "slot_id": (none, *_open_slots(SlotKind.APHERESIS_CHAIR, case)),
        "unit": (("", "Choose…"), *((u.slug, u.name) for u in units)),
    }


def _manufacturing_choices(case: TherapyCase) -> dict[str, tuple[tuple[str, str], ...]]:
    return {"slot_id": _open_slots(SlotKind.MANUFACTURING, case)}


def _courier_choices(case: TherapyCase) -> dict[str, tuple[tuple[str, str], ...]]:
    rows = Site.objects.filter(kind=SiteKind.COURIER).order_by("name")
    return {"courier": tuple((s.slug, s.name) for s in rows)}


def _days(count: Any) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def regimen_summary(regimen: Mapping[str, Any]) -> str:
    """A regimen in words, e.g. ``flu-cy: fludarabine 25 mg/m2 x 3 days + cyclophosphamide
    250 mg/m2 x 3 days``; an alternative regimen ends with its "use when" note."""
    drugs = []
    for drug in regimen.get("drugs", ()):
        text = f"{drug['drug']} {drug['mg_per_m2']:g} mg/m2 x {_days(drug['days'])}"
        if drug.get("on_days"):
            text += " (days " + ", ".join(str(day) for day in drug["on_days"]) + ")"
        drugs.append(text)
    words = f"{regimen['id']}: {' + '.join(drugs) or 'drugs not given'}"
    if regimen.get("use_when"):
        words += f"; alternative, use when {regimen['use_when']}"
    return words


REGIMEN = Field("regimen", "Regimen", help="the label regimen id, e.g. flu-cy or cy-flu")


def _regimen_field(case: TherapyCase) -> dict[str, Field]:
    """The regimen as a choice of the regimens the journey accepts for this case, resolved as
    its lymphodepletion guard resolves them: the case's indication and region, today in the
    site's zone, the case's signed site-protocol values filling a fact the label lacks. When
    the fact is unknown, the free-text field with the catalog's "not in the catalog" message
    (the form still posts, so the journey's refusal is shown beside it)."""
    try:
        state = case_state(case)
        indication = load_catalog().indication(state.indication_id)
        now = timezone.now()
        on = local_date(now, site_zone(state.site_timezone)) if state.site_timezone else now.date()
        fact = indication.resolve(
            FactName.LYMPHODEPLETION, on, state.region or None, state.site_values
        )
    except NotInCatalog as exc:
        return {REGIMEN.name: replace(REGIMEN, help=str(exc))}
    except (DomainError, LookupError, TypeError, ValueError):
        return {}  # no indication to judge by: the plain field, the journey still refuses
    regimens = [r for r in fact.value or () if isinstance(r, Mapping) and "id" in r]
    if not regimens:
        return {}
    whose = "the label's" if fact.status is FactStatus.LABEL else "the site protocol's"
    return {
        REGIMEN.name: replace(
            REGIMEN,
            kind="choice",
            help=f"{whose} regimens for {indication.id} ({fact.source})",
            choices=tuple((str(r["id"]), regimen_summary(r)) for r in regimens),
        )
    }


# --- how a schema's values become the service's arguments --------------------------------


def _split(text: Any) -> list[str]:
    return [part for part in re.split(r"[\s,;]+", str(text or "")) if part]


def _bags(payload: Any, case: TherapyCase) -> dict[str, Any]:
    return {
        "bags": tuple(
            journey.BagSpec(bag_id=b.bag_id, lot=b.lot, part=b.part) for b in payload.bags
        )
    }


def _tuple_of(name: str) -> Callable[[Any, TherapyCase], dict[str, Any]]:
    def convert(payload: Any, case: TherapyCase) -> dict[str, Any]:
        return {name: tuple(getattr(payload, name))}

    return convert


class ApheresisPageIn(steps_api.ApheresisIn):
    unit: str | None = None


def _apheresis(payload: Any, case: TherapyCase) -> dict[str, Any]:
    slot = None
    if payload.slot_id is not None:
        slot = Slot.objects.select_related("site").filter(public_id=payload.slot_id).first()
    unit = None
    if slot is None:
        # Without a chair slot the unit must still be named: it is how the unit's nurses
        # come to see the case they collect from.
        unit = Site.objects.filter(kind=SiteKind.APHERESIS_UNIT, slug=payload.unit or "").first()
        if unit is None:
            raise FormErrors({"unit": "choose the apheresis unit that collects, or a chair slot"})
    return {"slot": slot, "slot_id": None, "unit": unit}


def _antigen(payload: Any, case: TherapyCase) -> dict[str, Any]:
    return {"method": payload.method or ""}


def _collection(payload: Any, case: TherapyCase) -> dict[str, Any]:
    return {"reason": payload.reason or ""}


# --- operations the pages add ----------------------------------------------------------------


class EligibilityFormIn(SignedStepIn):
    """The facts the case page asks for; the rest come from the record."""

    diagnosis: str = PydanticField(min_length=1, max_length=16)
    disease_status: str = PydanticField(min_length=1, max_length=64)
    prior_lines: int | None = PydanticField(None, ge=0, le=30)


ELIGIBILITY_FORM_FACTS = ("diagnosis", "disease_status", "prior_lines")


def _eligibility_facts(payload: Any, case: TherapyCase) -> dict[str, Any]:
    given = payload.model_dump()
    return {"facts": {k: given[k] for k in ELIGIBILITY_FORM_FACTS if given[k] is not None}}


class ManufacturingSlotIn(StepIn):
    slot_id: uuid.UUID


def _book_manufacturing_slot(
    case: TherapyCase, *, slot_id: Any, occurred_at: Any = None, **kwargs: Any
) -> Any:
    from cartflow.clinic.services.errors import NotFound

    slot = Slot.objects.select_related("site").filter(public_id=slot_id).first()
    if slot is None:
        raise NotFound("no such manufacturing slot: choose one of the list")
    return manufacturing.book_manufacturing_slot(case, slot, occurred_at=occurred_at, **kwargs)


def _crs(payload: Any, case: TherapyCase) -> dict[str, Any]:
    return toxicity_api.crs_arguments(payload)


def _icans(payload: Any, case: TherapyCase) -> dict[str, Any]:
    return toxicity_api.icans_arguments(payload)


def _choices_of(kind: Any) -> tuple[tuple[str, str], ...]:
    return tuple((c.value, c.value.replace("-", " ")) for c in kind)


# --- the table -------------------------------------------------------------------------------

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
            eligibility_api.AntigenTestIn,
            referral.record_antigen_test,
            (
                Field("antigen", "Antigen", "choice", choices=tuple((a, a) for a in ANTIGENS)),
                Field("positive", "Result positive?", "yesno", choices=YES_NO),
                Field("method", "Method", required=False, help="e.g. flow cytometry"),
            ),
            extra=_antigen,
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
            extra=_eligibility_facts,
            help="The facts are judged for the case's indication with what the record holds "
            "(age, antigen tests, region); the eligibility page judges every fact.",
        ),
        Operation(
            "RecordInfectiousDiseaseScreening",
            "Record the infectious-disease screening",
            Action.RECORD_INFECTIOUS_DISEASE_SCREENING,
            steps_api.ScreeningIn,
            referral.record_infectious_disease_screening,
            (
                Field("cleared", "Cleared?", "yesno", choices=YES_NO),
                Field("tests", "Tests done", "list", required=False, help="e.g. HIV, HBV, HCV"),
            ),
            extra=_tuple_of("tests"),
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
            extra=_apheresis,
            choices=_apheresis_choices,
        ),
        Operation(
            "RecordCollection",
            "Record the collection",
            Action.RECORD_COLLECTION,
            steps_api.CollectionIn,
            collection.record_collection,
            (
                SCAN_COI,
                Field("collection_din", "Scan the collection's own DIN label", "scan"),
                Field("succeeded", "Collection succeeded?", "yesno", choices=YES_NO),
                Field("reason", "Why it failed", required=False),
            ),
            extra=_collection,
        ),
        Operation(
            "BookManufacturingSlot",
            "Book the manufacturing slot",
            Action.BOOK_MANUFACTURING_SLOT,
            ManufacturingSlotIn,
            _book_manufacturing_slot,
            (Field("slot_id", "Manufacturing slot", "choice"),),
            button="Book the slot",
            choices=_manufacturing_choices,
        ),
        Operation(
            "StartManufacturing",
            "Accept the order and start manufacturing",
            Action.START_MANUFACTURING,
            steps_api.StartManufacturingIn,
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
            steps_api.ReleaseIn,
            manufacturing.release_product,
            (
                Field("dose_cells", "Dose (CAR-positive viable T cells)", "number"),
                Field("bag_id", "Bag identifier", "scan"),
                Field("lot", "Lot"),
            ),
            button="Sign the release",
            extra=_bags,
        ),
        Operation(
            "RecordOutOfSpecification",
            "Record an out-of-specification result",
            Action.RECORD_OUT_OF_SPECIFICATION,
            steps_api.OutOfSpecificationIn,
            manufacturing.record_out_of_specification,
            (
                Field("dose_cells", "Dose (CAR-positive viable T cells)", "number"),
                Field("bag_id", "Bag identifier", "scan"),
                Field("lot", "Lot"),
                REASON,
            ),
            button="Sign the out-of-specification result",
            kind="exception",
            extra=_bags,
        ),
        Operation(
            "DecideOutOfSpecification",
            "Quality decision on the out-of-specification product",
            Action.DECIDE_OUT_OF_SPECIFICATION,
            exceptions_api.OutOfSpecificationDecisionIn,
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
            custody_api.ShipmentIn,
            custody.ship_product,
            (
                SCAN_COI,
                Field("scanned_bag_ids", "Scan every bag", "list", help="one scan per bag"),
                Field("courier", "Courier", "choice"),
            ),
            button="Ship",
            extra=_tuple_of("scanned_bag_ids"),
            choices=_courier_choices,
        ),
        Operation(
            "RecordTemperature",
            "Record a temperature",
            Action.RECORD_TEMPERATURE,
            custody_api.TemperatureIn,
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
            exceptions_api.QuarantineDecisionIn,
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
            custody_api.ReceiptIn,
            custody.receive_product,
            (
                SCAN_COI,
                Field("scanned_bag_ids", "Scan every bag", "list", help="one scan per bag"),
                Field("celsius", "Temperature on arrival (°C)", "number"),
                Field("storage_location", "Stored in", help="e.g. LN2 tank 2"),
            ),
            button="Receive",
            extra=_tuple_of("scanned_bag_ids"),
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
            "StartLymphodepletion",
            "Start lymphodepleting chemotherapy",
            Action.START_LYMPHODEPLETION,
            steps_api.RegimenIn,
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
            exceptions_api.OmissionIn,
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
            steps_api.ThawIn,
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
            toxicity_api.CrsIn,
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
            extra=_crs,
        ),
        Operation(
            "GradeIcans",
            "Grade immune effector cell-associated neurotoxicity (ICANS, ASTCT 2019)",
            Action.GRADE_TOXICITY,
            toxicity_api.IcansIn,
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
            extra=_icans,
        ),
        Operation(
            "RecordKineticsMeasurement",
            "Record a transgene level (qPCR, copies/µg genomic DNA)",
            Action.RECORD_KINETICS_MEASUREMENT,
            kinetics_api.KineticsMeasurementIn,
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
            steps_api.FollowUpVisitIn,
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
            steps_api.WeightIn,
            steps_api._record_weight,
            (Field("weight_kg", "Weight (kg)", "number"),),
            kind="other",
        ),
        Operation(
            "RecordBridgingTherapy",
            "Record bridging therapy",
            Action.RECORD_BRIDGING_THERAPY,
            steps_api.BridgingIn,
            collection.record_bridging_therapy,
            (Field("regimen", "Regimen"),),
            kind="other",
        ),
        Operation(
            "ExpireProduct",
            "Record that the product expired",
            Action.EXPIRE_PRODUCT,
            steps_api.ReasonIn,
            treatment.expire_product,
            (REASON,),
            kind="exception",
        ),
        Operation(
            "DisposeProduct",
            "Dispose of the product",
            Action.DISPOSE_PRODUCT,
            steps_api.SignedReasonIn,
            treatment.dispose_product,
            (REASON,),
            button="Sign the disposal",
            kind="exception",
        ),
        Operation(
            "WithdrawCase",
            "Withdraw the case",
            Action.WITHDRAW_CASE,
            steps_api.ReasonIn,
            treatment.withdraw_case,
            (REASON,),
            button="Withdraw",
            kind="other",
        ),
        Operation(
            "RecordDeath",
            "Record the patient's death",
            Action.RECORD_DEATH,
            steps_api.ReasonIn,
            treatment.record_death,
            (REASON,),
            kind="other",
        ),
    )
}

MAIN_ORDER = tuple(OPERATIONS)
"""The order the pages offer them in: the journey's own order, the rare ones last."""

BEDSIDE = "InfuseBag"
"""Infusion is recorded on the bedside page, never by a plain form."""


# --- reading a submitted form --------------------------------------------------------------


class FormErrors(Exception):
    """The form's input did not validate: a message per field (``""`` for the whole form)."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k or 'form'}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


def local_datetime(text: str, zone: str) -> str:
    """A ``datetime-local`` value (no zone) read in the site's time zone, as ISO 8601."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=zoneinfo.ZoneInfo(zone or "UTC"))
    return value.isoformat()


def _value(f: Field, raw: str, zone: str) -> Any:
    if f.kind == "yesno":
        lowered = raw.lower()
        if lowered in {"yes", "true", "on", "1"}:
            return True
        if lowered in {"no", "false", "off", "0"}:
            return False
        return raw
    if f.kind == "list":
        return _split(raw)
    if f.kind == "datetime":
        try:
            return local_datetime(raw, zone)
        except ValueError:
            raise FormErrors({f.name: "a date and time, e.g. 2026-03-01T14:30"}) from None
    return raw


def parse(op: Operation, data: QueryDict | Mapping[str, Any], case: TherapyCase) -> BaseModel:
    """Validate the posted form with the operation's schema; :class:`FormErrors` if wrong."""
    zone = case_zone(case)
    values: dict[str, Any] = {}
    fields = list(op.fields)
    if op.clinical_time:
        fields.append(Field("occurred_at", "Clinical time", "datetime", required=False))
    for f in fields:
        raw = str(data.get(f.name, "") or "").strip()
        if raw == "":
            if f.required and f.kind != "list":
                values[f.name] = None  # let the schema name the missing field
            continue
        values[f.name] = _value(f, raw, zone)
    if op.schema in (steps_api.ReleaseIn, steps_api.OutOfSpecificationIn):
        values["bags"] = [{"bag_id": values.pop("bag_id", None), "lot": values.pop("lot", None)}]
    version = str(data.get("expected_version", "") or "").strip()
    if version:
        values["expected_version"] = version
    if op.signed:
        values["password"] = str(data.get("password", "") or "")
        if not values["password"]:
            raise FormErrors({"password": "enter your password again to sign"})
    values = {k: v for k, v in values.items() if v is not None or k in _required(op)}
    try:
        return op.schema.model_validate(values)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            loc = [str(part) for part in error.get("loc", ())]
            name = loc[0] if loc else ""
            if name == "bags" and loc:
                name = loc[-1] if loc[-1] in {"bag_id", "lot"} else "bag_id"
            errors.setdefault(name, _message(error))
        raise FormErrors(errors) from None


def _required(op: Operation) -> set[str]:
    return {f.name for f in op.fields if f.required}


PLAIN: dict[str, str] = {
    "float_parsing": "a number, e.g. 72.5",
    "float_type": "a number, e.g. 72.5",
    "int_parsing": "a whole number, e.g. 3",
    "int_type": "a whole number, e.g. 3",
    "int_from_float": "a whole number, e.g. 3",
    "bool_parsing": "yes or no",
    "uuid_parsing": "choose one from the list",
    "uuid_type": "choose one from the list",
    "datetime_parsing": "a date and time, e.g. 2026-03-01 14:30",
    "datetime_from_date_parsing": "a date and time, e.g. 2026-03-01 14:30",
    "date_parsing": "a date, e.g. 2026-03-01",
    "date_from_datetime_parsing": "a date, e.g. 2026-03-01",
    "string_pattern_mismatch": "not in the expected form",
    "string_too_short": "too short",
}


def plain_message(error: Mapping[str, Any]) -> str:
    """A validation error in plain words, not the validation library's own ("Input should
    be ...")."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "missing" or error.get("input") in (None, ""):
        return "this field is required"
    if kind in PLAIN:
        return PLAIN[kind]
    if kind in ("greater_than", "greater_than_equal"):
        return f"at least {ctx.get('gt', ctx.get('ge'))}"
    if kind in ("less_than", "less_than_equal"):
        return f"at most {ctx.get('lt', ctx.get('le'))}"
    if kind == "string_too_long":
        return f"at most {ctx.get('max_length')} characters"
    if kind in ("literal_error", "enum"):
        return f"choose one of: {ctx.get('expected', 'the choices offered')}".replace("'", "")
    return str(error.get("msg", "is not valid")).removeprefix("Value error, ")


_message = plain_message


def service_arguments(op: Operation, payload: BaseModel, case: TherapyCase) -> dict[str, Any]:
    """The keyword arguments of the operation's service function."""
    values = payload.model_dump()
    for name in op.drop:
        values.pop(name, None)
    if op.extra is not None:
        values.update(op.extra(payload, case))
    for key in ("meaning", "role"):
        if values.get(key) is None:
            values.pop(key, None)
    if "slot_id" in values and values["slot_id"] is None:
        values.pop("slot_id")
    return values
