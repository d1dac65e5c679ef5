"""Recording: fold one event into the case's state. Pure, reads no catalog, never raises.

``apply`` trusts the log: the decision was taken (and its facts recorded) when the event was
written, so a replay under a newer catalog rebuilds the same state. What ``apply`` cannot read
(an unknown type or version, malformed data, an event in a step the machine does not allow)
is kept in ``state.anomalies`` for a person to look at; it is never a reason to fail a replay.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any

from cartflow.domain.catalog import SiteProtocolValue
from cartflow.domain.events import Event
from cartflow.domain.journey import event_types as T
from cartflow.domain.journey import labels, outcomes, patient_access, plans
from cartflow.domain.journey import payloads as P
from cartflow.domain.journey.state import (
    AntigenResult,
    Bag,
    BedsideCheck,
    Booking,
    CaseState,
    Collection,
    Deviation,
    ExceptionRecord,
    Infusion,
    LdCourse,
    MarrowBlastCount,
    Measurement,
    QualityDecision,
    Quarantine,
    Release,
    SignatureRecord,
    TemperatureReading,
    Thaw,
    ToxicityGrade,
)
from cartflow.domain.journey.steps import TERMINAL, Step, allowed
from cartflow.domain.journey.time_windows import add_years

FOLLOW_UP_YEARS = 15
"""Long-term follow-up after a gene-modified cell therapy lasts 15 years from infusion."""

Handler = Callable[[CaseState, Event, Any], CaseState]
"""A fold of one event type: the state, the event's envelope and its parsed payload (the
class :data:`~cartflow.domain.journey.payloads.PAYLOADS` names for the type)."""


def _signed(state: CaseState, e: Event, signature: P.SignedBy) -> tuple[CaseState, SignatureRecord]:
    sig = SignatureRecord(
        e.type, signature.signer_id, signature.role, signature.meaning, signature.signed_at
    )
    return dataclasses.replace(state, signatures=(*state.signatures, sig)), sig


def _exception(
    kind: str, e: Event, reason: str, sig: SignatureRecord, **details: Any
) -> ExceptionRecord:
    return ExceptionRecord(kind, reason, sig.signer_id, sig.role, e.occurred_at, details)


def _bags(bags: tuple[P.BagRecord, ...]) -> tuple[Bag, ...]:
    return tuple(
        Bag(b.bag_id, b.lot, b.part, b.day, b.tolerance_days, b.expires_at) for b in bags
    )


def _release(
    e: Event, p: P.ProductReleased | P.ProductOutOfSpecification, sig: SignatureRecord
) -> Release:
    return Release(
        dose_cells=p.dose_cells,
        dose_min=p.dose_min,
        dose_max=p.dose_max,
        weight_kg=p.weight_kg,
        in_range=p.in_range,
        signer_id=sig.signer_id,
        signer_role=sig.role,
        at=e.occurred_at,
    )


# --- one handler per event type ---------------------------------------------------------------


def _referred(s: CaseState, e: Event, p: P.CaseReferred) -> CaseState:
    return dataclasses.replace(
        s,
        step=Step.REFERRED,
        coi=p.coi,
        product_id=p.product,
        indication_id=p.indication,
        region=p.region,
        site=e.site,
        site_timezone=p.site_timezone,
        referred_at=e.occurred_at,
    )


def _antigen(s: CaseState, e: Event, p: P.AntigenTested) -> CaseState:
    result = AntigenResult(p.antigen, p.positive, p.qualifies, e.occurred_at)
    step = Step.ANTIGEN_TESTED if result.qualifies else s.step
    return dataclasses.replace(s, step=step, antigen_tests=(*s.antigen_tests, result))


def _eligibility(s: CaseState, e: Event, p: P.EligibilitySigned) -> CaseState:
    s, sig = _signed(s, e, p.signature)
    return dataclasses.replace(s, step=Step.ELIGIBLE, eligibility_signer=sig.signer_id)


def _off_label(s: CaseState, e: Event, p: P.OffLabelEligibility) -> CaseState:
    s, sig = _signed(s, e, p.signature)
    record = _exception("off_label_eligibility", e, p.reason, sig, judged=p.judged)
    return dataclasses.replace(
        s,
        step=Step.ELIGIBLE,
        eligibility_signer=sig.signer_id,
        exceptions=(*s.exceptions, record),
    )


def _screening(s: CaseState, e: Event, p: P.ScreeningRecorded) -> CaseState:
    return dataclasses.replace(
        s, step=Step.SCREENED if p.cleared else s.step, screening_cleared=p.cleared
    )


def _new_product_cycle(s: CaseState) -> CaseState:
    """A re-collection after disposal: the next product starts from nothing."""
    return dataclasses.replace(
        s,
        order_ref="",
        order_din="",
        order_weight_kg=None,
        out_of_specification_reason="",
        release=None,
        bags=(),
        shipped_at=None,
        temperatures=(),
        quarantine=None,
        received_at=None,
        storage_location="",
        available_at=None,
        ld_courses=(),
        ld_omission=None,
        thaws=(),
        product_disposed=False,
        expired_reason="",
        disposal_reason="",
    )


def _apheresis(s: CaseState, e: Event, p: P.ApheresisScheduled) -> CaseState:
    if s.step is Step.PRODUCT_DISPOSED:
        s = _new_product_cycle(s)
    return dataclasses.replace(
        s, step=Step.APHERESIS_SCHEDULED, apheresis_slots=(*s.apheresis_slots, p.slot_at)
    )


def _collected(s: CaseState, e: Event, p: P.CollectionRecorded) -> CaseState:
    collection = Collection(p.din, e.occurred_at, True)
    return dataclasses.replace(s, step=Step.COLLECTED, collections=(*s.collections, collection))


def _collection_failed(s: CaseState, e: Event, p: P.CollectionFailed) -> CaseState:
    collection = Collection(p.din, e.occurred_at, False, p.reason)
    return dataclasses.replace(
        s, step=Step.COLLECTION_FAILED, collections=(*s.collections, collection)
    )


def _bridging(s: CaseState, e: Event, p: P.BridgingGiven) -> CaseState:
    step = Step.BRIDGING if s.step is Step.COLLECTED else s.step
    return dataclasses.replace(s, step=step, bridging=(*s.bridging, p.regimen))


def _weighed(s: CaseState, e: Event, p: P.PatientWeighed) -> CaseState:
    return dataclasses.replace(s, latest_weight_kg=p.weight_kg)


def _manufacturing(s: CaseState, e: Event, p: P.ManufacturingStarted) -> CaseState:
    return dataclasses.replace(
        s,
        step=Step.MANUFACTURING,
        order_ref=p.order_ref,
        order_din=p.din,
        order_weight_kg=p.weight_kg,
    )


def _released(s: CaseState, e: Event, p: P.ProductReleased) -> CaseState:
    s, sig = _signed(s, e, p.signature)
    return dataclasses.replace(
        s,
        step=Step.RELEASED,
        release=_release(e, p, sig),
        bags=_bags(p.bags),
        product_cycles=s.product_cycles + 1,
    )


def _out_of_spec(s: CaseState, e: Event, p: P.ProductOutOfSpecification) -> CaseState:
    s, sig = _signed(s, e, p.signature)
    return dataclasses.replace(
        s,
        step=Step.OUT_OF_SPECIFICATION,
        release=_release(e, p, sig),
        bags=_bags(p.bags),
        out_of_specification_reason=p.reason,
        product_cycles=s.product_cycles + 1,
    )


def _oos_accepted(s: CaseState, e: Event, p: P.OosAccepted) -> CaseState:
    s, sig = _signed(s, e, p.signature)
    decision = QualityDecision("out_of_specification", True, p.reason, sig.signer_id, e.occurred_at)
    release = dataclasses.replace(s.release, under_exception=True) if s.release else None
    return dataclasses.replace(
        s,
        step=Step.RELEASED,
        release=release,
        exceptions=(*s.exceptions, _exception("out_of_specification_accepted", e, p.reason, sig)),
        quality_decisions=(*s.quality_decisions, decision),
    )


def _oos_rejected(s: CaseState, e: Event, p: P.OosRejected) -> CaseState:
    s, sig = _signed(s, e, p.signature)
    decision = QualityDecision(
        "out_of_specification", False, p.reason, sig.signer_id, e.occurred_at
    )
    return dataclasses.replace(
        s, step=Step.PRODUCT_REJECTED, quality_decisions=(*s.quality_decisions, decision)
    )


def _shipped(s: CaseState, e: Event, p: P.ProductShipped) -> CaseState:
    return dataclasses.replace(s, step=Step.SHIPPED, shipped_at=e.occurred_at)


def _temperature(s: CaseState, e: Event, p: P.TemperatureRecorded) -> CaseState:
    reading = TemperatureReading(p.celsius, p.limit_celsius, p.excursion, p.location, e.occurred_at)
    s = dataclasses.replace(s, temperatures=(*s.temperatures, reading))
    if not reading.excursion or s.step is Step.QUARANTINED:
        return s
    reason = (
        f"{reading.celsius:g} °C at {reading.location}, above the storage limit of "
        f"{reading.limit_celsius:g} °C"
    )
    return dataclasses.replace(
        s, step=Step.QUARANTINED, quarantine=Quarantine(e.occurred_at, s.step, reason)
    )


def _quarantine_released(s: CaseState, e: Event, p: P.QuarantineReleased) -> CaseState:
    s, sig = _signed(s, e, p.signature)
    decision = QualityDecision("quarantine", True, p.reason, sig.signer_id, e.occurred_at)
    back = s.quarantine.from_step if s.quarantine is not None else s.step
    return dataclasses.replace(
        s, step=back, quarantine=None, quality_decisions=(*s.quality_decisions, decision)
    )


def _quarantine_rejected(s: CaseState, e: Event, p: P.QuarantineRejected) -> CaseState:
    s, sig = _signed(s, e, p.signature)
    decision = QualityDecision("quarantine", False, p.reason, sig.signer_id, e.occurred_at)
    return dataclasses.replace(
        s,
        step=Step.PRODUCT_REJECTED,
        quarantine=None,
        quality_decisions=(*s.quality_decisions, decision),
    )


def _received(s: CaseState, e: Event, p: P.ProductReceived) -> CaseState:
    reading = TemperatureReading(p.celsius, p.limit_celsius, False, "receipt", e.occurred_at)
    return dataclasses.replace(
        s,
        step=Step.RECEIVED,
        received_at=e.occurred_at,
        storage_location=p.storage_location,
        temperatures=(*s.temperatures, reading),
    )


def _available(s: CaseState, e: Event, p: P.AvailabilityConfirmed) -> CaseState:
    return dataclasses.replace(s, step=Step.AVAILABLE, available_at=e.occurred_at)


def _site_protocol(s: CaseState, e: Event, p: P.SiteProtocolRecorded) -> CaseState:
    s, sig = _signed(s, e, p.signature)
    value = SiteProtocolValue(
        indication=p.indication,
        fact=p.fact,
        value=p.value,
        document_ref=p.document_ref,
        signed_by=sig.signer_id,
        signed_on=p.effective_on,
    )
    kept = tuple(
        v for v in s.site_values if not (v.fact == value.fact and v.indication == value.indication)
    )
    return dataclasses.replace(s, site_values=(*kept, value))


def _fludarabine(s: CaseState, e: Event, p: P.FludarabineModified) -> CaseState:
    s, sig = _signed(s, e, p.signature)
    record = _exception(
        "fludarabine_dose_modified",
        e,
        p.reason,
        sig,
        creatinine_clearance_ml_min=p.creatinine_clearance_ml_min,
        reduction_percent=p.reduction_percent,
    )
    return dataclasses.replace(s, exceptions=(*s.exceptions, record))


def _ld_started(s: CaseState, e: Event, p: P.LdStarted) -> CaseState:
    course = LdCourse(p.regimen, e.occurred_at, None, p.repeat, p.scheduled_days)
    return dataclasses.replace(
        s, step=Step.LYMPHODEPLETING, ld_courses=(*s.ld_courses, course), ld_omission=None
    )


def _ld_completed(s: CaseState, e: Event, p: P.LdCompleted) -> CaseState:
    if not s.ld_courses:
        raise P.MalformedData("lymphodepletion completed without a course started")
    last = dataclasses.replace(s.ld_courses[-1], completed_at=e.occurred_at)
    return dataclasses.replace(s, step=Step.LYMPHODEPLETED, ld_courses=(*s.ld_courses[:-1], last))


def _ld_stopped_early(s: CaseState, e: Event, p: P.LdStoppedEarly) -> CaseState:
    if not s.ld_courses:
        raise P.MalformedData("lymphodepletion stopped without a course started")
    s, sig = _signed(s, e, p.signature)
    record = _exception(
        "lymphodepletion_stopped_early", e, p.reason, sig, day_of_course=p.day_of_course
    )
    last = dataclasses.replace(s.ld_courses[-1], completed_at=e.occurred_at, stopped_early=True)
    return dataclasses.replace(
        s,
        step=Step.LYMPHODEPLETED,
        ld_courses=(*s.ld_courses[:-1], last),
        exceptions=(*s.exceptions, record),
    )


def _ld_omitted(s: CaseState, e: Event, p: P.LdOmitted) -> CaseState:
    s, sig = _signed(s, e, p.signature)
    record = _exception(
        "lymphodepletion_omitted",
        e,
        p.reason,
        sig,
        wbc_per_l=p.wbc_per_l,
        wbc_measured_at=p.wbc_measured_at.isoformat(),
        limit_per_l=p.limit_per_l,
    )
    return dataclasses.replace(
        s, step=Step.LYMPHODEPLETED, ld_omission=record, exceptions=(*s.exceptions, record)
    )


def _thawed(s: CaseState, e: Event, p: P.ProductThawed) -> CaseState:
    return dataclasses.replace(s, step=Step.THAWED, thaws=(*s.thaws, Thaw(p.bag_id, e.occurred_at)))


def _infused(s: CaseState, e: Event, p: P.ProductInfused) -> CaseState:
    s, sig = _signed(s, e, p.signature)
    infusion = Infusion(p.bag_id, p.part, e.occurred_at, sig.signer_id, p.performer_id)
    s = dataclasses.replace(s, infusions=(*s.infusions, infusion))
    return dataclasses.replace(s, step=Step.INFUSING if s.remaining_bags else Step.INFUSED)


def _monitoring_started(s: CaseState, e: Event, p: P.MonitoringStarted) -> CaseState:
    return dataclasses.replace(s, step=Step.MONITORING, monitoring_started_at=e.occurred_at)


def _follow_up_until(s: CaseState, p: P.MonitoringCompleted) -> date | None:
    if p.follow_up_until is not None:
        return p.follow_up_until
    first = s.first_infusion_at
    if first is None:
        return None
    return add_years(first.date(), FOLLOW_UP_YEARS)


def _monitoring_completed(s: CaseState, e: Event, p: P.MonitoringCompleted) -> CaseState:
    return dataclasses.replace(
        s,
        step=Step.LONG_TERM_FOLLOW_UP,
        monitoring_completed_at=e.occurred_at,
        follow_up_until=_follow_up_until(s, p),
    )


def _visit(s: CaseState, e: Event, p: P.FollowUpVisit) -> CaseState:
    return dataclasses.replace(s, follow_up_visits=s.follow_up_visits + 1)


def _follow_up_completed(s: CaseState, e: Event, p: P.FollowUpCompleted) -> CaseState:
    return dataclasses.replace(
        s, step=Step.FOLLOW_UP_COMPLETED, reason="15-year follow-up completed"
    )


def _signed_if(s: CaseState, e: Event, signature: P.SignedBy | None) -> CaseState:
    """Version 1 of a withdrawal or a death carried no signature; version 2 does."""
    return s if signature is None else _signed(s, e, signature)[0]


def _withdrawn(s: CaseState, e: Event, p: P.CaseWithdrawn) -> CaseState:
    s = _signed_if(s, e, p.signature)
    return dataclasses.replace(s, step=Step.WITHDRAWN, reason=p.reason)


def _deceased(s: CaseState, e: Event, p: P.CaseDeceased) -> CaseState:
    s = _signed_if(s, e, p.signature)
    return dataclasses.replace(s, step=Step.DECEASED, reason=p.reason)


def _expired(s: CaseState, e: Event, p: P.ProductExpired) -> CaseState:
    return dataclasses.replace(
        s, step=Step.PRODUCT_EXPIRED, quarantine=None, expired_reason=p.reason
    )


def _disposed(s: CaseState, e: Event, p: P.ProductDisposed) -> CaseState:
    s, _sig = _signed(s, e, p.signature)
    step = s.step if s.step in TERMINAL else Step.PRODUCT_DISPOSED
    return dataclasses.replace(s, step=step, product_disposed=True, disposal_reason=p.reason)


# --- records beside the steps (T.OBSERVATION_TYPES) ------------------------------------------


def _recorded_at(e: Event) -> datetime:
    return e.recorded_at or e.occurred_at


def _bedside_verified(s: CaseState, e: Event, p: P.BedsideVerified) -> CaseState:
    check = BedsideCheck(
        p.bag_id, p.performer.user_id, p.witness, e.occurred_at, p.wristband, p.bag_label
    )
    return dataclasses.replace(s, bedside_checks=(*s.bedside_checks, check))


def _grade(e: Event, p: P.CrsGraded | P.IcansGraded) -> ToxicityGrade:
    return ToxicityGrade(
        p.grade, e.occurred_at, _recorded_at(e), e.actor, dict(p.observed), p.reason
    )


def _crs_graded(s: CaseState, e: Event, p: P.CrsGraded) -> CaseState:
    return dataclasses.replace(s, crs_grades=(*s.crs_grades, _grade(e, p)))


def _icans_graded(s: CaseState, e: Event, p: P.IcansGraded) -> CaseState:
    return dataclasses.replace(s, icans_grades=(*s.icans_grades, _grade(e, p)))


def _marrow_blasts(s: CaseState, e: Event, p: P.MarrowBlastsRecorded) -> CaseState:
    count = MarrowBlastCount(p.blast_percent, e.occurred_at, _recorded_at(e), e.actor)
    return dataclasses.replace(s, marrow_blasts=(*s.marrow_blasts, count))


def _measured(s: CaseState, e: Event, p: P.KineticsMeasured) -> CaseState:
    measurement = Measurement(
        p.day, p.copies_per_ug, p.lloq, p.censored, e.occurred_at, _recorded_at(e), e.actor
    )
    return dataclasses.replace(s, measurements=(*s.measurements, measurement))


def _slot_booked(s: CaseState, e: Event, p: P.SlotBooked) -> CaseState:
    booking = Booking(p.slot, p.kind, p.site, p.day, e.occurred_at)
    return dataclasses.replace(s, bookings=(*s.bookings, booking))


def _deviation_opened(s: CaseState, e: Event, p: P.DeviationOpened) -> CaseState:
    deviation = Deviation(p.kind, p.summary, e.occurred_at, e.actor, dict(p.details))
    return dataclasses.replace(s, deviations=(*s.deviations, deviation))


def _deviation_reviewed(s: CaseState, e: Event, p: P.DeviationReviewed) -> CaseState:
    s, sig = _signed(s, e, p.signature)
    deviations = list(s.deviations)
    for number in p.numbers:
        if 1 <= number <= len(deviations) and not deviations[number - 1].reviewed:
            deviations[number - 1] = dataclasses.replace(
                deviations[number - 1],
                reviewed_by=sig.signer_id,
                reviewed_at=e.occurred_at,
                review_comment=p.comment,
            )
    return dataclasses.replace(s, deviations=tuple(deviations))


HANDLERS: dict[str, Handler] = {
    T.CASE_REFERRED: _referred,
    T.ANTIGEN_TESTED: _antigen,
    T.ELIGIBILITY_SIGNED: _eligibility,
    T.OFF_LABEL_ELIGIBILITY: _off_label,
    T.SCREENING_RECORDED: _screening,
    T.APHERESIS_SCHEDULED: _apheresis,
    T.COLLECTION_RECORDED: _collected,
    T.COLLECTION_FAILED: _collection_failed,
    T.BRIDGING_GIVEN: _bridging,
    T.PATIENT_WEIGHED: _weighed,
    T.MANUFACTURING_STARTED: _manufacturing,
    T.PRODUCT_RELEASED: _released,
    T.PRODUCT_OUT_OF_SPECIFICATION: _out_of_spec,
    T.OOS_ACCEPTED: _oos_accepted,
    T.OOS_REJECTED: _oos_rejected,
    T.PRODUCT_SHIPPED: _shipped,
    T.TEMPERATURE_RECORDED: _temperature,
    T.QUARANTINE_RELEASED: _quarantine_released,
    T.QUARANTINE_REJECTED: _quarantine_rejected,
    T.PRODUCT_RECEIVED: _received,
    T.AVAILABILITY_CONFIRMED: _available,
    T.SITE_PROTOCOL_RECORDED: _site_protocol,
    T.FLUDARABINE_MODIFIED: _fludarabine,
    T.LD_STARTED: _ld_started,
    T.LD_COMPLETED: _ld_completed,
    T.LD_STOPPED_EARLY: _ld_stopped_early,
    T.LD_OMITTED: _ld_omitted,
    T.PRODUCT_THAWED: _thawed,
    T.PRODUCT_INFUSED: _infused,
    T.MONITORING_STARTED: _monitoring_started,
    T.MONITORING_COMPLETED: _monitoring_completed,
    T.FOLLOW_UP_VISIT: _visit,
    T.FOLLOW_UP_COMPLETED: _follow_up_completed,
    T.CASE_WITHDRAWN: _withdrawn,
    T.CASE_DECEASED: _deceased,
    T.PRODUCT_EXPIRED: _expired,
    T.PRODUCT_DISPOSED: _disposed,
    T.BEDSIDE_VERIFIED: _bedside_verified,
    T.CRS_GRADED: _crs_graded,
    T.ICANS_GRADED: _icans_graded,
    T.KINETICS_MEASURED: _measured,
    T.MARROW_BLASTS_RECORDED: _marrow_blasts,
    T.DEVIATION_OPENED: _deviation_opened,
    T.DEVIATION_REVIEWED: _deviation_reviewed,
    T.SLOT_BOOKED: _slot_booked,
    T.LABEL_PRINTED: labels.fold_printed,
    T.LABEL_APPLIED: labels.fold_applied,
    T.LABEL_REPRINTED: labels.fold_reprinted,
    T.LABEL_VOIDED: labels.fold_voided,
    T.RESPONSE_ASSESSED: outcomes.fold_response,
    T.TOXICITY_RESOLVED: outcomes.fold_resolution,
    T.PLAN_ACCEPTED: plans.fold_accepted,
    T.PLAN_SLOT_CONFIRMED: plans.fold_confirmed,
    T.PLAN_SLOT_DECLINED: plans.fold_declined,
    T.PLAN_RELEASED: plans.fold_released,
}


def _noted(state: CaseState, event_type: str, note: str) -> CaseState:
    return dataclasses.replace(state, anomalies=(*state.anomalies, f"{event_type}: {note}"))


def apply(state: CaseState, event: Event) -> CaseState:
    """The state after ``event``. Never raises; what it cannot read becomes an anomaly."""
    if getattr(event, "type", None) in patient_access.EVENT_TYPES:
        return patient_access.apply(state, event)  # beside the steps: no count, no clock
    try:
        if event.type in T.OBSERVATION_TYPES:
            counted = state
        else:
            counted = dataclasses.replace(
                state,
                events_applied=state.events_applied + 1,
                last_occurred_at=max(state.last_occurred_at, event.occurred_at)
                if state.last_occurred_at is not None
                else event.occurred_at,
            )
    except Exception as exc:  # an event object that is not an Event at all
        return _noted(state, "unreadable event", type(exc).__name__)
    handler = HANDLERS.get(event.type)
    if handler is None:
        return _noted(counted, str(event.type), "unknown event type, not applied")
    if event.schema_version not in T.READABLE_VERSIONS[event.type]:
        return _noted(
            counted, event.type, f"unknown schema version {event.schema_version}, not applied"
        )
    try:
        after = handler(counted, event, P.read(event))
    except Exception as exc:  # malformed data from an old or foreign writer
        return _noted(counted, event.type, f"malformed data, not applied ({exc})")
    if not allowed(state.step, after.step):
        after = _noted(
            after,
            event.type,
            f"moved the case from {state.step.value} to {after.step.value}, "
            "a move the journey does not allow",
        )
    return after


def replay(
    events: Iterable[Event | Mapping[str, Any]], start: CaseState | None = None
) -> CaseState:
    """The state after every event in order; event bodies (``Event.to_body()``) are accepted."""
    state = start if start is not None else CaseState()
    for item in events:
        if isinstance(item, Event):
            state = apply(state, item)
            continue
        try:
            event = Event.from_body(item)
        except Exception as exc:
            state = _noted(state, "unreadable event body", f"{type(exc).__name__}: not applied")
            continue
        state = apply(state, event)
    return state
