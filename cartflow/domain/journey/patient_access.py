"""Patient and family access to their own case, and the dates the team plans: their rules.

Access is issued by the team, turned once into the holder's own login, and revoked by the
team; each of the three is an event of the case's chain, so who let whom see a case, and
until when, is part of the record an auditor verifies. A minor's case is opened to a
named parent or guardian, and to the patient too from the age the site sets. The chain
never carries the guardian's name, the link's token or the patient's birth date: the clinic
keeps those beside it and hands the domain only an age and an opaque access id.

The planned dates (apheresis, chemotherapy, infusion) are what the patient view shows as
"what comes next" where the case records nothing closer; the view never invents a date.

Neither kind of event moves the case or its clinical clock: issuing access at 10:00 must not
stop a nurse charting at 10:30 a collection made at 09:00. ``decide`` and ``apply`` hand
these commands and events here before their own step and order checks.

A refusal names a stable rule id and its parameters (:class:`AccessRefused`); the interface
words and translates it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from cartflow.domain.catalog import RuleKind
from cartflow.domain.errors import InvalidInput
from cartflow.domain.events import Event
from cartflow.domain.journey.commands import Command
from cartflow.domain.journey.errors import JourneyError
from cartflow.domain.journey.records import PatientAccess, PlannedDates
from cartflow.domain.journey.steps import Step

if TYPE_CHECKING:
    from cartflow.domain.journey.state import CaseState

ACCESS_ISSUED: Final = "patient_access.issued"
ACCESS_USED: Final = "patient_access.used"
ACCESS_REVOKED: Final = "patient_access.revoked"
DATES_PLANNED: Final = "plan.dates_recorded"

VERSIONS: Final[dict[str, frozenset[int]]] = {
    ACCESS_ISSUED: frozenset({1}),
    ACCESS_USED: frozenset({1}),
    ACCESS_REVOKED: frozenset({1}),
    DATES_PLANNED: frozenset({1}),
}
EVENT_TYPES: Final = frozenset(VERSIONS)

PATIENT: Final = "patient"
GUARDIAN: Final = "guardian"
HOLDERS: Final = frozenset({PATIENT, GUARDIAN})

ADULT_AGE: Final = 18
"""From 18 a patient decides alone who sees their record; before it, a parent or guardian."""
MAX_LINK_DAYS: Final = 30
"""A set-up link lives at most 30 days: an old link in a mailbox should not open a case."""
SOURCE: Final = "patient access policy (docs/patient-view.md)"

CLOSED: Final = frozenset({Step.WITHDRAWN, Step.DECEASED, Step.FOLLOW_UP_COMPLETED})
"""Steps in which a patient or family login shows nothing: the team tells the family."""


class AccessRefused(JourneyError):
    """A refusal of patient access or planned dates: a rule id and the values it was judged
    on, for the interface to word (in the reader's language)."""

    def __init__(
        self, state: CaseState, attempted: str, rule_id: str, rule: str, **params: Any
    ) -> None:
        JourneyError.__init__(
            self, state.step.value, attempted, rule, SOURCE, RuleKind.SITE_POLICY, rule_id
        )
        self.params = params


# --- commands -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class IssuePatientAccess(Command):
    """Open the case to its patient or a guardian. ``patient_age`` is whole years on the day
    (the clinic computes it; the birth date stays off the chain); ``own_access_age`` is the
    site's age from which a minor gets their own access."""

    access_id: str
    holder: str
    patient_age: int
    own_access_age: int
    expires_at: datetime


@dataclass(frozen=True, kw_only=True)
class UsePatientAccess(Command):
    """The holder turned the link into their own login (once)."""

    access_id: str


@dataclass(frozen=True, kw_only=True)
class RevokePatientAccess(Command):
    access_id: str
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class RecordPlannedDates(Command):
    """The team's planned dates, where no planner has recorded them; ``None`` leaves one as
    it was."""

    apheresis_on: date | None = None
    lymphodepletion_on: date | None = None
    infusion_on: date | None = None


COMMANDS: Final = frozenset(
    {IssuePatientAccess, UsePatientAccess, RevokePatientAccess, RecordPlannedDates}
)


# --- what the state keeps -------------------------------------------------------------------


def access_of(state: CaseState, access_id: str) -> PatientAccess | None:
    for access in state.patient_accesses:
        if access.access_id == access_id:
            return access
    return None


def is_open(state: CaseState, access_id: str) -> bool:
    """Whether a login made from this access may show the case now (revocation and closing
    end it; the link's expiry ends only the set-up)."""
    access = access_of(state, access_id)
    return (
        access is not None
        and access.used_at is not None
        and access.revoked_at is None
        and state.step not in CLOSED
    )


# --- decide ---------------------------------------------------------------------------------


def _check_common(state: CaseState, command: Command, now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise InvalidInput("now must carry a time zone (an aware datetime)")
    if not command.actor.strip():
        raise InvalidInput("actor is required")
    at = command.occurred_at or now
    if at.tzinfo is None or at.utcoffset() is None or at > now:
        raise InvalidInput("occurred_at must carry a time zone and not lie in the future")
    return at


def _require_open_case(state: CaseState, attempted: str) -> None:
    if state.step is Step.NEW:
        raise AccessRefused(state, attempted, "patient_access.no_case", "the case is not open")
    if state.step in CLOSED:
        raise AccessRefused(state, attempted, "patient_access.case_closed", "the case is closed")


def _issue(state: CaseState, c: IssuePatientAccess, at: datetime) -> dict[str, Any]:
    name = "IssuePatientAccess"
    _require_open_case(state, name)
    if c.holder not in HOLDERS:
        raise InvalidInput(f"holder must be one of {', '.join(sorted(HOLDERS))}")
    if not 0 <= c.patient_age <= 130 or not 0 <= c.own_access_age <= ADULT_AGE:
        raise InvalidInput("patient_age must lie in 0-130 and own_access_age in 0-18")
    if not c.access_id.strip() or access_of(state, c.access_id) is not None:
        raise InvalidInput("access_id must be new to the case")
    if c.holder == PATIENT and c.patient_age < min(ADULT_AGE, c.own_access_age):
        raise AccessRefused(
            state,
            name,
            "patient_access.patient_too_young",
            f"a patient gets their own access from {c.own_access_age} (the site's age)",
            age=c.patient_age,
            min_age=c.own_access_age,
        )
    if c.holder == GUARDIAN and c.patient_age >= ADULT_AGE:
        raise AccessRefused(
            state,
            name,
            "patient_access.guardian_of_adult",
            f"access goes to a guardian only for a patient under {ADULT_AGE}",
            age=c.patient_age,
            adult_age=ADULT_AGE,
        )
    if c.expires_at <= at or c.expires_at > at + timedelta(days=MAX_LINK_DAYS):
        raise AccessRefused(
            state,
            name,
            "patient_access.link_lifetime",
            f"a set-up link expires after the moment of issue and within {MAX_LINK_DAYS} days",
            max_days=MAX_LINK_DAYS,
        )
    return {
        "access_id": c.access_id,
        "holder": c.holder,
        "patient_age": c.patient_age,
        "own_access_age": c.own_access_age,
        "expires_at": c.expires_at.isoformat(),
    }


def _use(state: CaseState, c: UsePatientAccess, at: datetime) -> dict[str, Any]:
    name = "UsePatientAccess"
    access = access_of(state, c.access_id)
    if access is None:
        raise AccessRefused(state, name, "patient_access.unknown", "no such access")
    if access.revoked_at is not None:
        raise AccessRefused(state, name, "patient_access.revoked", "the access was revoked")
    if access.used_at is not None:
        raise AccessRefused(state, name, "patient_access.used", "the link was already used")
    if at > access.expires_at:
        raise AccessRefused(
            state,
            name,
            "patient_access.expired",
            "the link has expired",
            expired_at=access.expires_at.isoformat(),
        )
    _require_open_case(state, name)
    return {"access_id": c.access_id}


def _revoke(state: CaseState, c: RevokePatientAccess, at: datetime) -> dict[str, Any]:
    name = "RevokePatientAccess"
    access = access_of(state, c.access_id)
    if access is None:
        raise AccessRefused(state, name, "patient_access.unknown", "no such access")
    if access.revoked_at is not None:
        raise AccessRefused(state, name, "patient_access.revoked", "the access was revoked")
    return {"access_id": c.access_id, "reason": c.reason.strip()[:300]}


def _plan(state: CaseState, c: RecordPlannedDates, at: datetime) -> dict[str, Any]:
    name = "RecordPlannedDates"
    _require_open_case(state, name)
    before = state.planned_dates
    merged = [
        c.apheresis_on or before.apheresis_on,
        c.lymphodepletion_on or before.lymphodepletion_on,
        c.infusion_on or before.infusion_on,
    ]
    if c.apheresis_on is None and c.lymphodepletion_on is None and c.infusion_on is None:
        raise InvalidInput("give at least one planned date")
    known = [d for d in merged if d is not None]
    if known != sorted(known):
        raise AccessRefused(
            state,
            name,
            "plan.order",
            "apheresis comes before chemotherapy, and chemotherapy before the infusion",
        )
    keys = ("apheresis_on", "lymphodepletion_on", "infusion_on")
    return {k: d.isoformat() if d else None for k, d in zip(keys, merged, strict=True)}


def decide(state: CaseState, command: Command, now: datetime) -> list[Event]:
    """The one event of an access or planning command, or :class:`AccessRefused`."""
    at = _check_common(state, command, now)
    if isinstance(command, IssuePatientAccess):
        event_type, data = ACCESS_ISSUED, _issue(state, command, at)
    elif isinstance(command, UsePatientAccess):
        event_type, data = ACCESS_USED, _use(state, command, at)
    elif isinstance(command, RevokePatientAccess):
        event_type, data = ACCESS_REVOKED, _revoke(state, command, at)
    elif isinstance(command, RecordPlannedDates):
        event_type, data = DATES_PLANNED, _plan(state, command, at)
    else:
        raise InvalidInput(f"unknown command {type(command).__name__}")
    return [
        Event(
            type=event_type,
            occurred_at=at,
            actor=command.actor,
            data=data,
            site=state.site,
            recorded_at=now,
        )
    ]


# --- apply ----------------------------------------------------------------------------------


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


def _replace_access(state: CaseState, access_id: str, **changes: Any) -> CaseState:
    accesses = tuple(
        dataclasses.replace(a, **changes) if a.access_id == access_id else a
        for a in state.patient_accesses
    )
    return dataclasses.replace(state, patient_accesses=accesses)


def _fold(state: CaseState, event: Event, d: Mapping[str, Any]) -> CaseState:
    if event.type == ACCESS_ISSUED:
        access = PatientAccess(
            str(d["access_id"]),
            str(d["holder"]),
            event.occurred_at,
            datetime.fromisoformat(str(d["expires_at"])),
        )
        return dataclasses.replace(state, patient_accesses=(*state.patient_accesses, access))
    if event.type == ACCESS_USED:
        return _replace_access(state, str(d["access_id"]), used_at=event.occurred_at)
    if event.type == ACCESS_REVOKED:
        return _replace_access(state, str(d["access_id"]), revoked_at=event.occurred_at)
    planned = PlannedDates(
        _date(d.get("apheresis_on")),
        _date(d.get("lymphodepletion_on")),
        _date(d.get("infusion_on")),
        event.occurred_at,
    )
    return dataclasses.replace(state, planned_dates=planned)


def apply(state: CaseState, event: Event) -> CaseState:
    """The state after an access or planning event; never raises (an anomaly instead)."""
    note: str
    if event.schema_version not in VERSIONS.get(event.type, frozenset()):
        note = f"unknown schema version {event.schema_version}, not applied"
    else:
        try:
            data = event.data if isinstance(event.data, Mapping) else {}
            return _fold(state, event, data)
        except Exception as exc:  # malformed data from an old or foreign writer
            note = f"malformed data, not applied ({type(exc).__name__})"
    return dataclasses.replace(state, anomalies=(*state.anomalies, f"{event.type}: {note}"))
