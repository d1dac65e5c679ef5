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
from cartflow.domain.journey import labels, outcomes, patient_access
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

Data = Mapping[str, Any]
Handler = Callable[[CaseState, Event, Data], CaseState]


class _Malformed(Exception):
    """A field of a recorded event is missing or of the wrong type (kept as an anomaly)."""


def _str(d: Data, key: str, default: str | None = None) -> str:
    value = d.get(key, default)
    if not isinstance(value, str):
        raise _Malformed(f"field {key!r} is not text")
    return value


def _bool(d: Data, key: str, default: bool | None = None) -> bool:
    value = d.get(key, default)
    if not isinstance(value, bool):
        raise _Malformed(f"field {key!r} is not true/false")
    return value


def _num(d: Data, key: str) -> float:
    value = d.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Malformed(f"field {key!r} is not a number")
    return float(value)


def _opt_num(d: Data, key: str) -> float | None:
    return None if d.get(key) is None else _num(d, key)


def _int(d: Data, key: str, default: int | None = None) -> int:
    value = d.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Malformed(f"field {key!r} is not a whole number")
    return value


def _dt(d: Data, key: str) -> datetime:
    try:
        value = datetime.fromisoformat(_str(d, key))
    except ValueError as exc:
        raise _Malformed(f"field {key!r} is not a date and time") from exc
    if value.tzinfo is None:
        raise _Malformed(f"field {key!r} has no time zone")
    return value


def _date(d: Data, key: str) -> date:
    try:
        return date.fromisoformat(_str(d, key))
    except ValueError as exc:
        raise _Malformed(f"field {key!r} is not a date") from exc


def _map(d: Data, key: str) -> Data:
    value = d.get(key)
    if not isinstance(value, Mapping):
        raise _Malformed(f"field {key!r} is not an object")
    return value


def _signature(e: Event, d: Data) -> SignatureRecord:
    s = _map(d, "signature")
    return SignatureRecord(
        e.type, _str(s, "signer_id"), _str(s, "role"), _str(s, "meaning"), _str(s, "signed_at")
    )


def _signed(state: CaseState, e: Event, d: Data) -> tuple[CaseState, SignatureRecord]:
    sig = _signature(e, d)
    return dataclasses.replace(state, signatures=(*state.signatures, sig)), sig


def _exception(
    kind: str, e: Event, d: Data, sig: SignatureRecord, **details: Any
) -> ExceptionRecord:
    return ExceptionRecord(kind, _str(d, "reason"), sig.signer_id, sig.role, e.occurred_at, details)


def _bags(d: Data) -> tuple[Bag, ...]:
    raw = d.get("bags")
    if not isinstance(raw, list):
        raise _Malformed("field 'bags' is not a list")
    bags = []
    for item in raw:
        if not isinstance(item, Mapping):
            raise _Malformed("a bag is not an object")
        bags.append(
            Bag(
                _str(item, "bag_id"),
                _str(item, "lot"),
                _int(item, "part", 1),
                _int(item, "day", 1),
                _int(item, "tolerance_days", 0),
            )
        )
    return tuple(bags)


def _release(e: Event, d: Data, sig: SignatureRecord) -> Release:
    dose_range = _map(d, "dose_range")
    return Release(
        dose_cells=_num(d, "dose_cells"),
        dose_min=_opt_num(dose_range, "min"),
        dose_max=_opt_num(dose_range, "max"),
        weight_kg=_opt_num(d, "weight_kg"),
        in_range=_bool(d, "in_range"),
        signer_id=sig.signer_id,
        signer_role=sig.role,
        at=e.occurred_at,
    )


# --- one handler per event type ---------------------------------------------------------------


def _referred(s: CaseState, e: Event, d: Data) -> CaseState:
    zone_key = "tz" if e.schema_version == 1 else "site_timezone"
    return dataclasses.replace(
        s,
        step=Step.REFERRED,
        coi=_str(d, "coi"),
        product_id=_str(d, "product"),
        indication_id=_str(d, "indication"),
        region=_str(d, "region"),
        site=e.site,
        site_timezone=_str(d, zone_key),
        referred_at=e.occurred_at,
    )


def _antigen(s: CaseState, e: Event, d: Data) -> CaseState:
    result = AntigenResult(
        _str(d, "antigen"), _bool(d, "positive"), _bool(d, "qualifies"), e.occurred_at
    )
    step = Step.ANTIGEN_TESTED if result.qualifies else s.step
    return dataclasses.replace(s, step=step, antigen_tests=(*s.antigen_tests, result))


def _eligibility(s: CaseState, e: Event, d: Data) -> CaseState:
    s, sig = _signed(s, e, d)
    return dataclasses.replace(s, step=Step.ELIGIBLE, eligibility_signer=sig.signer_id)


def _off_label(s: CaseState, e: Event, d: Data) -> CaseState:
    s, sig = _signed(s, e, d)
    record = _exception("off_label_eligibility", e, d, sig, judged=_str(d, "judged"))
    return dataclasses.replace(
        s,
        step=Step.ELIGIBLE,
        eligibility_signer=sig.signer_id,
        exceptions=(*s.exceptions, record),
    )


def _screening(s: CaseState, e: Event, d: Data) -> CaseState:
    cleared = _bool(d, "cleared")
    return dataclasses.replace(
        s, step=Step.SCREENED if cleared else s.step, screening_cleared=cleared
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


def _apheresis(s: CaseState, e: Event, d: Data) -> CaseState:
    slot = _dt(d, "slot_at")
    if s.step is Step.PRODUCT_DISPOSED:
        s = _new_product_cycle(s)
    return dataclasses.replace(
        s, step=Step.APHERESIS_SCHEDULED, apheresis_slots=(*s.apheresis_slots, slot)
    )


def _collected(s: CaseState, e: Event, d: Data) -> CaseState:
    collection = Collection(_str(d, "din"), e.occurred_at, True)
    return dataclasses.replace(s, step=Step.COLLECTED, collections=(*s.collections, collection))


def _collection_failed(s: CaseState, e: Event, d: Data) -> CaseState:
    collection = Collection(_str(d, "din"), e.occurred_at, False, _str(d, "reason"))
    return dataclasses.replace(
        s, step=Step.COLLECTION_FAILED, collections=(*s.collections, collection)
    )


def _bridging(s: CaseState, e: Event, d: Data) -> CaseState:
    step = Step.BRIDGING if s.step is Step.COLLECTED else s.step
    return dataclasses.replace(s, step=step, bridging=(*s.bridging, _str(d, "regimen")))


def _weighed(s: CaseState, e: Event, d: Data) -> CaseState:
    return dataclasses.replace(s, latest_weight_kg=_num(d, "weight_kg"))


def _manufacturing(s: CaseState, e: Event, d: Data) -> CaseState:
    return dataclasses.replace(
        s,
        step=Step.MANUFACTURING,
        order_ref=_str(d, "order_ref"),
        order_din=_str(d, "din"),
        order_weight_kg=_num(d, "weight_kg"),
    )


def _released(s: CaseState, e: Event, d: Data) -> CaseState:
    s, sig = _signed(s, e, d)
    return dataclasses.replace(
        s,
        step=Step.RELEASED,
        release=_release(e, d, sig),
        bags=_bags(d),
        product_cycles=s.product_cycles + 1,
    )


def _out_of_spec(s: CaseState, e: Event, d: Data) -> CaseState:
    s, sig = _signed(s, e, d)
    return dataclasses.replace(
        s,
        step=Step.OUT_OF_SPECIFICATION,
        release=_release(e, d, sig),
        bags=_bags(d),
        out_of_specification_reason=_str(d, "reason"),
        product_cycles=s.product_cycles + 1,
    )


def _oos_accepted(s: CaseState, e: Event, d: Data) -> CaseState:
    s, sig = _signed(s, e, d)
    decision = QualityDecision(
        "out_of_specification", True, _str(d, "reason"), sig.signer_id, e.occurred_at
    )
    release = dataclasses.replace(s.release, under_exception=True) if s.release else None
    return dataclasses.replace(
        s,
        step=Step.RELEASED,
        release=release,
        exceptions=(*s.exceptions, _exception("out_of_specification_accepted", e, d, sig)),
        quality_decisions=(*s.quality_decisions, decision),
    )


def _oos_rejected(s: CaseState, e: Event, d: Data) -> CaseState:
    s, sig = _signed(s, e, d)
    decision = QualityDecision(
        "out_of_specification", False, _str(d, "reason"), sig.signer_id, e.occurred_at
    )
    return dataclasses.replace(
        s, step=Step.PRODUCT_REJECTED, quality_decisions=(*s.quality_decisions, decision)
    )


def _shipped(s: CaseState, e: Event, d: Data) -> CaseState:
    _str(d, "courier")
    return dataclasses.replace(s, step=Step.SHIPPED, shipped_at=e.occurred_at)


def _reading(e: Event, d: Data) -> TemperatureReading:
    return TemperatureReading(
        _num(d, "celsius"),
        _num(d, "limit_celsius"),
        _bool(d, "excursion"),
        _str(d, "location"),
        e.occurred_at,
    )


def _temperature(s: CaseState, e: Event, d: Data) -> CaseState:
    reading = _reading(e, d)
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


def _quarantine_released(s: CaseState, e: Event, d: Data) -> CaseState:
    s, sig = _signed(s, e, d)
    decision = QualityDecision("quarantine", True, _str(d, "reason"), sig.signer_id, e.occurred_at)
    back = s.quarantine.from_step if s.quarantine is not None else s.step
    return dataclasses.replace(
        s, step=back, quarantine=None, quality_decisions=(*s.quality_decisions, decision)
    )


def _quarantine_rejected(s: CaseState, e: Event, d: Data) -> CaseState:
    s, sig = _signed(s, e, d)
    decision = QualityDecision("quarantine", False, _str(d, "reason"), sig.signer_id, e.occurred_at)
    return dataclasses.replace(
        s,
        step=Step.PRODUCT_REJECTED,
        quarantine=None,
        quality_decisions=(*s.quality_decisions, decision),
    )


def _received(s: CaseState, e: Event, d: Data) -> CaseState:
    reading = TemperatureReading(
        _num(d, "celsius"), _num(d, "limit_celsius"), False, "receipt", e.occurred_at
    )
    return dataclasses.replace(
        s,
        step=Step.RECEIVED,
        received_at=e.occurred_at,
        storage_location=_str(d, "storage_location"),
        temperatures=(*s.temperatures, reading),
    )


def _available(s: CaseState, e: Event, d: Data) -> CaseState:
    return dataclasses.replace(s, step=Step.AVAILABLE, available_at=e.occurred_at)


def _site_protocol(s: CaseState, e: Event, d: Data) -> CaseState:
    s, sig = _signed(s, e, d)
    value = SiteProtocolValue(
        indication=_str(d, "indication"),
        fact=_str(d, "fact"),
        value=d.get("value"),
        document_ref=_str(d, "document_ref"),
        signed_by=sig.signer_id,
        signed_on=_date(d, "effective_on"),
    )
    kept = tuple(
        v for v in s.site_values if not (v.fact == value.fact and v.indication == value.indication)
    )
    return dataclasses.replace(s, site_values=(*kept, value))


def _fludarabine(s: CaseState, e: Event, d: Data) -> CaseState:
    s, sig = _signed(s, e, d)
    record = _exception(
        "fludarabine_dose_modified",
        e,
        d,
        sig,
        creatinine_clearance_ml_min=_num(d, "creatinine_clearance_ml_min"),
        reduction_percent=_num(d, "reduction_percent"),
    )
    return dataclasses.replace(s, exceptions=(*s.exceptions, record))


def _scheduled_days(d: Data) -> int | None:
    """How many days the regimen runs, from its recorded drugs (``None`` for a v1 event)."""
    drugs = d.get("regimen_drugs")
    if not isinstance(drugs, list) or not drugs:
        return None
    spans = []
    for drug in drugs:
        if not isinstance(drug, Mapping):
            raise _Malformed("a regimen drug is not an object")
        on_days = drug.get("on_days")
        if isinstance(on_days, list) and on_days and all(isinstance(x, int) for x in on_days):
            spans.append(int(max(on_days)) - int(min(on_days)) + 1)
        else:
            spans.append(_int(drug, "days"))
    return max(spans)


def _ld_started(s: CaseState, e: Event, d: Data) -> CaseState:
    # v1 recorded the regimen as free text; v2 records the catalog regimen id (with its drugs
    # in "regimen_drugs"): both keep the regimen under "regimen".
    course = LdCourse(
        _str(d, "regimen"), e.occurred_at, None, _bool(d, "repeat"), _scheduled_days(d)
    )
    return dataclasses.replace(
        s, step=Step.LYMPHODEPLETING, ld_courses=(*s.ld_courses, course), ld_omission=None
    )


def _ld_completed(s: CaseState, e: Event, d: Data) -> CaseState:
    if not s.ld_courses:
        raise _Malformed("lymphodepletion completed without a course started")
    last = dataclasses.replace(s.ld_courses[-1], completed_at=e.occurred_at)
    return dataclasses.replace(s, step=Step.LYMPHODEPLETED, ld_courses=(*s.ld_courses[:-1], last))


def _ld_stopped_early(s: CaseState, e: Event, d: Data) -> CaseState:
    if not s.ld_courses:
        raise _Malformed("lymphodepletion stopped without a course started")
    s, sig = _signed(s, e, d)
    record = _exception(
        "lymphodepletion_stopped_early", e, d, sig, day_of_course=_int(d, "day_of_course")
    )
    last = dataclasses.replace(s.ld_courses[-1], completed_at=e.occurred_at, stopped_early=True)
    return dataclasses.replace(
        s,
        step=Step.LYMPHODEPLETED,
        ld_courses=(*s.ld_courses[:-1], last),
        exceptions=(*s.exceptions, record),
    )


def _ld_omitted(s: CaseState, e: Event, d: Data) -> CaseState:
    s, sig = _signed(s, e, d)
    record = _exception(
        "lymphodepletion_omitted",
        e,
        d,
        sig,
        wbc_per_l=_num(d, "wbc_per_l"),
        wbc_measured_at=_dt(d, "wbc_measured_at").isoformat(),
        limit_per_l=_num(d, "limit_per_l"),
    )
    return dataclasses.replace(
        s, step=Step.LYMPHODEPLETED, ld_omission=record, exceptions=(*s.exceptions, record)
    )


def _thawed(s: CaseState, e: Event, d: Data) -> CaseState:
    return dataclasses.replace(
        s, step=Step.THAWED, thaws=(*s.thaws, Thaw(_str(d, "bag_id"), e.occurred_at))
    )


def _infused(s: CaseState, e: Event, d: Data) -> CaseState:
    s, sig = _signed(s, e, d)
    # v1 had one signer who scanned and signed; v2 names the performer beside the witness.
    performer = _map(d, "performer") if "performer" in d else {"user_id": sig.signer_id}
    infusion = Infusion(
        _str(d, "bag_id"),
        _int(d, "part", 1),
        e.occurred_at,
        sig.signer_id,
        _str(performer, "user_id"),
    )
    s = dataclasses.replace(s, infusions=(*s.infusions, infusion))
    return dataclasses.replace(s, step=Step.INFUSING if s.remaining_bags else Step.INFUSED)


def _monitoring_started(s: CaseState, e: Event, d: Data) -> CaseState:
    return dataclasses.replace(s, step=Step.MONITORING, monitoring_started_at=e.occurred_at)


def _follow_up_until(s: CaseState, d: Data) -> date | None:
    if d.get("follow_up_until") is not None:
        return _date(d, "follow_up_until")
    first = s.first_infusion_at
    if first is None:
        return None
    return add_years(first.date(), FOLLOW_UP_YEARS)


def _monitoring_completed(s: CaseState, e: Event, d: Data) -> CaseState:
    return dataclasses.replace(
        s,
        step=Step.LONG_TERM_FOLLOW_UP,
        monitoring_completed_at=e.occurred_at,
        follow_up_until=_follow_up_until(s, d),
    )


def _visit(s: CaseState, e: Event, d: Data) -> CaseState:
    return dataclasses.replace(s, follow_up_visits=s.follow_up_visits + 1)


def _follow_up_completed(s: CaseState, e: Event, d: Data) -> CaseState:
    return dataclasses.replace(
        s, step=Step.FOLLOW_UP_COMPLETED, reason="15-year follow-up completed"
    )


def _signed_if(s: CaseState, e: Event, d: Data) -> CaseState:
    """v1 of a withdrawal or a death carried no signature; v2 does."""
    return _signed(s, e, d)[0] if "signature" in d else s


def _withdrawn(s: CaseState, e: Event, d: Data) -> CaseState:
    s = _signed_if(s, e, d)
    return dataclasses.replace(s, step=Step.WITHDRAWN, reason=_str(d, "reason"))


def _deceased(s: CaseState, e: Event, d: Data) -> CaseState:
    s = _signed_if(s, e, d)
    return dataclasses.replace(s, step=Step.DECEASED, reason=_str(d, "reason"))


def _expired(s: CaseState, e: Event, d: Data) -> CaseState:
    return dataclasses.replace(
        s, step=Step.PRODUCT_EXPIRED, quarantine=None, expired_reason=_str(d, "reason")
    )


def _disposed(s: CaseState, e: Event, d: Data) -> CaseState:
    s, _sig = _signed(s, e, d)
    step = s.step if s.step in TERMINAL else Step.PRODUCT_DISPOSED
    return dataclasses.replace(
        s, step=step, product_disposed=True, disposal_reason=_str(d, "reason")
    )


# --- records beside the steps (T.OBSERVATION_TYPES) ------------------------------------------


def _recorded_at(e: Event) -> datetime:
    return e.recorded_at or e.occurred_at


def _bedside_verified(s: CaseState, e: Event, d: Data) -> CaseState:
    if e.schema_version == 1:
        # The clinic's own record, before the check was a command: {"matched": {..., "bag"}}.
        matched = _map(d, "matched")
        check = BedsideCheck(_str(matched, "bag", ""), e.actor, "", e.occurred_at)
    else:
        check = BedsideCheck(
            _str(d, "bag_id"),
            _str(_map(d, "performer"), "user_id"),
            _str(d, "witness"),
            e.occurred_at,
            _str(d, "wristband"),
            _str(d, "bag_label"),
        )
    return dataclasses.replace(s, bedside_checks=(*s.bedside_checks, check))


def _grade(e: Event, d: Data) -> ToxicityGrade:
    observed = _map(d, "observed")
    return ToxicityGrade(
        _int(d, "grade"),
        e.occurred_at,
        _recorded_at(e),
        e.actor,
        dict(observed),
        _str(d, "reason", ""),
    )


def _crs_graded(s: CaseState, e: Event, d: Data) -> CaseState:
    return dataclasses.replace(s, crs_grades=(*s.crs_grades, _grade(e, d)))


def _icans_graded(s: CaseState, e: Event, d: Data) -> CaseState:
    return dataclasses.replace(s, icans_grades=(*s.icans_grades, _grade(e, d)))


def _measured(s: CaseState, e: Event, d: Data) -> CaseState:
    measurement = Measurement(
        _num(d, "day"),
        _opt_num(d, "copies_per_ug"),
        _opt_num(d, "lloq"),
        _bool(d, "censored"),
        e.occurred_at,
        _recorded_at(e),
        e.actor,
    )
    return dataclasses.replace(s, measurements=(*s.measurements, measurement))


def _slot_booked(s: CaseState, e: Event, d: Data) -> CaseState:
    booking = Booking(
        _str(d, "slot"), _str(d, "kind"), _str(d, "site"), _date(d, "day"), e.occurred_at
    )
    return dataclasses.replace(s, bookings=(*s.bookings, booking))


def _deviation_opened(s: CaseState, e: Event, d: Data) -> CaseState:
    raw = d.get("details") or {}
    if not isinstance(raw, Mapping):
        raise _Malformed("field 'details' is not an object")
    details = {str(k): str(v) for k, v in raw.items()}
    deviation = Deviation(_str(d, "kind"), _str(d, "summary"), e.occurred_at, e.actor, details)
    return dataclasses.replace(s, deviations=(*s.deviations, deviation))


def _deviation_reviewed(s: CaseState, e: Event, d: Data) -> CaseState:
    s, sig = _signed(s, e, d)
    raw = d.get("numbers")
    if not isinstance(raw, list) or not all(isinstance(n, int) for n in raw):
        raise _Malformed("field 'numbers' is not a list of numbers")
    comment = _str(d, "comment")
    deviations = list(s.deviations)
    for number in raw:
        if 1 <= number <= len(deviations) and not deviations[number - 1].reviewed:
            deviations[number - 1] = dataclasses.replace(
                deviations[number - 1],
                reviewed_by=sig.signer_id,
                reviewed_at=e.occurred_at,
                review_comment=comment,
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
    T.DEVIATION_OPENED: _deviation_opened,
    T.DEVIATION_REVIEWED: _deviation_reviewed,
    T.SLOT_BOOKED: _slot_booked,
    T.LABEL_PRINTED: labels.fold_printed,
    T.LABEL_APPLIED: labels.fold_applied,
    T.LABEL_REPRINTED: labels.fold_reprinted,
    T.LABEL_VOIDED: labels.fold_voided,
    T.RESPONSE_ASSESSED: outcomes.fold_response,
    T.TOXICITY_RESOLVED: outcomes.fold_resolution,
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
        data = event.data if isinstance(event.data, Mapping) else {}
        after = handler(counted, event, data)
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
