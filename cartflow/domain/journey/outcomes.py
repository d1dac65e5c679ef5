"""What a registry asks after a CAR-T infusion that the grades alone do not say: the response
of the disease (by method and date) and the end of a CRS or ICANS episode (with what was
given for it). Both are observations: they record what was seen and never move the case.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, datetime
from enum import StrEnum
from typing import Final

from cartflow.domain.catalog import RuleKind
from cartflow.domain.errors import InvalidInput
from cartflow.domain.events import Event
from cartflow.domain.journey import commands as C
from cartflow.domain.journey import payloads as P
from cartflow.domain.journey.errors import JourneyError
from cartflow.domain.journey.guards import Context
from cartflow.domain.journey.observations import first_infusion
from cartflow.domain.journey.payloads import Payload
from cartflow.domain.journey.records import ResponseAssessment, ToxicityResolution
from cartflow.domain.journey.state import CaseState, ToxicityGrade
from cartflow.domain.journey.time_windows import local_date

EventMaker = Callable[[Payload], Event]

OUTCOME_SOURCE: Final = (
    "response and toxicity after a CAR-T infusion are recorded from the infusion on "
    "(docs/registry.md)"
)


class Response(StrEnum):
    """The response categories a registry collects (disease-specific criteria name them)."""

    COMPLETE_REMISSION = "complete_remission"
    COMPLETE_REMISSION_INCOMPLETE_RECOVERY = "complete_remission_incomplete_recovery"
    PARTIAL_RESPONSE = "partial_response"
    VERY_GOOD_PARTIAL_RESPONSE = "very_good_partial_response"
    STABLE_DISEASE = "stable_disease"
    PROGRESSIVE_DISEASE = "progressive_disease"
    RELAPSE = "relapse"
    NOT_EVALUABLE = "not_evaluable"


class Method(StrEnum):
    BONE_MARROW = "bone_marrow"
    FLOW_MRD = "flow_mrd"
    NGS_MRD = "ngs_mrd"
    PET_CT = "pet_ct"
    CT = "ct"
    SERUM_PROTEIN = "serum_protein"
    CLINICAL = "clinical"


class Syndrome(StrEnum):
    CRS = "crs"
    ICANS = "icans"


class Treatment(StrEnum):
    TOCILIZUMAB = "tocilizumab"
    CORTICOSTEROIDS = "corticosteroids"
    ANAKINRA = "anakinra"
    SILTUXIMAB = "siltuximab"
    OTHER = "other"


def _choice(enum: type[StrEnum], value: str, name: str) -> str:
    try:
        return enum(value).value
    except ValueError:
        raise InvalidInput(f"{name}: one of {', '.join(e.value for e in enum)}") from None


def _after_infusion(ctx: Context, what: str) -> datetime:
    return first_infusion(ctx, what, OUTCOME_SOURCE)


def _site_day(ctx: Context, at: datetime) -> date:
    return local_date(at, ctx.zone) if ctx.state.site_timezone else at.date()


def assess_response(ctx: Context, c: C.RecordResponseAssessment, event: EventMaker) -> Event:
    first = _after_infusion(ctx, "a response is assessed")
    response = _choice(Response, c.response, "response")
    method = _choice(Method, c.method, "method")
    if not isinstance(c.assessed_on, date) or isinstance(c.assessed_on, datetime):
        raise InvalidInput("assessed_on: a date")
    infused_on = _site_day(ctx, first)
    if c.assessed_on < infused_on:
        raise JourneyError(
            ctx.step,
            ctx.attempted,
            f"a response assessed on {c.assessed_on.isoformat()} lies before the infusion "
            f"({infused_on.isoformat()})",
            OUTCOME_SOURCE,
            RuleKind.SITE_POLICY,
            "observation.before_infusion",
        )
    if c.assessed_on > ctx.on:
        raise InvalidInput("assessed_on: not in the future")
    day = (c.assessed_on - infused_on).days
    return event(P.ResponseAssessed(response, method, c.assessed_on, day))


def open_episode(state: CaseState, syndrome: str) -> tuple[ToxicityGrade, ...]:
    """The grades of the episode not yet resolved: from the first grade of 1 or more after
    the last resolution of ``syndrome``."""
    grades = sorted(
        state.crs_grades if syndrome == Syndrome.CRS else state.icans_grades, key=lambda g: g.at
    )
    resolved = [r.resolved_at for r in state.toxicity_resolutions if r.syndrome == syndrome]
    since = max(resolved) if resolved else None
    episode = [g for g in grades if since is None or g.at > since]
    onset = next((i for i, g in enumerate(episode) if g.grade >= 1), None)
    return () if onset is None else tuple(episode[onset:])


def resolve_toxicity(ctx: Context, c: C.ResolveToxicity, event: EventMaker) -> Event:
    _after_infusion(ctx, "a CRS or ICANS episode is resolved")
    syndrome = _choice(Syndrome, c.syndrome, "syndrome")
    treatments = sorted({_choice(Treatment, t, "treatments") for t in c.treatments})
    episode = open_episode(ctx.state, syndrome)
    if not episode:
        raise JourneyError(
            ctx.step,
            ctx.attempted,
            f"there is no open {syndrome.upper()} episode (a grade of 1 or more since the last "
            "resolution) to resolve",
            OUTCOME_SOURCE,
            RuleKind.SITE_POLICY,
            "toxicity.no_open_episode",
        )
    onset = episode[0].at
    if ctx.at < max(g.at for g in episode):
        raise InvalidInput("occurred_at: the resolution lies after the episode's last grade")
    return event(
        P.ToxicityResolved(syndrome, onset, max(g.grade for g in episode), tuple(treatments))
    )


def fold_response(s: CaseState, e: Event, p: P.ResponseAssessed) -> CaseState:
    record = ResponseAssessment(p.response, p.method, p.assessed_on, p.day, e.occurred_at, e.actor)
    return dataclasses.replace(s, responses=(*s.responses, record))


def fold_resolution(s: CaseState, e: Event, p: P.ToxicityResolved) -> CaseState:
    record = ToxicityResolution(
        p.syndrome, p.onset_at, e.occurred_at, p.max_grade, e.actor, p.treatments
    )
    return dataclasses.replace(s, toxicity_resolutions=(*s.toxicity_resolutions, record))
