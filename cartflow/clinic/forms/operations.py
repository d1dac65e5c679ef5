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

from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from pydantic import BaseModel, ValidationError
from pydantic import Field as PydanticField

from cartflow.catalog_file import load_catalog
from cartflow.clinic.api import custody as custody_api
from cartflow.clinic.api import eligibility as eligibility_api
from cartflow.clinic.api import exceptions as exceptions_api
from cartflow.clinic.api import kinetics as kinetics_api
from cartflow.clinic.api import records_out as records_out_api
from cartflow.clinic.api import steps as steps_api
from cartflow.clinic.api import toxicity as toxicity_api
from cartflow.clinic.api.common import SignedStepIn, StepIn
from cartflow.clinic.case_state import case_state
from cartflow.clinic.code_words import CODE_WORDS, catalog_text, code_words, source_words
from cartflow.clinic.models import Site, Slot, SlotKind, TherapyCase
from cartflow.clinic.services import (
    collection,
    custody,
    eligibility,
    kinetics,
    manufacturing,
    observations,
    referral,
    toxicity,
    treatment,
)
from cartflow.clinic.services.operations import DEFAULT_MEANINGS
from cartflow.clinic.services.signatures import Meaning
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
from cartflow.domain.journey.outcomes import Method, Response, Syndrome, Treatment
from cartflow.domain.journey.time_windows import local_date, site_zone
from cartflow.domain.roles import Action, SiteKind

YES_NO = (("yes", _("Yes")), ("no", _("No")))

CHOICE_WORDS: dict[str, Any] = {
    # the grading instruments' findings (ASTCT 2019), as the forms offer them
    "none": _("none"),
    "no-vasopressors": _("hypotension without vasopressors"),
    "one-vasopressor": _("one vasopressor (with or without vasopressin)"),
    "multiple-vasopressors": _("several vasopressors (excluding vasopressin)"),
    "low-flow": _("low-flow nasal cannula (6 L/min or less)"),
    "high-flow": _("high-flow cannula, face mask or venturi mask"),
    "positive-pressure": _("positive pressure (CPAP, BiPAP, ventilation)"),
    "alert": _("alert"),
    "spontaneous": _("awakens spontaneously"),
    "voice": _("awakens to voice"),
    "touch": _("awakens only to touch"),
    "unarousable": _("unarousable, or needs vigorous stimuli"),
    "focal": _("focal or local oedema on imaging"),
    "diffuse": _("diffuse cerebral oedema, decerebrate or decorticate posturing"),
    "deep-focal-weakness": _("deep focal motor weakness"),
    "rapidly-resolving": _("resolves rapidly, or non-convulsive on EEG resolving with treatment"),
    "prolonged": _("life-threatening prolonged seizure, or repeated without return to baseline"),
    # disease status
    "newly_diagnosed": _("newly diagnosed"),
    "refractory": _("refractory"),
    "first_relapse": _("first relapse"),
    "second_or_later_relapse": _("second or later relapse"),
}
"""A code value offered in a choice, in words."""


def choice_words(value: str) -> Any:
    words = CHOICE_WORDS.get(value)
    # Lazy: the table is built at import, the words are read in the reader's language.
    return words if words is not None else value.replace("-", " ").replace("_", " ")


@dataclass(frozen=True)
class Field:
    """One input of a form. ``kind``: text, scan, number, choice, yesno, datetime, date, list,
    multi (several of the choices, as checkboxes)."""

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
    button: str = _("Record")
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
    return _("%(site)s: %(day)s (%(free)s of %(capacity)s free)") % {
        "site": slot.site.name,
        "day": slot.day.isoformat(),
        "free": free,
        "capacity": slot.capacity,
    }


def _open_slots(kind: str) -> tuple[tuple[str, str], ...]:
    today = timezone.localdate()
    rows = (
        Slot.objects.filter(kind=kind, day__gte=today.replace(year=today.year - 1))
        .select_related("site")
        .order_by("day", "site__slug")[:60]
    )
    return tuple((str(s.public_id), _slot_label(s)) for s in rows if s.booked < s.capacity)


def _apheresis_choices(case: TherapyCase) -> dict[str, tuple[tuple[str, str], ...]]:
    none = ("", str(_("No chair slot: capacity not managed (choose the unit below)")))
    units = Site.objects.filter(kind=SiteKind.APHERESIS_UNIT).order_by("name")
    return {
        "slot_id": (none, *_open_slots(SlotKind.APHERESIS_CHAIR)),
        "unit": (("", str(_("Choose…"))), *((u.slug, u.name) for u in units)),
    }


def _manufacturing_choices(case: TherapyCase) -> dict[str, tuple[tuple[str, str], ...]]:
    return {"slot_id": _open_slots(SlotKind.MANUFACTURING)}


def _courier_choices(case: TherapyCase) -> dict[str, tuple[tuple[str, str], ...]]:
    rows = Site.objects.filter(kind=SiteKind.COURIER).order_by("name")
    return {"courier": tuple((s.slug, s.name) for s in rows)}


def _days(count: Any) -> str:
    return ngettext("%(count)s day", "%(count)s days", int(count)) % {"count": count}


def regimen_summary(regimen: Mapping[str, Any]) -> str:
    """A regimen in words, e.g. ``flu-cy: fludarabine 25 mg/m2 x 3 days + cyclophosphamide
    250 mg/m2 x 3 days``; an alternative regimen ends with its "use when" note."""
    drugs = []
    for drug in regimen.get("drugs", ()):
        text = f"{code_words(drug['drug'])} {drug['mg_per_m2']:g} mg/m2 x {_days(drug['days'])}"
        if drug.get("on_days"):
            text += _(" (days %(days)s)") % {"days": ", ".join(str(d) for d in drug["on_days"])}
        drugs.append(text)
    words = f"{regimen['id']}: {' + '.join(drugs) or _('drugs not given')}"
    if regimen.get("use_when"):
        words += _("; alternative, use when %(when)s") % {"when": catalog_text(regimen["use_when"])}
    return words


REGIMEN = Field("regimen", _("Regimen"), help=_("the label regimen id, e.g. flu-cy or cy-flu"))


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
    whose = (
        _("the label's regimens for %(indication)s (%(source)s)")
        if fact.status is FactStatus.LABEL
        else _("the site protocol's regimens for %(indication)s (%(source)s)")
    )
    return {
        REGIMEN.name: replace(
            REGIMEN,
            kind="choice",
            help=whose % {"indication": indication.id, "source": source_words(fact.source)},
            choices=tuple((str(r["id"]), regimen_summary(r)) for r in regimens),
        )
    }


# --- how a schema's values become the service's arguments --------------------------------


def _split(text: Any) -> list[str]:
    return [part for part in re.split(r"[\s,;]+", str(text or "")) if part]


def _bags(payload: Any, case: TherapyCase) -> dict[str, Any]:
    return {
        "bags": tuple(
            journey.BagSpec(bag_id=b.bag_id, lot=b.lot, part=b.part, expires_at=b.expires_at)
            for b in payload.bags
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
            raise FormErrors(
                {"unit": _("choose the apheresis unit that collects, or a chair slot")}
            )
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
        raise NotFound(str(_("no such manufacturing slot: choose one of the list")))
    return manufacturing.book_manufacturing_slot(case, slot, occurred_at=occurred_at, **kwargs)


def _crs(payload: Any, case: TherapyCase) -> dict[str, Any]:
    return toxicity_api.crs_arguments(payload)


def _icans(payload: Any, case: TherapyCase) -> dict[str, Any]:
    return toxicity_api.icans_arguments(payload)


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
            eligibility_api.AntigenTestIn,
            referral.record_antigen_test,
            (
                Field("antigen", _("Antigen"), "choice", choices=tuple((a, a) for a in ANTIGENS)),
                Field("positive", _("Result positive?"), "yesno", choices=YES_NO),
                Field("method", _("Method"), required=False, help=_("e.g. flow cytometry")),
            ),
            extra=_antigen,
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
            extra=_eligibility_facts,
            help=_(
                "The facts are judged for the case's indication with what the record holds "
                "(age, antigen tests, region); the eligibility page judges every fact."
            ),
        ),
        Operation(
            "RecordInfectiousDiseaseScreening",
            _("Record the infectious-disease screening"),
            Action.RECORD_INFECTIOUS_DISEASE_SCREENING,
            steps_api.ScreeningIn,
            referral.record_infectious_disease_screening,
            (
                Field("cleared", _("Cleared?"), "yesno", choices=YES_NO),
                Field(
                    "tests", _("Tests done"), "list", required=False, help=_("e.g. HIV, HBV, HCV")
                ),
            ),
            extra=_tuple_of("tests"),
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
            extra=_apheresis,
            choices=_apheresis_choices,
        ),
        Operation(
            "RecordCollection",
            _("Record the collection"),
            Action.RECORD_COLLECTION,
            steps_api.CollectionIn,
            collection.record_collection,
            (
                SCAN_COI,
                Field("collection_din", _("Scan the collection's own DIN label"), "scan"),
                Field("succeeded", _("Collection succeeded?"), "yesno", choices=YES_NO),
                Field("reason", _("Why it failed"), required=False),
            ),
            extra=_collection,
        ),
        Operation(
            "BookManufacturingSlot",
            _("Book the manufacturing slot"),
            Action.BOOK_MANUFACTURING_SLOT,
            ManufacturingSlotIn,
            _book_manufacturing_slot,
            (Field("slot_id", _("Manufacturing slot"), "choice"),),
            button=_("Book the slot"),
            choices=_manufacturing_choices,
        ),
        Operation(
            "StartManufacturing",
            _("Accept the order and start manufacturing"),
            Action.START_MANUFACTURING,
            steps_api.StartManufacturingIn,
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
            steps_api.ReleaseIn,
            manufacturing.release_product,
            (
                Field("dose_cells", _("Dose (CAR-positive viable T cells)"), "number"),
                Field("bag_id", _("Bag identifier"), "scan"),
                Field("lot", _("Lot")),
                EXPIRY,
            ),
            button=_("Sign the release"),
            extra=_bags,
        ),
        Operation(
            "RecordOutOfSpecification",
            _("Record an out-of-specification result"),
            Action.RECORD_OUT_OF_SPECIFICATION,
            steps_api.OutOfSpecificationIn,
            manufacturing.record_out_of_specification,
            (
                Field("dose_cells", _("Dose (CAR-positive viable T cells)"), "number"),
                Field("bag_id", _("Bag identifier"), "scan"),
                Field("lot", _("Lot")),
                REASON,
            ),
            button=_("Sign the out-of-specification result"),
            kind="exception",
            extra=_bags,
        ),
        Operation(
            "DecideOutOfSpecification",
            _("Quality decision on the out-of-specification product"),
            Action.DECIDE_OUT_OF_SPECIFICATION,
            exceptions_api.OutOfSpecificationDecisionIn,
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
            custody_api.ShipmentIn,
            custody.ship_product,
            (
                SCAN_COI,
                Field("scanned_bag_ids", _("Scan every bag"), "list", help=_("one scan per bag")),
                Field("courier", _("Courier"), "choice"),
            ),
            button=_("Ship"),
            extra=_tuple_of("scanned_bag_ids"),
            choices=_courier_choices,
        ),
        Operation(
            "RecordTemperature",
            _("Record a temperature"),
            Action.RECORD_TEMPERATURE,
            custody_api.TemperatureIn,
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
            exceptions_api.QuarantineDecisionIn,
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
            custody_api.ReceiptIn,
            custody.receive_product,
            (
                SCAN_COI,
                Field("scanned_bag_ids", _("Scan every bag"), "list", help=_("one scan per bag")),
                Field("celsius", _("Temperature on arrival (°C)"), "number"),
                Field("storage_location", _("Stored in"), help=_("e.g. LN2 tank 2")),
            ),
            button=_("Receive"),
            extra=_tuple_of("scanned_bag_ids"),
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
            "StartLymphodepletion",
            _("Start lymphodepleting chemotherapy"),
            Action.START_LYMPHODEPLETION,
            steps_api.RegimenIn,
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
            exceptions_api.OmissionIn,
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
            steps_api.ThawIn,
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
            toxicity_api.CrsIn,
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
            extra=_crs,
        ),
        Operation(
            "GradeIcans",
            _("Grade immune effector cell-associated neurotoxicity (ICANS, ASTCT 2019)"),
            Action.GRADE_TOXICITY,
            toxicity_api.IcansIn,
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
            extra=_icans,
        ),
        Operation(
            "RecordKineticsMeasurement",
            _("Record a transgene level (qPCR, copies/µg genomic DNA)"),
            Action.RECORD_KINETICS_MEASUREMENT,
            kinetics_api.KineticsMeasurementIn,
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
            records_out_api.ResponseIn,
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
            records_out_api.ResolutionIn,
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
            steps_api.FollowUpVisitIn,
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
            steps_api.WeightIn,
            steps_api._record_weight,
            (Field("weight_kg", _("Weight (kg)"), "number"),),
            kind="other",
        ),
        Operation(
            "RecordBridgingTherapy",
            _("Record bridging therapy"),
            Action.RECORD_BRIDGING_THERAPY,
            steps_api.BridgingIn,
            collection.record_bridging_therapy,
            (Field("regimen", _("Regimen")),),
            kind="other",
        ),
        Operation(
            "ExpireProduct",
            _("Record that the product expired"),
            Action.EXPIRE_PRODUCT,
            steps_api.ReasonIn,
            treatment.expire_product,
            (REASON,),
            kind="exception",
        ),
        Operation(
            "DisposeProduct",
            _("Dispose of the product"),
            Action.DISPOSE_PRODUCT,
            steps_api.SignedReasonIn,
            treatment.dispose_product,
            (REASON,),
            button=_("Sign the disposal"),
            kind="exception",
        ),
        Operation(
            "WithdrawCase",
            _("Withdraw the case"),
            Action.WITHDRAW_CASE,
            steps_api.ReasonIn,
            treatment.withdraw_case,
            (REASON,),
            button=_("Withdraw"),
            kind="other",
        ),
        Operation(
            "RecordDeath",
            _("Record the patient's death"),
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
            raise FormErrors({f.name: _("a date and time, e.g. 2026-03-01T14:30")}) from None
    return raw


def parse(op: Operation, data: QueryDict | Mapping[str, Any], case: TherapyCase) -> BaseModel:
    """Validate the posted form with the operation's schema; :class:`FormErrors` if wrong."""
    zone = case_zone(case)
    values: dict[str, Any] = {}
    fields = list(op.fields)
    if op.clinical_time:
        fields.append(Field("occurred_at", _("Clinical time"), "datetime", required=False))
    for f in fields:
        if f.kind == "multi":
            chosen = data.getlist(f.name) if isinstance(data, QueryDict) else data.get(f.name)
            if isinstance(chosen, str):
                chosen = _split(chosen)
            values[f.name] = [str(c).strip() for c in chosen or () if str(c).strip()]
            continue
        raw = str(data.get(f.name, "") or "").strip()
        if raw == "":
            if f.required and f.kind != "list":
                values[f.name] = None  # let the schema name the missing field
            continue
        values[f.name] = _value(f, raw, zone)
    if op.schema in (steps_api.ReleaseIn, steps_api.OutOfSpecificationIn):
        bag = {"bag_id": values.pop("bag_id", None), "lot": values.pop("lot", None)}
        if values.get("expires_at") is not None:
            bag["expires_at"] = values.pop("expires_at")
        values.pop("expires_at", None)
        values["bags"] = [bag]
    version = str(data.get("expected_version", "") or "").strip()
    if version:
        values["expected_version"] = version
    if op.signed:
        values["password"] = str(data.get("password", "") or "")
        if not values["password"]:
            raise FormErrors({"password": _("enter your password again to sign")})
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


PLAIN: dict[str, Any] = {
    "float_parsing": _("a number, e.g. 72.5"),
    "float_type": _("a number, e.g. 72.5"),
    "int_parsing": _("a whole number, e.g. 3"),
    "int_type": _("a whole number, e.g. 3"),
    "int_from_float": _("a whole number, e.g. 3"),
    "bool_parsing": _("yes or no"),
    "uuid_parsing": _("choose one from the list"),
    "uuid_type": _("choose one from the list"),
    "datetime_parsing": _("a date and time, e.g. 2026-03-01 14:30"),
    "datetime_from_date_parsing": _("a date and time, e.g. 2026-03-01 14:30"),
    "date_parsing": _("a date, e.g. 2026-03-01"),
    "date_from_datetime_parsing": _("a date, e.g. 2026-03-01"),
    "string_pattern_mismatch": _("not in the expected form"),
    "string_too_short": _("too short"),
}


def plain_message(error: Mapping[str, Any]) -> str:
    """A validation error in plain words, not the validation library's own ("Input should
    be ...")."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "missing" or error.get("input") in (None, ""):
        return str(_("this field is required"))
    if kind in PLAIN:
        return str(PLAIN[kind])
    if kind in ("greater_than", "greater_than_equal"):
        return _("at least %(limit)s") % {"limit": ctx.get("gt", ctx.get("ge"))}
    if kind in ("less_than", "less_than_equal"):
        return _("at most %(limit)s") % {"limit": ctx.get("lt", ctx.get("le"))}
    if kind == "string_too_long":
        return _("at most %(count)s characters") % {"count": ctx.get("max_length")}
    if kind in ("literal_error", "enum"):
        expected = str(ctx.get("expected", _("the choices offered"))).replace("'", "")
        return _("choose one of: %(choices)s") % {"choices": expected}
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
