"""Patient and family access, and planned dates: events beside the steps, with named rules."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest

from cartflow.domain.errors import InvalidInput
from cartflow.domain.journey import CaseState, Step, apply, replay
from cartflow.domain.journey.decide import decide
from cartflow.domain.journey.patient_access import (
    AccessRefused,
    IssuePatientAccess,
    RecordPlannedDates,
    RevokePatientAccess,
    UsePatientAccess,
    is_open,
)

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
CASE = CaseState(step=Step.REFERRED, coi="G123426000001X", site="north", last_occurred_at=NOW)


def run(state: CaseState, command: object, now: datetime = NOW) -> CaseState:
    events = decide(state, command, None, now)  # type: ignore[arg-type]
    for event in events:
        state = apply(state, event)
    return state


def issue(holder: str = "patient", age: int = 40, days: int = 7, access_id: str = "a1") -> object:
    return IssuePatientAccess(
        actor="coordinator",
        access_id=access_id,
        holder=holder,
        patient_age=age,
        own_access_age=16,
        expires_at=NOW + timedelta(days=days),
    )


def refused(state: CaseState, command: object, now: datetime = NOW) -> AccessRefused:
    with pytest.raises(AccessRefused) as caught:
        decide(state, command, None, now)  # type: ignore[arg-type]
    return caught.value


def test_an_issued_and_used_access_opens_the_case_and_revocation_closes_it() -> None:
    state = run(CASE, issue())
    assert not is_open(state, "a1")
    state = run(state, UsePatientAccess(actor="patient", access_id="a1"), NOW + timedelta(hours=1))
    assert is_open(state, "a1")
    state = run(state, RevokePatientAccess(actor="coordinator", access_id="a1"))
    assert not is_open(state, "a1")
    assert refused(state, UsePatientAccess(actor="p", access_id="a1")).rule_id == (
        "patient_access.revoked"
    )


def test_access_events_neither_move_the_case_nor_its_clinical_clock() -> None:
    later = NOW + timedelta(days=1)
    state = run(CASE, issue(days=3), later)
    assert state.step is Step.REFERRED
    assert state.last_occurred_at == NOW and state.events_applied == CASE.events_applied


def test_a_link_is_used_once_and_not_after_it_expires() -> None:
    state = run(CASE, issue(days=1))
    used = run(state, UsePatientAccess(actor="p", access_id="a1"))
    assert refused(used, UsePatientAccess(actor="p", access_id="a1")).rule_id == (
        "patient_access.used"
    )
    late = NOW + timedelta(days=2)
    error = refused(state, UsePatientAccess(actor="p", access_id="a1"), late)
    assert error.rule_id == "patient_access.expired"
    assert "expired_at" in error.params


def test_a_child_gets_a_guardian_and_their_own_access_only_from_the_sites_age() -> None:
    assert run(CASE, issue("guardian", age=9)).patient_accesses[0].holder == "guardian"
    error = refused(CASE, issue("patient", age=9))
    assert error.rule_id == "patient_access.patient_too_young"
    assert error.params == {"age": 9, "min_age": 16}
    assert run(CASE, issue("patient", age=16)).patient_accesses
    assert refused(CASE, issue("guardian", age=30)).rule_id == "patient_access.guardian_of_adult"


def test_no_access_is_issued_or_used_on_a_closed_case() -> None:
    for step in (Step.WITHDRAWN, Step.DECEASED):
        closed = dataclasses.replace(CASE, step=step)
        assert refused(closed, issue()).rule_id == "patient_access.case_closed"
    state = run(CASE, issue())
    state = run(state, UsePatientAccess(actor="p", access_id="a1"))
    assert not is_open(dataclasses.replace(state, step=Step.DECEASED), "a1")


def test_a_link_lives_at_most_thirty_days() -> None:
    assert refused(CASE, issue(days=31)).rule_id == "patient_access.link_lifetime"
    with pytest.raises(InvalidInput):
        decide(CASE, issue(holder="neighbour"), None, NOW)  # type: ignore[arg-type]


def test_planned_dates_are_kept_merged_and_in_order() -> None:
    state = run(CASE, RecordPlannedDates(actor="c", apheresis_on=date(2026, 12, 1)))
    state = run(state, RecordPlannedDates(actor="c", infusion_on=date(2027, 1, 10)))
    assert state.planned_dates.apheresis_on == date(2026, 12, 1)
    assert state.planned_dates.infusion_on == date(2027, 1, 10)
    error = refused(state, RecordPlannedDates(actor="c", lymphodepletion_on=date(2027, 1, 20)))
    assert error.rule_id == "plan.order"


def test_the_events_replay_from_their_bodies() -> None:
    events = [*decide(CASE, issue(), None, NOW)]  # type: ignore[arg-type]
    state = replay([e.to_body() for e in events], CASE)
    assert state.patient_accesses[0].access_id == "a1"
    assert state.to_dict()["patient_accesses"][0]["holder"] == "patient"


def test_an_unreadable_access_event_is_an_anomaly_not_a_failure() -> None:
    event = decide(CASE, issue(), None, NOW)[0]  # type: ignore[arg-type]
    broken = dataclasses.replace(event, data={"holder": "patient"})
    assert apply(CASE, broken).anomalies
    assert apply(CASE, dataclasses.replace(event, schema_version=9)).anomalies
