"""Deciding: run a command's guards against the state and the catalog, and return its events.

``decide`` never changes anything; the caller records the events it returns and folds them
with ``apply``. Every event carries the catalog version and the facts the decision used
(``ResolvedFact.to_dict()``), so the log explains itself after the catalog changes.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any, Final

from cartflow.domain.catalog import (
    Catalog,
    FactName,
    ProductFactName,
    ResolvedFact,
    RuleKind,
    check_fact_value,
)
from cartflow.domain.custody import check_temperature
from cartflow.domain.errors import InvalidInput, NotInCatalog
from cartflow.domain.events import Event
from cartflow.domain.identifiers import parse_identifier
from cartflow.domain.journey import (
    bedside,
    judgment,
    labels,
    observations,
    outcomes,
    patient_access,
    plans,
    split_dose,
    weights,
)
from cartflow.domain.journey import commands as C
from cartflow.domain.journey import payloads as P
from cartflow.domain.journey.apply import FOLLOW_UP_YEARS, replay
from cartflow.domain.journey.errors import FactMissing, JourneyError, ScanMismatch
from cartflow.domain.journey.guards import (
    CHAIN_OF_IDENTITY,
    FOLLOW_UP_SOURCE,
    Context,
    dose_range,
    require_bag_scans,
    require_coi_scan,
    require_din_scan,
    require_signature,
    require_text,
)
from cartflow.domain.journey.regimens import lymphodepletion_regimens
from cartflow.domain.journey.state import Bag, CaseState
from cartflow.domain.journey.steps import COMMAND_STEPS, Step
from cartflow.domain.journey.time_windows import (
    add_years,
    day_window,
    local_date,
    local_days_between,
    minutes_between,
    site_zone,
)
from cartflow.domain.roles import Role
from cartflow.domain.site_register import RegisterEntry

SLOT_SOURCE: Final = (
    "booking policy: a slot lies on or after the day it is booked, a chair on the day of the "
    "collection, manufacturing on or after the collection (docs/journey.md, Slots)"
)
LD_SCHEDULE_SOURCE: Final = (
    "the regimen's schedule as recorded when it started (label regimen, docs/journey.md, "
    "Lymphodepletion)"
)
MAX_WEIGHT_KG: Final = 350.0
OMISSION_WBC_WITHIN_DAYS: Final = 7
"""The label: LD may be omitted if the white-cell count is low "within 1 week before
infusion" (labels.md, tisagenlecleucel [9])."""


class _Decision:
    """Collects the facts a decision used and builds its events."""

    def __init__(self, ctx: Context, command: C.Command) -> None:
        self.ctx = ctx
        self.command = command
        self.facts: list[ResolvedFact] = []

    def fact(self, name: str) -> ResolvedFact:
        resolved = self.ctx.resolve(name)
        self.facts.append(resolved)
        return resolved

    def optional_fact(self, name: str) -> ResolvedFact | None:
        resolved = self.ctx.try_resolve(name)
        if resolved is not None:
            self.facts.append(resolved)
        return resolved

    def event(self, payload: P.Payload, site: str | None = None) -> Event:
        body = payload.to_data()
        body["catalog_version"] = self.ctx.catalog.version
        body["facts"] = [f.to_dict() for f in self.facts]
        return Event(
            type=payload.TYPE,
            occurred_at=self.ctx.at,
            actor=self.command.actor,
            data=body,
            schema_version=payload.VERSION,
            site=self.ctx.state.site if site is None else site,
            recorded_at=self.ctx.now,
        )


Handler = Callable[[_Decision, Any], list[Event]]


# --- referral to collection ------------------------------------------------------------------


def _refer(d: _Decision, c: C.ReferPatient) -> list[Event]:
    coi = parse_identifier(c.coi)
    site_zone(c.site_timezone)
    require_text("site", c.site)
    indication = d.ctx.catalog.indication(c.indication_id)
    if indication.product != c.product_id:
        raise InvalidInput(
            f"indication {c.indication_id!r} belongs to {indication.product}, not {c.product_id}"
        )
    on = local_date(d.ctx.at, site_zone(c.site_timezone))
    approved = indication.approved_in(on)
    if c.region not in approved:
        sources = sorted({s for a in indication.approvals for s in a.sources})
        raise d.ctx.refuse(
            f"{indication.id} is approved in {', '.join(approved) or 'no region'} on "
            f"{on.isoformat()}, not in {c.region}",
            "label source " + ", ".join(f"[{s}]" for s in sources),
            RuleKind.LABEL,
        )
    referred = P.CaseReferred(
        coi.compact, c.product_id, indication.id, c.region, c.site_timezone, tuple(approved)
    )
    return [d.event(referred, site=c.site)]


def _antigen(d: _Decision, c: C.RecordAntigenTest) -> list[Event]:
    antigen = require_text("antigen", c.antigen).upper()
    product = d.ctx.catalog.product(d.ctx.state.product_id)
    target = product.fact(ProductFactName.TARGET_ANTIGEN, d.ctx.on, d.ctx.state.region or None)
    target_antigen = str(target.value).upper() if target is not None and target.known else None
    if target is not None and target_antigen is not None and antigen != target_antigen:
        raise d.ctx.refuse(
            f"the antigen test must be for the product's target antigen {target_antigen}, "
            f"not {antigen}",
            target.source_text,
            RuleKind.LABEL,
        )
    tested = P.AntigenTested(
        antigen=antigen,
        positive=bool(c.positive),
        qualifies=bool(c.positive),
        method=c.method,
        target_antigen=target_antigen,
    )
    return [d.event(tested)]


def _eligibility(d: _Decision, c: C.SignEligibility) -> list[Event]:
    require_signature(d.ctx, c.signature, (Role.PHYSICIAN,), "eligibility")
    judgment.require_judgment(d.ctx, c.assessment, c.facts)
    if not judgment.judged_eligible(d.ctx, c.assessment):
        raise judgment.refuse_not_eligible(d.ctx, c.assessment)
    signed = P.EligibilitySigned(
        P.SignedBy.of(c.signature), dict(c.assessment), patient_facts=dict(c.facts)
    )
    return [d.event(signed)]


def _off_label(d: _Decision, c: C.SignOffLabelEligibility) -> list[Event]:
    require_signature(d.ctx, c.signature, (Role.PHYSICIAN,), "an off-label exception")
    reason = require_text("reason", c.reason)
    judgment.require_judgment(d.ctx, c.assessment, c.facts)
    if judgment.judged_eligible(d.ctx, c.assessment):
        raise judgment.refuse_needless_exception(d.ctx)
    exception = P.OffLabelEligibility(
        reason,
        judgment.why_not(d.ctx, c.assessment),
        P.SignedBy.of(c.signature),
        dict(c.assessment),
        dict(c.facts),
    )
    return [d.event(exception)]


def _screening(d: _Decision, c: C.RecordInfectiousDiseaseScreening) -> list[Event]:
    return [d.event(P.ScreeningRecorded(bool(c.cleared), tuple(c.tests)))]


def _refuse_slot(d: _Decision, rule: str, rule_id: str) -> JourneyError:
    error = d.ctx.refuse(rule, SLOT_SOURCE)
    error.rule_id = rule_id
    return error


def _not_in_the_past(d: _Decision, day: date, what: str) -> None:
    """A booking is made for a day still to come: not before the day it is made (its clinical
    time, which a booking charted late carries)."""
    today = d.ctx.on
    if day < today:
        raise _refuse_slot(
            d,
            f"the {what} is on {day.isoformat()}, before the day it is booked "
            f"({today.isoformat()}); choose a day from {today.isoformat()} on",
            "slot.in_the_past",
        )


def _apheresis(d: _Decision, c: C.ScheduleApheresis) -> list[Event]:
    if c.slot_at.tzinfo is None or c.slot_at.utcoffset() is None:
        raise InvalidInput("the apheresis slot must be a date and time with a time zone")
    planned = local_date(c.slot_at, d.ctx.zone)
    _not_in_the_past(d, planned, "planned collection")
    if c.chair_day is not None and c.chair_day != planned:
        raise _refuse_slot(
            d,
            f"the apheresis chair slot is on {c.chair_day.isoformat()} but the collection is "
            f"planned for {planned.isoformat()}: book a chair on the day of the collection",
            "slot.chair_day",
        )
    re_collection = d.ctx.state.step is not Step.SCREENED
    return [d.event(P.ApheresisScheduled(c.slot_at, re_collection, c.chair_day))]


def _book_manufacturing(d: _Decision, c: C.BookManufacturingSlot) -> list[Event]:
    state = d.ctx.state
    _not_in_the_past(d, c.day, "manufacturing slot")
    collection = state.collection
    if collection is not None:
        collected, what = local_date(collection.at, d.ctx.zone), "collected"
    elif state.apheresis_slots:
        collected, what = local_date(state.apheresis_slots[-1], d.ctx.zone), "planned"
    else:
        raise d.ctx.refuse("a manufacturing slot is booked once the collection is planned")
    if c.day < collected:
        raise _refuse_slot(
            d,
            f"the manufacturing slot is on {c.day.isoformat()}, before the collection "
            f"({what} for {collected.isoformat()}): the cells are made after they are collected",
            "slot.before_collection",
        )
    booked = P.SlotBooked(
        require_text("slot", c.slot_id), "manufacturing", require_text("site", c.site), c.day
    )
    return [d.event(booked)]


def _accept_plan(d: _Decision, c: C.AcceptPlan) -> list[Event]:
    """The plan's own rules, then its bookings through the journey's booking commands, decided
    by ``decide`` itself on the state each leaves: the same guards as a booking by hand, and
    a refusal is the booking's own (its rule id, its step)."""
    state, catalog, now = d.ctx.state, d.ctx.catalog, d.ctx.now
    accepted = plans.check_accept(d.ctx, c, d.fact)
    booked: list[Event] = []
    if accepted.books_chair:
        chair = C.ScheduleApheresis(
            actor=c.actor, occurred_at=c.occurred_at, slot_at=c.apheresis_at, chair_day=c.chair_day
        )
        booked += decide(state, chair, catalog, now)
    slot = C.BookManufacturingSlot(
        actor=c.actor,
        occurred_at=c.occurred_at,
        slot_id=c.manufacturing_slot_id,
        site=c.manufacturing_site,
        day=c.manufacturing_start_on,
    )
    booked += decide(replay(booked, start=state), slot, catalog, now)
    return [*booked, d.event(accepted)]


def _collection(d: _Decision, c: C.RecordCollection) -> list[Event]:
    require_coi_scan(d.ctx, c.scanned_coi, "chain-of-identity")
    din = parse_identifier(c.collection_din).compact
    if din in {x.din for x in d.ctx.state.collections}:
        raise d.ctx.refuse("each collection carries its own DIN; this one was used before")
    if din == d.ctx.state.coi:
        raise d.ctx.refuse(
            "a collection's DIN differs from the case's chain-of-identity identifier"
        )
    if c.succeeded:
        return [d.event(P.CollectionRecorded(din, c.scanned_coi))]
    reason = require_text("reason the collection failed", c.reason)
    return [d.event(P.CollectionFailed(din, reason))]


def _bridging(d: _Decision, c: C.RecordBridgingTherapy) -> list[Event]:
    return [d.event(P.BridgingGiven(require_text("regimen", c.regimen)))]


def _check_weight(value: float) -> float:
    weight = float(value)
    if not math.isfinite(weight) or not 0 < weight <= MAX_WEIGHT_KG:
        raise InvalidInput(f"a weight must be more than 0 and at most {MAX_WEIGHT_KG:g} kg")
    return weight


def _weight(d: _Decision, c: C.RecordWeight) -> list[Event]:
    return [d.event(P.PatientWeighed(_check_weight(c.weight_kg)))]


def _manufacturing(d: _Decision, c: C.StartManufacturing) -> list[Event]:
    require_coi_scan(d.ctx, c.scanned_coi, "chain-of-identity")
    collection = d.ctx.state.collection
    require_din_scan(d.ctx, c.scanned_din, collection.din if collection else "")
    weight = _check_weight(c.weight_kg)
    tolerance = float(c.weight_tolerance_percent)
    if not (math.isfinite(tolerance) and 0 <= tolerance <= 100):
        raise InvalidInput("the weight tolerance is a percentage from 0 to 100")
    weights.check_order_weight(d.ctx.state, d.ctx.attempted, weight, tolerance)
    started = P.ManufacturingStarted(
        require_text("order reference", c.order_ref),
        collection.din if collection else "",
        weight,
        c.scanned_coi,
        c.scanned_din,
    )
    return [d.event(started)]


# --- release, out of specification, shipping, quarantine ------------------------------------


def _bag_plan(
    d: _Decision, bags: tuple[C.BagSpec, ...], dose: ResolvedFact
) -> tuple[P.BagRecord, ...]:
    """The bags as released; a split-dose rule gives each part its label day."""
    if not bags:
        raise InvalidInput("a released product has at least one bag")
    ids = [require_text("bag identifier", b.bag_id) for b in bags]
    if len(set(ids)) != len(ids):
        raise InvalidInput("each bag of a product has its own identifier")
    rule = dose.value if isinstance(dose.value, Mapping) else {}
    parts = rule.get("parts") if rule.get("kind") == "split" else None
    tolerance = int(rule.get("tolerance_days", 0)) if parts else 0
    plan = []
    for bag, bag_id in zip(bags, ids, strict=True):
        count = len(parts) if parts else 1
        if not 1 <= bag.part <= count:
            raise InvalidInput(
                f"bag {bag_id}: the dose has {count} part(s); part {bag.part} is not one"
            )
        day = int(parts[bag.part - 1].get("day", 1)) if parts else 1
        expires_at = None if bag.expires_at is None else _expiry(d, bag_id, bag.expires_at)
        plan.append(
            P.BagRecord(
                bag_id, require_text("bag lot", bag.lot), bag.part, day, tolerance, expires_at
            )
        )
    return tuple(plan)


def _expiry(d: _Decision, bag_id: str, expires_at: datetime) -> datetime:
    """A lot's expiry as the release states it: a time with its zone, after the release."""
    if expires_at.tzinfo is None or expires_at.utcoffset() is None:
        raise InvalidInput(f"bag {bag_id}: the expiry needs its time zone")
    if expires_at <= d.ctx.at:
        raise d.ctx.refuse(
            f"bag {bag_id}: the expiry stated ({expires_at.isoformat()}) is not after the "
            "release; an expired product is not released"
        )
    return expires_at


def _judge_dose(
    d: _Decision, dose_cells: float
) -> tuple[ResolvedFact, float | None, float | None, bool]:
    dose = d.fact(FactName.DOSE)
    weight = d.ctx.state.order_weight_kg
    if weight is None:
        raise d.ctx.refuse(
            "the dose is judged by the weight on the manufacturing order; none is recorded"
        )
    try:
        low, high = dose_range(dose.value, weight)
    except NotInCatalog as exc:
        raise FactMissing(d.ctx.step, d.ctx.attempted, exc) from None
    cells = float(dose_cells)
    if not math.isfinite(cells) or cells <= 0:
        raise InvalidInput("the dose must be a positive number of CAR-positive viable T cells")
    inside = low is not None and low <= cells <= high
    return dose, low, high, inside


def _release_data(
    d: _Decision, dose_cells: float, bags: tuple[C.BagSpec, ...], signature: C.Signature
) -> tuple[P.ProductReleased, ResolvedFact]:
    dose, low, high, inside = _judge_dose(d, dose_cells)
    released = P.ProductReleased(
        dose_cells=float(dose_cells),
        dose_min=low,
        dose_max=high,
        weight_kg=d.ctx.state.order_weight_kg,
        in_range=inside,
        bags=_bag_plan(d, bags, dose),
        signature=P.SignedBy.of(signature),
    )
    return released, dose


def _release(d: _Decision, c: C.ReleaseProduct) -> list[Event]:
    require_signature(d.ctx, c.signature, (Role.MANUFACTURING, Role.QUALITY), "product release")
    labels.require_reconciled(d.ctx)
    released, dose = _release_data(d, c.dose_cells, c.bags, c.signature)
    low, high = released.dose_min, released.dose_max
    if low is None and high is not None and float(c.dose_cells) <= high:
        raise d.ctx.refuse_by(
            dose,
            "the label gives no lower bound of the dose, so release cannot confirm the dose is "
            "inside its range: record it as out of specification for a quality decision",
        )
    if not released.in_range:
        raise d.ctx.refuse_by(
            dose,
            f"release needs a dose inside the label's range for {released.weight_kg:g} kg "
            f"(the weight on the manufacturing order): {_fmt(low)} to {_fmt(high)} cells; "
            f"{_fmt(float(c.dose_cells))} is outside it (record it as out of specification)",
        )
    return [d.event(released)]


def _fmt(value: float | None) -> str:
    return "no bound" if value is None else f"{value:.3g}"


def _out_of_spec(d: _Decision, c: C.RecordOutOfSpecification) -> list[Event]:
    require_signature(
        d.ctx, c.signature, (Role.MANUFACTURING, Role.QUALITY), "an out-of-specification result"
    )
    r, _dose = _release_data(d, c.dose_cells, c.bags, c.signature)
    out = P.ProductOutOfSpecification(
        r.dose_cells,
        r.dose_min,
        r.dose_max,
        r.weight_kg,
        r.in_range,
        r.bags,
        r.signature,
        require_text("reason", c.reason),
    )
    return [d.event(out)]


def _decide_oos(d: _Decision, c: C.DecideOutOfSpecification) -> list[Event]:
    require_signature(
        d.ctx, c.signature, (Role.QUALITY,), "a decision on out-of-specification product"
    )
    reason, signature = require_text("reason", c.reason), P.SignedBy.of(c.signature)
    decided = P.OosAccepted if c.accept else P.OosRejected
    return [d.event(decided(reason, signature))]


def _bag_ids(state: CaseState) -> list[str]:
    return [b.bag_id for b in state.bags]


def _ship(d: _Decision, c: C.ShipProduct) -> list[Event]:
    require_coi_scan(d.ctx, c.scanned_coi, "chain-of-identity")
    require_bag_scans(d.ctx, c.scanned_bag_ids, _bag_ids(d.ctx.state))
    shipped = P.ProductShipped(
        require_text("courier", c.courier), c.scanned_coi, tuple(c.scanned_bag_ids)
    )
    return [d.event(shipped)]


def _reading(d: _Decision, celsius: float, location: str) -> P.TemperatureRecorded:
    value = check_temperature(celsius)
    limit = d.fact(FactName.STORAGE_MAX_CELSIUS)
    return P.TemperatureRecorded(
        value, float(limit.value), value > float(limit.value), require_text("location", location)
    )


def _temperature(d: _Decision, c: C.RecordTemperature) -> list[Event]:
    return [d.event(_reading(d, c.celsius, c.location))]


def _decide_quarantine(d: _Decision, c: C.DecideQuarantine) -> list[Event]:
    require_signature(d.ctx, c.signature, (Role.QUALITY,), "a decision on quarantined product")
    reason, signature = require_text("reason", c.reason), P.SignedBy.of(c.signature)
    decided = P.QuarantineReleased if c.release else P.QuarantineRejected
    return [d.event(decided(reason, signature))]


def _receive(d: _Decision, c: C.ReceiveProduct) -> list[Event]:
    require_coi_scan(d.ctx, c.scanned_coi, "chain-of-identity")
    require_bag_scans(d.ctx, c.scanned_bag_ids, _bag_ids(d.ctx.state))
    reading = _reading(d, c.celsius, "receipt")
    if reading.excursion:
        return [d.event(reading)]  # the shipper arrived too warm: quarantine, not receipt
    received = P.ProductReceived(
        reading.celsius,
        reading.limit_celsius,
        require_text("storage location", c.storage_location),
        c.scanned_coi,
        tuple(c.scanned_bag_ids),
    )
    return [d.event(received)]


def _available(d: _Decision, c: C.ConfirmProductAvailability) -> list[Event]:
    return [d.event(P.AvailabilityConfirmed())]


# --- site protocol, lymphodepletion ----------------------------------------------------------


def _site_protocol(d: _Decision, c: C.RecordSiteProtocolValue) -> list[Event]:
    require_signature(d.ctx, c.signature, (Role.PHYSICIAN, Role.QUALITY), "a site protocol value")
    try:
        fact = FactName(c.fact)
    except ValueError:
        raise InvalidInput(
            f"unknown fact {c.fact!r}; facts are: {', '.join(f.value for f in FactName)}"
        ) from None
    check_fact_value(fact, c.value, f"site protocol value for {fact.value}")
    version = d.ctx.indication.fact(fact, d.ctx.on, d.ctx.state.region or None)
    if version is not None and version.known:
        raise d.ctx.refuse(
            f"the catalog knows {fact.value.replace('_', ' ')} ({version.source_text}); a site "
            "value only fills a fact the label does not give",
            version.source_text,
            RuleKind.LABEL,
        )
    recorded = P.SiteProtocolRecorded(
        d.ctx.state.indication_id,
        fact.value,
        c.value,
        require_text("document reference", c.document_ref),
        c.effective_on,
        P.SignedBy.of(c.signature),
    )
    return [d.event(recorded)]


def _fludarabine(d: _Decision, c: C.ModifyFludarabineDose) -> list[Event]:
    require_signature(d.ctx, c.signature, (Role.PHYSICIAN,), "a fludarabine dose modification")
    clearance = float(c.creatinine_clearance_ml_min)
    reduction = float(c.reduction_percent)
    if not (math.isfinite(clearance) and clearance >= 0):
        raise InvalidInput("the creatinine clearance is a number of mL/min, 0 or more")
    if not (math.isfinite(reduction) and 0 < reduction < 100):
        raise InvalidInput("the reduction is a percentage between 0 and 100")
    d.optional_fact(FactName.FLUDARABINE_RENAL_ADJUSTMENT)
    modified = P.FludarabineModified(
        clearance, reduction, require_text("reason", c.reason), P.SignedBy.of(c.signature)
    )
    return [d.event(modified)]


def describe_regimen(regimen: Mapping[str, Any]) -> str:
    """``flu-cy (fludarabine 25 mg/m2 x3 days, cyclophosphamide 250 mg/m2 x3 days)``."""
    drugs = ", ".join(
        f"{drug['drug']} {drug['mg_per_m2']:g} mg/m2 x{drug['days']} day(s)"
        for drug in regimen.get("drugs", ())
    )
    return f"{regimen['id']} ({drugs})"


def _ld_regimen(d: _Decision, named: str) -> dict[str, Any]:
    """The lymphodepleting regimen ``named`` (its catalog id, any case) among the regimens the
    case may be given (:mod:`cartflow.domain.journey.regimens`); anything else is refused."""
    given = lymphodepletion_regimens(d.ctx)  # FactMissing when unknown and not site-filled
    d.facts.append(given.fact)  # cited in the event, like every fact a guard read
    regimen = given.named(named)
    if regimen is not None:
        return dict(regimen)
    accepted = "; ".join(describe_regimen(r) for r in given.regimens) or "none"
    raise d.ctx.refuse_by(
        given.fact,
        f"the regimen must be one of {given.whose} lymphodepleting regimens for "
        f"{d.ctx.state.indication_id} (by id): {accepted}; {named!r} is not one of them",
    )


def _regimen_given(d: _Decision, regimen: Mapping[str, Any]) -> tuple[P.RegimenDrug, ...]:
    """The regimen's drugs as recorded (drug, mg_per_m2, days, on_days), fludarabine carrying
    the reduction of the latest signed ``ModifyFludarabineDose`` if there is one."""
    modified = [e for e in d.ctx.state.exceptions if e.kind == "fludarabine_dose_modified"]
    drugs = []
    for drug in regimen.get("drugs", ()):
        reduced = None
        if drug["drug"] == "fludarabine" and modified:
            reduced = modified[-1].details.get("reduction_percent")
        drugs.append(P.RegimenDrug.of(drug, reduced))
    return tuple(drugs)


def _start_ld(d: _Decision, c: C.StartLymphodepletion) -> list[Event]:
    state = d.ctx.state
    regimen = _ld_regimen(d, require_text("regimen", c.regimen))
    repeat = state.step is Step.LYMPHODEPLETED and state.ld_completed_at is not None
    started = P.LdStarted(
        regimen["id"],
        repeat,
        _regimen_given(d, regimen),
        regimen["use_when"] if regimen.get("use_when") else None,
    )
    dose = d.ctx.try_resolve(FactName.DOSE)
    marrow = None if dose is None else split_dose.check_marrow_before_ld(d.ctx, dose)
    if marrow is not None:
        assert dose is not None
        d.facts.append(dose)
        started = dataclasses.replace(
            started,
            marrow_blast_percent=marrow.blast_percent,
            marrow_sampled_at=marrow.sampled_at,
            dose_regimen=marrow.regimen,
        )
    if repeat:
        ended = state.ld_completed_at
        assert ended is not None
        days = local_days_between(ended, d.ctx.at, d.ctx.zone)
        limit_fact = d.optional_fact(FactName.LD_REPEAT_AFTER_DAYS)
        if limit_fact is not None:
            limit = int(limit_fact.value)
            if days <= limit:
                error = d.ctx.refuse_by(
                    limit_fact,
                    f"lymphodepletion is repeated only when infusion is delayed more than "
                    f"{limit} days after it ended; it ended {days} day(s) ago",
                )
                error.rule_id = "ld.repeat_too_soon"
                error.params = _repeat_params(d, ended, limit, days)
                raise error
        else:
            window = d.fact(FactName.INFUSION_WINDOW_DAYS)
            limit = int(window.value[1])
            if days <= limit:
                error = d.ctx.refuse(
                    f"the label gives no repeat limit; lymphodepletion is repeated only once the "
                    f"infusion window ({limit} days after it ended) has passed; it ended {days} "
                    "day(s) ago",
                    f"{window.source} (infusion window); repeat rule: cartflow journey policy",
                )
                error.rule_id = "ld.repeat_too_soon"
                error.params = _repeat_params(d, ended, limit, days)
                raise error
        started = dataclasses.replace(started, days_since_last_ld=days)
    return [d.event(started)]


def _repeat_params(d: _Decision, ended: datetime, limit: int, days: int) -> dict[str, Any]:
    ended_on = local_date(ended, d.ctx.zone)
    earliest = ended_on + timedelta(days=limit + 1)
    return {
        "after_days": limit,
        "day": days,
        "ld_ended": ended_on.isoformat(),
        "earliest": earliest.isoformat(),
    }


def _ld_day(d: _Decision) -> tuple[int, int | None]:
    """Today's day of the course (the start is day 1, site calendar) and its scheduled days."""
    course = d.ctx.state.ld_course
    assert course is not None
    return local_days_between(course.started_at, d.ctx.at, d.ctx.zone) + 1, course.scheduled_days


def _complete_ld(d: _Decision, c: C.CompleteLymphodepletion) -> list[Event]:
    today, scheduled = _ld_day(d)
    if scheduled is not None and today < scheduled:
        error = d.ctx.refuse(
            f"the regimen runs {scheduled} day(s) and today is its day {today}: it is "
            "completed on its last scheduled day; to end it early, record a signed early stop "
            "with the reason",
            LD_SCHEDULE_SOURCE,
        )
        error.rule_id = "ld.complete_before_last_day"
        course = d.ctx.state.ld_course
        assert course is not None
        last_day = local_date(course.started_at, d.ctx.zone) + timedelta(days=scheduled - 1)
        error.params = {"scheduled_days": scheduled, "day": today, "last_day": last_day.isoformat()}
        raise error
    return [d.event(P.LdCompleted(today))]


def _stop_ld(d: _Decision, c: C.StopLymphodepletion) -> list[Event]:
    require_signature(d.ctx, c.signature, (Role.PHYSICIAN,), "stopping lymphodepletion early")
    reason = require_text("reason", c.reason)
    today, scheduled = _ld_day(d)
    stopped = P.LdStoppedEarly(reason, today, scheduled, P.SignedBy.of(c.signature))
    return [d.event(stopped)]


def _omit_ld(d: _Decision, c: C.OmitLymphodepletion) -> list[Event]:
    require_signature(d.ctx, c.signature, (Role.PHYSICIAN,), "omitting lymphodepletion")
    reason = require_text("reason", c.reason)
    limit = d.fact(FactName.LD_OMISSION_WBC_MAX)
    wbc = float(c.wbc_per_l)
    if not (math.isfinite(wbc) and wbc >= 0):
        raise InvalidInput("the white-cell count is a number per litre, 0 or more")
    if c.wbc_measured_at.tzinfo is None or c.wbc_measured_at.utcoffset() is None:
        raise InvalidInput("the white-cell count's time must carry a time zone")
    if wbc > float(limit.value):
        raise d.ctx.refuse_by(
            limit,
            f"lymphodepletion may be omitted only with a white-cell count at or below "
            f"{float(limit.value):.3g}/L; this one is {wbc:.3g}/L",
        )
    _check_wbc_fresh(d, limit, c.wbc_measured_at)
    omitted = P.LdOmitted(
        wbc, c.wbc_measured_at, float(limit.value), reason, P.SignedBy.of(c.signature)
    )
    return [d.event(omitted)]


def _check_wbc_fresh(d: _Decision, limit: ResolvedFact, measured_at: Any) -> None:
    if measured_at > d.ctx.at:
        raise InvalidInput("the white-cell count cannot be measured after the decision")
    days = local_days_between(measured_at, d.ctx.at, d.ctx.zone)
    if days > OMISSION_WBC_WITHIN_DAYS:
        error = d.ctx.refuse_by(
            limit,
            f"lymphodepletion may be omitted only with a white-cell count from within "
            f"{OMISSION_WBC_WITHIN_DAYS} days before infusion; this one is {days} days old",
        )
        error.rule_id = "ld_omission.count_too_old"
        measured_on = local_date(measured_at, d.ctx.zone)
        error.params = {
            "within_days": OMISSION_WBC_WITHIN_DAYS,
            "age_days": days,
            "measured_on": measured_on.isoformat(),
            "latest": (measured_on + timedelta(days=OMISSION_WBC_WITHIN_DAYS)).isoformat(),
        }
        raise error


# --- thaw and infusion -----------------------------------------------------------------------


def infusion_window(
    ended: datetime, window: ResolvedFact, at: datetime, zone: Any
) -> dict[str, Any]:
    """The label's infusion window after lymphodepletion ended, as the rule's parameters
    (``min_days``, ``max_days``, ``day``, ``ld_ended``, ``earliest``, ``latest``)."""
    low, high = int(window.value[0]), int(window.value[1])
    params = day_window(ended, low, high, at, zone)
    params["ld_ended"] = params.pop("start")
    return params


def monitoring_window(
    infused: datetime, minimum: ResolvedFact, at: datetime, zone: Any
) -> dict[str, Any]:
    """The label's monitoring period after the infusion (``days``, ``day``, ``earliest``)."""
    params = day_window(infused, int(minimum.value), None, at, zone)
    return {"days": params["min_days"], "day": params["day"], "earliest": params["earliest"]}


def _check_ld_for_infusion(d: _Decision) -> P.LdCheck:
    """Lymphodepletion completed within the label's window before today, or omitted under a
    signed exception with a recent low white-cell count."""
    state = d.ctx.state
    if state.ld_omission is not None:
        limit = d.fact(FactName.LD_OMISSION_WBC_MAX)
        measured = state.ld_omission.details.get("wbc_measured_at")
        _check_wbc_fresh(d, limit, datetime.fromisoformat(str(measured)))
        return P.LdCheck(omitted=True, days_since_ld=None)
    ended = state.ld_completed_at
    if ended is None:
        error = d.ctx.refuse("infusion needs lymphodepletion completed (or a signed omission)")
        error.rule_id = "infusion.needs_lymphodepletion"
        raise error
    window = d.fact(FactName.INFUSION_WINDOW_DAYS)
    params = infusion_window(ended, window, d.ctx.at, d.ctx.zone)
    low, high, days = params["min_days"], params["max_days"], params["day"]
    if not low <= days <= high:
        error = d.ctx.refuse_by(
            window,
            f"infusion must be {low} to {high} days after lymphodepletion ends (site calendar "
            f"days); today is day {days}",
        )
        error.rule_id = "infusion.too_early" if days < low else "infusion.too_late"
        error.params = params
        raise error
    return P.LdCheck(omitted=False, days_since_ld=days)


def _check_split_day(d: _Decision, bag: Bag) -> int | None:
    """A later part of a split dose is given on its label day (Day 1 = first infusion)."""
    first = d.ctx.state.first_infusion_at
    if first is None:
        return None
    day = local_days_between(first, d.ctx.at, d.ctx.zone) + 1
    if bag.part > 1:
        split_dose.check_later_part(d.ctx, d.fact(FactName.DOSE), bag, day)
    return day


def _next_part(state: CaseState) -> int:
    return min(b.part for b in state.remaining_bags)


def _thaw(d: _Decision, c: C.ThawBag) -> list[Event]:
    state = d.ctx.state
    require_coi_scan(d.ctx, c.scanned_coi, "chain-of-identity")
    bag = state.bag(str(c.scanned_bag_id).strip())
    if bag is None or bag.bag_id in state.infused_bag_ids:
        raise ScanMismatch(
            d.ctx.step,
            d.ctx.attempted,
            "the bag scanned is not one of this case's bags still to be infused; do not thaw",
            CHAIN_OF_IDENTITY,
            RuleKind.SITE_POLICY,
            ("bag_id",),
        )
    if bag.part != _next_part(state):
        raise d.ctx.refuse(
            f"the bags of dose part {_next_part(state)} are thawed first (this bag is part "
            f"{bag.part})"
        )
    ld = _check_ld_for_infusion(d) if bag.part == 1 else None
    day = _check_split_day(d, bag)
    thawed = P.ProductThawed(bag.bag_id, bag.part, day, c.scanned_coi, c.scanned_bag_id, ld)
    return [d.event(thawed)]


def _infuse(d: _Decision, c: C.InfuseBag) -> list[Event]:
    """The bedside check and the infusion: both events, or a refusal and neither."""
    state = d.ctx.state
    if not isinstance(c.performer, C.Performer) or not isinstance(c.signature, C.Signature):
        raise InvalidInput("the infusion names who performs it and who witnesses and signs it")
    require_text("performer", c.performer.user_id)
    bedside.check_people(state, c.performer, c.signature)
    require_signature(d.ctx, c.signature, bedside.WITNESS_ROLES, "infusion")
    wristband = bedside.check_wristband(state, c.scanned_wristband, c.expected_wristbands)
    bedside.check_identity_confirmed(state, c.identity_confirmed)
    bag_label = bedside.check_bag_label(state, c.scanned_bag_label)
    thawed = bedside.check_bag_number(state, c.scanned_bag_id)
    bag = state.bag(thawed)
    thaw = state.thaw_of(thawed)
    assert bag is not None and thaw is not None
    limit = d.fact(FactName.POST_THAW_MINUTES)
    minutes = minutes_between(thaw.at, d.ctx.at)
    if minutes > float(limit.value):
        error = d.ctx.refuse_by(
            limit,
            f"infusion must follow the thaw within {float(limit.value):g} minutes; "
            f"{minutes:.0f} minutes have passed",
        )
        error.rule_id = "infusion.post_thaw_window"
        error.params = {
            "minutes": float(limit.value),
            "elapsed": round(minutes),
            # In the site's time: the pages show it as the ward's clock reads.
            "deadline": (thaw.at + timedelta(minutes=float(limit.value)))
            .astimezone(d.ctx.zone)
            .isoformat(timespec="minutes"),
        }
        raise error
    ld = _check_ld_for_infusion(d) if bag.part == 1 else None
    day = _check_split_day(d, bag)
    performer = P.PerformerRecord.of(c.performer)
    verified = P.BedsideVerified(
        bag_id=bag.bag_id,
        wristband=wristband,
        bag_label=bag_label,
        performer=performer,
        witness=c.signature.signer_id,
        identity="confirmed",
        scanned_bag_label=str(c.scanned_bag_label).strip(),
        scanned_bag_id=str(c.scanned_bag_id).strip(),
    )
    infused = P.ProductInfused(
        bag_id=bag.bag_id,
        part=bag.part,
        signature=P.SignedBy.of(c.signature),
        performer=performer,
        thawed_at=thaw.at,
        minutes_since_thaw=round(minutes, 3),
        split_day=day,
        ld=ld,
    )
    return [d.event(verified), d.event(infused)]


# --- observations (observations.py holds their rules) ---------------------------------------


def _grade_crs(d: _Decision, c: C.GradeCrs) -> list[Event]:
    return [observations.grade_crs(d.ctx, c, d.event)]


def _grade_icans(d: _Decision, c: C.GradeIcans) -> list[Event]:
    return [observations.grade_icans(d.ctx, c, d.event)]


def _measurement(d: _Decision, c: C.RecordKineticsMeasurement) -> list[Event]:
    return [observations.measurement(d.ctx, c, d.event)]


def _marrow_blasts(d: _Decision, c: C.RecordMarrowBlasts) -> list[Event]:
    return [observations.marrow_blasts(d.ctx, c, d.event)]


def _deviation(d: _Decision, c: C.OpenDeviation) -> list[Event]:
    return [observations.deviation(d.ctx, c, d.event)]


# --- after infusion, and the ends of a case -------------------------------------------------


def _start_monitoring(d: _Decision, c: C.StartMonitoring) -> list[Event]:
    return [d.event(P.MonitoringStarted())]


def _follow_up_until(d: _Decision) -> date:
    first = d.ctx.state.first_infusion_at
    assert first is not None
    return add_years(local_date(first, d.ctx.zone), FOLLOW_UP_YEARS)


def _complete_monitoring(d: _Decision, c: C.CompleteMonitoring) -> list[Event]:
    state = d.ctx.state
    last = state.infusions[-1].at
    limit = d.fact(FactName.MONITORING_DAYS)
    params = monitoring_window(last, limit, d.ctx.at, d.ctx.zone)
    days = params["day"]
    if days < params["days"]:
        error = d.ctx.refuse_by(
            limit,
            f"monitoring lasts at least {int(limit.value)} days after infusion; it is day {days}",
        )
        error.rule_id = "monitoring.minimum_days"
        error.params = params
        raise error
    return [d.event(P.MonitoringCompleted(days, _follow_up_until(d)))]


def _visit(d: _Decision, c: C.RecordFollowUpVisit) -> list[Event]:
    return [d.event(P.FollowUpVisit(c.note_ref))]


def _complete_follow_up(d: _Decision, c: C.CompleteFollowUp) -> list[Event]:
    until = d.ctx.state.follow_up_until or _follow_up_until(d)
    if d.ctx.on < until:
        error = d.ctx.refuse(
            f"long-term follow-up of an infused patient lasts {FOLLOW_UP_YEARS} years, until "
            f"{until.isoformat()}; it closes earlier only by death or withdrawal with a reason",
            FOLLOW_UP_SOURCE,
        )
        error.rule_id = "follow_up.until"
        error.params = {"years": FOLLOW_UP_YEARS, "until": until.isoformat()}
        raise error
    return [d.event(P.FollowUpCompleted(until))]


WITHDRAWAL_SIGNERS: Final = (Role.PHYSICIAN, Role.COORDINATOR)
DEATH_SIGNERS: Final = (Role.PHYSICIAN,)


def _withdraw(d: _Decision, c: C.WithdrawCase) -> list[Event]:
    require_signature(d.ctx, c.signature, WITHDRAWAL_SIGNERS, "withdrawing a case")
    withdrawn = P.CaseWithdrawn(
        require_text("reason", c.reason),
        bool(d.ctx.state.infusions),
        P.SignedBy.of(c.signature),
    )
    return [d.event(withdrawn)]


def _death(d: _Decision, c: C.RecordDeath) -> list[Event]:
    require_signature(d.ctx, c.signature, DEATH_SIGNERS, "recording a death")
    deceased = P.CaseDeceased(require_text("reason", c.reason), P.SignedBy.of(c.signature))
    return [d.event(deceased)]


def _expire(d: _Decision, c: C.ExpireProduct) -> list[Event]:
    return [d.event(P.ProductExpired(require_text("reason", c.reason)))]


def _dispose(d: _Decision, c: C.DisposeProduct) -> list[Event]:
    state = d.ctx.state
    require_signature(d.ctx, c.signature, (Role.PHARMACY, Role.QUALITY), "product disposal")
    if not state.bags or state.product_disposed or not state.remaining_bags:
        raise d.ctx.refuse("there is no unused product of this case to dispose of")
    disposed = P.ProductDisposed(
        require_text("reason", c.reason),
        P.SignedBy.of(c.signature),
        tuple(b.bag_id for b in state.remaining_bags),
    )
    return [d.event(disposed)]


HANDLERS: dict[type[C.Command], Handler] = {
    C.ReferPatient: _refer,
    C.RecordAntigenTest: _antigen,
    C.SignEligibility: _eligibility,
    C.SignOffLabelEligibility: _off_label,
    C.RecordInfectiousDiseaseScreening: _screening,
    C.ScheduleApheresis: _apheresis,
    C.BookManufacturingSlot: _book_manufacturing,
    C.RecordCollection: _collection,
    C.RecordBridgingTherapy: _bridging,
    C.RecordWeight: _weight,
    C.StartManufacturing: _manufacturing,
    C.ReleaseProduct: _release,
    C.RecordOutOfSpecification: _out_of_spec,
    C.DecideOutOfSpecification: _decide_oos,
    C.ShipProduct: _ship,
    C.RecordTemperature: _temperature,
    C.DecideQuarantine: _decide_quarantine,
    C.ReceiveProduct: _receive,
    C.ConfirmProductAvailability: _available,
    C.RecordSiteProtocolValue: _site_protocol,
    C.ModifyFludarabineDose: _fludarabine,
    C.StartLymphodepletion: _start_ld,
    C.CompleteLymphodepletion: _complete_ld,
    C.StopLymphodepletion: _stop_ld,
    C.OmitLymphodepletion: _omit_ld,
    C.ThawBag: _thaw,
    C.InfuseBag: _infuse,
    C.StartMonitoring: _start_monitoring,
    C.CompleteMonitoring: _complete_monitoring,
    C.RecordFollowUpVisit: _visit,
    C.CompleteFollowUp: _complete_follow_up,
    C.WithdrawCase: _withdraw,
    C.RecordDeath: _death,
    C.ExpireProduct: _expire,
    C.DisposeProduct: _dispose,
    C.GradeCrs: _grade_crs,
    C.GradeIcans: _grade_icans,
    C.RecordKineticsMeasurement: _measurement,
    C.RecordMarrowBlasts: _marrow_blasts,
    C.OpenDeviation: _deviation,
    C.ReviewDeviation: lambda d, c: [observations.review_deviation(d.ctx, c, d.event)],
    C.PrintLabels: lambda d, c: [labels.print_labels(d.ctx, c, d.event)],
    C.ApplyLabels: lambda d, c: [labels.apply_labels(d.ctx, c, d.event)],
    C.ReprintLabel: lambda d, c: [labels.reprint_label(d.ctx, c, d.event)],
    C.VoidLabels: lambda d, c: [labels.void_labels(d.ctx, c, d.event)],
    C.RecordResponseAssessment: lambda d, c: [outcomes.assess_response(d.ctx, c, d.event)],
    C.ResolveToxicity: lambda d, c: [outcomes.resolve_toxicity(d.ctx, c, d.event)],
    C.AcceptPlan: _accept_plan,
    C.ConfirmPlanSlot: lambda d, c: [plans.confirm(d.ctx, c, d.event)],
    C.DeclinePlanSlot: lambda d, c: [plans.decline(d.ctx, c, d.event)],
    C.ReleasePlan: lambda d, c: [plans.release(d.ctx, c, d.event)],
}

_BEFORE_AVAILABLE: Final = frozenset(
    {
        Step.REFERRED,
        Step.ANTIGEN_TESTED,
        Step.ELIGIBLE,
        Step.SCREENED,
        Step.APHERESIS_SCHEDULED,
        Step.COLLECTED,
        Step.COLLECTION_FAILED,
        Step.BRIDGING,
        Step.MANUFACTURING,
        Step.OUT_OF_SPECIFICATION,
        Step.RELEASED,
        Step.SHIPPED,
        Step.QUARANTINED,
        Step.RECEIVED,
    }
)


def _check_step(ctx: Context, name: str) -> None:
    state = ctx.state
    if state.step in COMMAND_STEPS[name]:
        return
    if name in ("StartLymphodepletion", "OmitLymphodepletion") and state.step in _BEFORE_AVAILABLE:
        raise ctx.refuse(
            "lymphodepletion starts only when the product is available (received, stored, "
            "its availability confirmed and not quarantined)"
        )
    if name == "InfuseBag" and state.step is not Step.THAWED:
        raise ctx.refuse("infusion needs a thawed bag of this case (thaw it at the bedside)")
    steps = sorted(s.value for s in COMMAND_STEPS[name])
    raise ctx.refuse(f"{name} is accepted only in step(s): {', '.join(steps)}")


def decide(
    state: CaseState,
    command: C.Command,
    catalog: Catalog,
    now: datetime,
    register: Iterable[RegisterEntry] = (),
) -> list[Event]:
    """The events ``command`` produces from ``state``, or a :class:`JourneyError` (a refusal),
    :class:`~cartflow.domain.errors.IdentityMismatch` (a scan that does not match, also a
    JourneyError) or :class:`~cartflow.domain.errors.InvalidInput` (malformed input).

    ``register`` is the case's site's register of signed protocol values (every entry; the
    guards read those in force on the command's site date, ``site_register.values_in_force``).
    """
    if type(command) in patient_access.COMMANDS:
        return patient_access.decide(state, command, now)  # beside the steps, like observations
    handler = HANDLERS.get(type(command))
    if handler is None:
        raise InvalidInput(f"unknown command {type(command).__name__}")
    if now.tzinfo is None or now.utcoffset() is None:
        raise InvalidInput("now must carry a time zone (an aware datetime)")
    require_text("actor", command.actor)
    at = command.occurred_at or now
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput("occurred_at must carry a time zone (an aware datetime)")
    if at > now:
        raise InvalidInput(
            "occurred_at is after the time of recording: a clinical time is not in the future"
        )
    name = type(command).__name__
    ctx = Context(state, catalog, name, now, at, tuple(register))
    if type(command) in C.OBSERVATIONS:
        # Charted late is still charted: an observation keeps its clinical time, and the
        # steps' order rule is not its to keep (observations.py checks its own bounds).
        return handler(_Decision(ctx, command), command)
    if state.last_occurred_at is not None and at < state.last_occurred_at:
        raise InvalidInput(
            "occurred_at is before the case's last recorded event; record events in clinical order"
        )
    _check_step(ctx, name)
    return handler(_Decision(ctx, command), command)
