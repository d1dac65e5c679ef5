"""The vein-to-vein plan on the case: accepting it, the manufacturing site's answer, release.

Accepting a plan books through the journey's own booking commands (``ScheduleApheresis``
for the chair, ``BookManufacturingSlot`` for the manufacturing slot), decided by the same
``decide`` and so by the same slot rules (``slot.in_the_past``, ``slot.chair_day``,
``slot.before_collection``): ``decide.py`` composes them, and this module holds only what is
the plan's own: the legs in order, the label's infusion window between them, one plan at a
time, and the manufacturing site's answer. Plan events are records beside the steps: they
leave the steps' count and clock as they were.

Rule ids: ``plan.legs_order``, ``plan.infusion_window`` (label), ``plan.apheresis_fixed``,
``plan.already_accepted``, ``plan.unknown``, ``plan.not_proposed``, ``plan.nothing_to_release``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Final

from cartflow.domain.catalog import FactName
from cartflow.domain.errors import InvalidInput
from cartflow.domain.events import Event
from cartflow.domain.journey import commands as C
from cartflow.domain.journey import payloads as P
from cartflow.domain.journey.errors import JourneyError
from cartflow.domain.journey.guards import Context, require_text
from cartflow.domain.journey.records import AcceptedPlan, PlannedDates, PlanStatus
from cartflow.domain.journey.state import CaseState
from cartflow.domain.journey.steps import Step
from cartflow.domain.journey.time_windows import local_date

EventMaker = Callable[[P.Payload], Event]

PLAN_SOURCE: Final = (
    "planning policy: one plan at a time, its legs in order, bookings through the journey's "
    "own booking commands (docs/journey.md, Plans; docs/scheduling.md)"
)

BOOKS_CHAIR: Final = frozenset({Step.SCREENED, Step.COLLECTION_FAILED, Step.PRODUCT_DISPOSED})
"""Steps in which accepting a plan schedules the collection (``ScheduleApheresis``); in the
other steps that accept a plan the collection is scheduled or done and its day stays."""

MANUFACTURING_UNUSED: Final = frozenset(
    {Step.APHERESIS_SCHEDULED, Step.COLLECTION_FAILED, Step.COLLECTED, Step.BRIDGING}
)
"""Steps in which a plan's manufacturing slot has not been used: releasing gives it back."""

LEGS: Final = P.PlanAccepted.LEGS
"""The plan's legs in the order they follow one another (the accepted plan's dates)."""


def refuse(ctx: Context, rule: str, rule_id: str, source: str = PLAN_SOURCE) -> JourneyError:
    error = ctx.refuse(rule, source)
    error.rule_id = rule_id
    return error


def active_plan(state: CaseState) -> AcceptedPlan | None:
    """The plan that holds capacity (accepted, confirmed or declined), if any."""
    plan = state.plan
    return plan if plan is not None and plan.holds_capacity else None


def fixed_apheresis(state: CaseState, ctx: Context) -> date | None:
    """The collection's day where it is scheduled or done (a new plan keeps it)."""
    if state.step in BOOKS_CHAIR:
        return None
    collection = state.collection
    if collection is not None:
        return local_date(collection.at, ctx.zone)
    if state.apheresis_slots:
        return local_date(state.apheresis_slots[-1], ctx.zone)
    return None


def check_accept(ctx: Context, c: C.AcceptPlan, fact: Callable[[str], Any]) -> P.PlanAccepted:
    """The plan's own rules; the data of ``plan.accepted`` (the bookings are decided apart)."""
    state = ctx.state
    current = active_plan(state)
    if current is not None:
        raise refuse(
            ctx,
            f"the case already has a plan ({current.status}, infusion planned for "
            f"{current.infusion_on.isoformat()}): release it first to re-plan",
            "plan.already_accepted",
        )
    if c.apheresis_at.tzinfo is None or c.apheresis_at.utcoffset() is None:
        raise InvalidInput("the planned collection must be a date and time with a time zone")
    apheresis_on = local_date(c.apheresis_at, ctx.zone)
    kept = fixed_apheresis(state, ctx)
    if kept is not None and kept != apheresis_on:
        raise refuse(
            ctx,
            f"the collection is already on {kept.isoformat()}; a plan made now keeps that day, "
            f"not {apheresis_on.isoformat()}",
            "plan.apheresis_fixed",
        )
    if c.transit_days < 0:
        raise InvalidInput("transit_days: zero or more")
    days = [
        apheresis_on,
        c.manufacturing_start_on,
        c.release_on,
        c.shipment_on,
        c.arrival_on,
        c.ld_start_on,
        c.ld_end_on,
        c.infusion_on,
        c.monitoring_until,
    ]
    strict = {"manufacturing_start_on", "ld_end_on"}  # a run takes days; so does the gap
    for i in range(len(days) - 1):
        name, after = LEGS[i], LEGS[i + 1]
        if days[i + 1] < days[i] or (name in strict and days[i + 1] == days[i]):
            raise refuse(
                ctx,
                f"the plan's {_words(after)} ({days[i + 1].isoformat()}) is not after its "
                f"{_words(name)} ({days[i].isoformat()}): every leg follows the one before",
                "plan.legs_order",
            )
    window = fact(FactName.INFUSION_WINDOW_DAYS)
    low, high = int(window.value[0]), int(window.value[1])
    gap = (c.infusion_on - c.ld_end_on).days
    if not low <= gap <= high:
        error = ctx.refuse_by(
            window,
            f"the planned infusion is {gap} days after lymphodepletion ends; the label allows "
            f"{low} to {high}",
        )
        error.rule_id = "plan.infusion_window"
        raise error
    return P.PlanAccepted(
        plan_id=require_text("plan_id", c.plan_id),
        centre=require_text("centre", c.centre),
        manufacturing_site=require_text("manufacturing site", c.manufacturing_site),
        manufacturing_slot=require_text("manufacturing slot", c.manufacturing_slot_id),
        books_chair=kept is None,
        chair_day=c.chair_day,
        transit_days=int(c.transit_days),
        # Planned capacity held by the plan alone (no slot of the clinic's): the infusion
        # bed, the monitoring bed and the courier lane.
        holds={
            "infusion_bed": {"centre": c.centre, "day": c.infusion_on.isoformat()},
            "monitoring_bed": {
                "centre": c.centre,
                "from": c.infusion_on.isoformat(),
                "until": c.monitoring_until.isoformat(),
            },
            "courier_lane": {
                "site": c.manufacturing_site,
                "centre": c.centre,
                "day": c.shipment_on.isoformat(),
            },
        },
        **dict(zip(LEGS, days, strict=True)),
    )


def _words(leg: str) -> str:
    return leg.removesuffix("_on").replace("_", " ")


def _proposed(ctx: Context, plan_id: str) -> AcceptedPlan:
    plan = ctx.state.plan
    if plan is None or plan.plan_id != plan_id:
        raise refuse(ctx, "the case has no such plan", "plan.unknown")
    if plan.status != PlanStatus.ACCEPTED.value:
        raise refuse(
            ctx,
            f"the plan's manufacturing slot is {plan.status}, not awaiting the site's answer",
            "plan.not_proposed",
        )
    return plan


def confirm(ctx: Context, c: C.ConfirmPlanSlot, event: EventMaker) -> Event:
    plan = _proposed(ctx, c.plan_id)
    return event(
        P.PlanSlotConfirmed(plan.plan_id, plan.manufacturing_site, plan.manufacturing_slot)
    )


def decline(ctx: Context, c: C.DeclinePlanSlot, event: EventMaker) -> Event:
    plan = _proposed(ctx, c.plan_id)
    declined = P.PlanSlotDeclined(
        plan.plan_id,
        plan.manufacturing_site,
        plan.manufacturing_slot,
        require_text("reason", c.reason),
    )
    return event(declined)


def release(ctx: Context, c: C.ReleasePlan, event: EventMaker) -> Event:
    plan = ctx.state.plan
    if plan is None or plan.plan_id != c.plan_id or not plan.holds_capacity:
        raise refuse(ctx, "the case holds no such plan to release", "plan.nothing_to_release")
    given_back = []
    if ctx.state.step in MANUFACTURING_UNUSED:
        given_back = [
            b.slot
            for b in ctx.state.bookings
            if b.slot == plan.manufacturing_slot and b.released_at is None
        ]
    return event(P.PlanReleased(plan.plan_id, require_text("reason", c.reason), tuple(given_back)))


# --- apply ----------------------------------------------------------------------------------


def fold_accepted(s: CaseState, e: Event, p: P.PlanAccepted) -> CaseState:
    plan = AcceptedPlan(
        plan_id=p.plan_id,
        status=PlanStatus.ACCEPTED.value,
        centre=p.centre,
        manufacturing_site=p.manufacturing_site,
        manufacturing_slot=p.manufacturing_slot,
        apheresis_on=p.apheresis_on,
        manufacturing_start_on=p.manufacturing_start_on,
        release_on=p.release_on,
        shipment_on=p.shipment_on,
        arrival_on=p.arrival_on,
        ld_start_on=p.ld_start_on,
        ld_end_on=p.ld_end_on,
        infusion_on=p.infusion_on,
        monitoring_until=p.monitoring_until,
        transit_days=p.transit_days,
        accepted_at=e.occurred_at,
        accepted_by=e.actor,
    )
    return dataclasses.replace(s, plan=plan)


def _answer(s: CaseState, e: Event, plan_id: str, reason: str, status: PlanStatus) -> CaseState:
    plan = s.plan
    if plan is None or plan.plan_id != plan_id:
        raise P.MalformedData("no such plan on the case")
    answered = dataclasses.replace(
        plan,
        status=status.value,
        decided_at=e.occurred_at,
        decided_by=e.actor,
        reason=reason,
    )
    return dataclasses.replace(s, plan=answered)


def fold_confirmed(s: CaseState, e: Event, p: P.PlanSlotConfirmed) -> CaseState:
    return _answer(s, e, p.plan_id, "", PlanStatus.CONFIRMED)


def fold_declined(s: CaseState, e: Event, p: P.PlanSlotDeclined) -> CaseState:
    return _answer(s, e, p.plan_id, p.reason, PlanStatus.DECLINED)


def fold_released(s: CaseState, e: Event, p: P.PlanReleased) -> CaseState:
    plan = s.plan
    if plan is None or plan.plan_id != p.plan_id:
        raise P.MalformedData("no such plan on the case")
    released = set(p.released_slots)
    bookings = tuple(
        dataclasses.replace(b, released_at=e.occurred_at)
        if b.slot in released and b.released_at is None
        else b
        for b in s.bookings
    )
    plan = dataclasses.replace(
        plan,
        status=PlanStatus.RELEASED.value,
        released_at=e.occurred_at,
        reason=p.reason,
    )
    return dataclasses.replace(s, plan=plan, bookings=bookings)


def planned_day(state: CaseState, leg: str) -> date | None:
    """A leg's planned day from the plan that holds capacity (``None`` without one)."""
    plan = active_plan(state)
    if plan is None:
        return None
    value = getattr(plan, leg, None)
    return value if isinstance(value, date) and not isinstance(value, datetime) else None


def dates_in_force(state: CaseState) -> PlannedDates:
    """The planned dates the pages and the patient view show: the accepted plan's (while it
    holds capacity) and the team's recorded planned dates, the later recorded of the two first
    and the other filling what it leaves empty. Only recorded dates; none is made up."""
    team = state.planned_dates
    plan = active_plan(state)
    if plan is None:
        return team
    from_plan = PlannedDates(
        plan.apheresis_on, plan.ld_start_on, plan.infusion_on, plan.accepted_at
    )
    first, second = (
        (from_plan, team)
        if team.recorded_at is None or plan.accepted_at >= team.recorded_at
        else (team, from_plan)
    )
    return PlannedDates(
        first.apheresis_on or second.apheresis_on,
        first.lymphodepletion_on or second.lymphodepletion_on,
        first.infusion_on or second.infusion_on,
        first.recorded_at,
    )
