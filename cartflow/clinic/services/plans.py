"""Plans on the case: the proposed plan from the network's bookings, accepting it, the
manufacturing site's answer, and re-planning.

The proposal is the scheduling package's own earliest plan (``scheduling.earliest``) for the
case, on a problem built from what the clinic records: the apheresis chairs and the
manufacturing places offered as slots and not yet taken, and the beds and courier lanes the
other cases' accepted plans hold. Accepting it is the journey's ``AcceptPlan``, which books the
chair and the manufacturing slot through the journey's own booking commands; the places are
taken in the same transaction by the same conditional UPDATE as a booking by hand
(``slots.take_place``), so a full slot refuses the whole plan.

Capacities the clinic does not record yet (infusion beds, monitoring beds, courier lanes) are
the planning assumptions below, stated in docs/scheduling.md.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.utils import timezone

from cartflow.clinic.models import (
    CaseProjection,
    Membership,
    Site,
    Slot,
    SlotBooking,
    SlotKind,
    TherapyCase,
)
from cartflow.clinic.services.append import AppendResult, resolve_case
from cartflow.clinic.services.cases import add_participant
from cartflow.clinic.services.context import NO_REQUEST, RequestMeta
from cartflow.clinic.services.errors import Conflict
from cartflow.clinic.services.machine import catalog
from cartflow.clinic.services.operations import perform
from cartflow.clinic.services.slots import take_place
from cartflow.domain import journey
from cartflow.domain.errors import InvalidInput
from cartflow.domain.journey import CaseState, Step
from cartflow.domain.journey import event_types as T
from cartflow.domain.journey.plans import BOOKS_CHAIR, active_plan
from cartflow.domain.journey.steps import COMMAND_STEPS
from cartflow.domain.roles import Role, SiteKind
from cartflow.scheduling.earliest import Fixed, earliest_plan
from cartflow.scheduling.network import Calendar, Centre, Lane, ManufacturingSite
from cartflow.scheduling.network import Network as PlanningNetwork
from cartflow.scheduling.plan import Case, Plan, Usage
from cartflow.scheduling.problem import Problem
from cartflow.scheduling.timings import NoPlan, Timings, timings_for

HORIZON_DAYS = 150
"""How far ahead a proposal looks for chairs, manufacturing places, beds and lanes."""
INFUSION_BEDS_PER_DAY = 2
MONITORING_BEDS = 6
COURIER_TRANSIT_DAYS = 1
COURIER_SHIPMENTS_PER_DAY = 2
"""Planning assumptions until a site records its own beds and lanes (docs/scheduling.md)."""
COURIER_CALENDAR = Calendar()
"""Couriers collect on weekdays."""
COLLECTION_HOUR = time(8, 0)
"""A planned collection starts at 08:00, site time (the chair is booked for the day)."""
PLANNABLE_STEPS = COMMAND_STEPS["AcceptPlan"]


@dataclass(frozen=True)
class _BookedProblem(Problem):
    """The planner's problem with the clinic's slots: chairs are the places offered that day
    and not taken; a run starts only on a day its site offers a free place; couriers keep
    their own weekdays."""

    chairs: dict[int, int] = field(default_factory=dict)

    def capacity(self, key: tuple[str, ...], day: int) -> int:
        if not 0 <= day < self.horizon:
            return 0
        if key[0] == "chair":
            return self.chairs.get(day, 0)
        if key[0] == "lane":
            on = self.origin + timedelta(days=day)
            return COURIER_SHIPMENTS_PER_DAY if COURIER_CALENDAR.is_open(on) else 0
        return super().capacity(key, day)


@dataclass(frozen=True)
class Leg:
    key: str
    on: date


@dataclass(frozen=True)
class Proposal:
    """The earliest plan for a case against the network's bookings, or why there is none."""

    case: TherapyCase
    today: date
    origin: date
    plan: Plan | None = None
    no_plan: NoPlan | None = None
    timings: Timings | None = None
    chair_slot: Slot | None = None
    manufacturing_slot: Slot | None = None
    books_chair: bool = True

    def day(self, offset: int) -> date:
        return self.origin + timedelta(days=offset)

    @property
    def legs(self) -> list[Leg]:
        if self.plan is None:
            return []
        return [Leg(k, self.day(v)) for k, v in self.plan.legs().items()]

    @property
    def dates(self) -> dict[str, date]:
        return {leg.key: leg.on for leg in self.legs}

    @property
    def fingerprint(self) -> str:
        """Names the proposal a page showed: accepting another one is refused as stale."""
        if self.plan is None:
            return ""
        body = {
            "legs": {k: v.isoformat() for k, v in self.dates.items()},
            "site": self.plan.site,
            "chair": str(self.chair_slot.public_id) if self.chair_slot else "",
            "slot": str(self.manufacturing_slot.public_id) if self.manufacturing_slot else "",
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]

    @property
    def vein_to_vein_days(self) -> int | None:
        return self.plan.vein_to_vein if self.plan is not None else None


def site_today(case: TherapyCase, now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(ZoneInfo(case.treating_site.time_zone)).date()


def _free_places(kind: str, start: date, end: date) -> list[Slot]:
    return [
        s
        for s in Slot.objects.select_related("site")
        .filter(kind=kind, day__gte=start, day__lt=end)
        .order_by("day", "site__slug")
        if s.booked < s.capacity
    ]


def plan_holdings(plan: Any, origin: date) -> list[tuple[tuple[str, ...], int, int]]:
    """What an accepted plan holds of the planned capacity (beds and lane), as days from
    ``origin``: (resource, first day, days held)."""
    infusion = (plan.infusion_on - origin).days
    held = (plan.monitoring_until - plan.infusion_on).days + 1
    return [
        (("bed", plan.centre), infusion, 1),
        (("monitoring", plan.centre), infusion, held),
        (("lane", plan.manufacturing_site, plan.centre), (plan.shipment_on - origin).days, 1),
    ]


def accepted_plans(exclude: TherapyCase | None = None) -> Iterable[tuple[TherapyCase, Any]]:
    """Every open case's plan that holds capacity."""
    from cartflow.clinic.case_state import state_from

    rows = CaseProjection.objects.filter(active=True).select_related("case")
    if exclude is not None:
        rows = rows.exclude(case=exclude)
    for row in rows:
        plan = active_plan(state_from(row.state))
        if plan is not None:
            yield row.case, plan


def propose(case: TherapyCase | str, *, now: datetime | None = None) -> Proposal:
    """The earliest plan the network's bookings allow for ``case`` (see the module's doc)."""
    from cartflow.clinic.case_state import case_state

    case = TherapyCase.objects.select_related("projection", "treating_site").get(
        pk=resolve_case(case).pk
    )  # read afresh: a case object loaded earlier keeps the projection it loaded
    state: CaseState = case_state(case)
    today = site_today(case, now)
    if state.step not in PLANNABLE_STEPS:
        return Proposal(
            case,
            today,
            today,
            no_plan=NoPlan(case.coi, "the case is not at a step that a plan can start from"),
        )
    found = timings_for(
        catalog(), state.indication_id, today, state.region or None, state.site_values
    )
    if isinstance(found, NoPlan):
        return Proposal(case, today, today, no_plan=NoPlan(case.coi, found.reason, found.missing))
    kept = _kept_collection(state)
    origin = min(kept, today) if kept is not None else today
    end = today + timedelta(days=HORIZON_DAYS)
    horizon = (end - origin).days
    chairs: dict[int, int] = defaultdict(int)
    for free in _free_places(SlotKind.APHERESIS_CHAIR, today, end):
        chairs[(free.day - origin).days] += free.capacity - free.booked
    starts: dict[str, set[date]] = defaultdict(set)
    for free in _free_places(SlotKind.MANUFACTURING, today, end):
        if free.site.kind == SiteKind.MANUFACTURING_SITE:
            starts[free.site.slug].add(free.day)
    centre = case.treating_site.slug
    network = PlanningNetwork(
        centres=(
            Centre(centre, case.treating_site.region, 0, INFUSION_BEDS_PER_DAY, MONITORING_BEDS),
        ),
        sites=tuple(
            ManufacturingSite(
                slug,
                {found.product: 10_000},  # runs at once: the places offered are the limit
                Calendar(
                    closed_weekdays=frozenset(),
                    closed_days=frozenset(
                        origin + timedelta(days=d)
                        for d in range(horizon)
                        if origin + timedelta(days=d) not in days
                    ),
                ),
            )
            for slug, days in sorted(starts.items())
        ),
        lanes=tuple(
            Lane(slug, centre, COURIER_TRANSIT_DAYS, COURIER_SHIPMENTS_PER_DAY)
            for slug in sorted(starts)
        ),
    )
    problem = _BookedProblem(
        network, origin, horizon, {state.indication_id: found}, chairs=dict(chairs)
    )
    usage = Usage()
    for _other, plan in accepted_plans(exclude=case):
        if plan.centre != centre and plan.manufacturing_site not in starts:
            continue
        for key, first, length in plan_holdings(plan, origin):
            for day in range(first, first + length):
                usage.used[key][day] += 1
    ready = (today - origin).days + (0 if kept is not None else 1)
    fixed = Fixed(apheresis=(kept - origin).days, not_before=ready) if kept else Fixed()
    planned = earliest_plan(
        problem, Case(case.coi, centre, state.indication_id, ready), usage, fixed
    )
    if isinstance(planned, NoPlan):
        return Proposal(case, today, origin, no_plan=planned, timings=found)
    apheresis = origin + timedelta(days=planned.apheresis)
    start = origin + timedelta(days=planned.manufacturing_start)
    chair: Slot | None = None
    if kept is None:
        chair = max(
            (
                s
                for s in _free_places(SlotKind.APHERESIS_CHAIR, apheresis, apheresis + timedelta(1))
            ),
            key=lambda s: (s.capacity - s.booked, s.site.slug),
            default=None,
        )
    slot = next(
        (
            s
            for s in _free_places(SlotKind.MANUFACTURING, start, start + timedelta(1))
            if s.site.slug == planned.site
        ),
        None,
    )
    return Proposal(
        case,
        today,
        origin,
        plan=planned,
        timings=found,
        chair_slot=chair,
        manufacturing_slot=slot,
        books_chair=kept is None,
    )


def _kept_collection(state: CaseState) -> date | None:
    if state.step in BOOKS_CHAIR:
        return None
    zone = ZoneInfo(state.site_timezone or "UTC")
    if state.collection is not None:
        return state.collection.at.astimezone(zone).date()
    if state.apheresis_slots:
        return state.apheresis_slots[-1].astimezone(zone).date()
    return None


def accept_plan(
    case: TherapyCase | str,
    *,
    acting_user: Any,
    proposal: str = "",
    request_meta: RequestMeta = NO_REQUEST,
    expected_version: int | None = None,
    occurred_at: datetime | None = None,
    now: datetime | None = None,
) -> AppendResult:
    """Accept the case's proposed plan (``proposal``: the fingerprint the user saw, if any).

    One append: ``AcceptPlan`` (its bookings decided by the journey's booking commands) and
    the places of the chair and the manufacturing slot taken, or nothing at all.
    """
    case = resolve_case(case)
    proposed = propose(case, now=now)
    if proposal and proposal != proposed.fingerprint:
        raise Conflict(
            "the proposed plan changed since you loaded it (another case was booked): "
            "reload to see the new proposal"
        )
    plan = proposed.plan
    if plan is None:
        reason = proposed.no_plan.reason if proposed.no_plan else "no plan"
        raise InvalidInput(f"no plan can be accepted: {reason}")
    chair, slot = proposed.chair_slot, proposed.manufacturing_slot
    if slot is None or (proposed.books_chair and chair is None):
        raise Conflict("the planned slot was taken a moment ago: reload to see a new proposal")
    zone = ZoneInfo(case.treating_site.time_zone)
    dates = proposed.dates

    def take_places(result: AppendResult, command: Any, user: Any) -> None:
        if chair is not None and any(e.type == T.APHERESIS_SCHEDULED for e in result.events):
            take_place(chair, result.case, result.last(T.APHERESIS_SCHEDULED).hash, result.now)
            add_participant(result.case, chair.site, result.now)
        take_place(slot, result.case, result.last(T.SLOT_BOOKED).hash, result.now)
        add_participant(result.case, slot.site, result.now)

    return perform(
        case,
        journey.AcceptPlan,
        acting_user=acting_user,
        request_meta=request_meta,
        expected_version=expected_version,
        occurred_at=occurred_at,
        now=now,
        side_rows=take_places,
        plan_id=uuid.uuid4().hex,
        centre=plan.centre,
        apheresis_at=datetime.combine(dates["apheresis"], COLLECTION_HOUR, zone),
        chair_day=chair.day if chair is not None and proposed.books_chair else None,
        manufacturing_slot_id=str(slot.public_id),
        manufacturing_site=slot.site.slug,
        manufacturing_start_on=dates["manufacturing_start"],
        release_on=dates["release"],
        shipment_on=dates["shipment"],
        arrival_on=dates["arrival"],
        ld_start_on=dates["ld_start"],
        ld_end_on=dates["ld_end"],
        infusion_on=dates["infusion"],
        monitoring_until=dates["monitoring_end"],
        transit_days=COURIER_TRANSIT_DAYS,
    )


def _plan_id(case: TherapyCase) -> str:
    from cartflow.clinic.case_state import state_from

    plan = state_from(CaseProjection.objects.get(case=case).state).plan
    if plan is None:
        raise InvalidInput("the case has no accepted plan")
    return plan.plan_id


def _answering_site(case: TherapyCase, user: Any) -> str:
    """The plan's id, when ``user`` works at the manufacturing site its slot was proposed to:
    another site taking part in the case does not answer for it."""
    from cartflow.clinic.access import Forbidden
    from cartflow.clinic.case_state import state_from

    plan = state_from(CaseProjection.objects.get(case=case).state).plan
    if plan is None:
        raise InvalidInput("the case has no accepted plan")
    if not Membership.objects.filter(
        user=user, site__slug=plan.manufacturing_site, role=Role.MANUFACTURING
    ).exists():
        raise Forbidden("only the manufacturing site the slot was proposed to answers for it")
    return plan.plan_id


def confirm_plan_slot(case: TherapyCase | str, *, acting_user: Any, **kwargs: Any) -> AppendResult:
    """The manufacturing site confirms the slot the accepted plan proposed to it."""
    case = resolve_case(case)
    plan_id = _answering_site(case, acting_user)
    return perform(
        case, journey.ConfirmPlanSlot, acting_user=acting_user, plan_id=plan_id, **kwargs
    )


def decline_plan_slot(
    case: TherapyCase | str, *, reason: str, acting_user: Any, **kwargs: Any
) -> AppendResult:
    """The manufacturing site declines the proposed slot: the case needs a re-plan."""
    case = resolve_case(case)
    plan_id = _answering_site(case, acting_user)
    return perform(
        case,
        journey.DeclinePlanSlot,
        acting_user=acting_user,
        plan_id=plan_id,
        reason=reason,
        **kwargs,
    )


def release_plan(
    case: TherapyCase | str, *, reason: str, acting_user: Any, **kwargs: Any
) -> AppendResult:
    """Re-planning: the plan's unused bookings are given back (their places freed) and its
    planned capacity released, with the reason."""
    case = resolve_case(case)

    def give_back(result: AppendResult, command: Any, user: Any) -> None:
        released = {b.slot for b in result.state.bookings if b.released_at is not None}
        rows = SlotBooking.objects.filter(
            case=result.case, released_at__isnull=True, slot__public_id__in=released
        ).select_related("slot")
        for row in rows:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {Slot._meta.db_table} SET booked = booked - 1 "
                    "WHERE id = %s AND booked > 0",
                    [row.slot_id],
                )
            row.released_at = result.now
            row.release_hash = result.last(T.PLAN_RELEASED).hash
            row.save(update_fields=["released_at", "release_hash"])

    return perform(
        case,
        journey.ReleasePlan,
        acting_user=acting_user,
        plan_id=_plan_id(case),
        reason=reason,
        side_rows=give_back,
        **kwargs,
    )


# --- the network's capacity per week --------------------------------------------------------


@dataclass(frozen=True)
class WeekCapacity:
    """One week from ``monday``: places offered and taken, and the planned capacity held."""

    monday: date
    chairs_offered: int = 0
    chairs_taken: int = 0
    manufacturing_offered: int = 0
    manufacturing_taken: int = 0
    infusions_planned: int = 0
    infusion_beds: int = 0
    monitoring_bed_days: int = 0
    monitoring_capacity: int = 0


def capacity_by_week(today: date, weeks: int = 8) -> list[WeekCapacity]:
    """The next ``weeks`` weeks (Monday first): slots offered and taken, and the beds the
    accepted plans hold against the planning assumptions."""
    if not 1 <= weeks <= 52:
        raise InvalidInput("weeks: a whole number from 1 to 52")
    first = today - timedelta(days=today.weekday())
    end = first + timedelta(weeks=weeks)
    totals: dict[date, dict[str, int]] = {
        first + timedelta(weeks=w): defaultdict(int) for w in range(weeks)
    }

    def week(day: date) -> dict[str, int] | None:
        return totals.get(day - timedelta(days=day.weekday()))

    for slot in Slot.objects.filter(day__gte=first, day__lt=end):
        row = week(slot.day)
        if row is None:
            continue
        prefix = "chairs" if slot.kind == SlotKind.APHERESIS_CHAIR else "manufacturing"
        row[f"{prefix}_offered"] += slot.capacity
        row[f"{prefix}_taken"] += slot.booked
    centres = Site.objects.filter(kind=SiteKind.TREATMENT_CENTER).count()
    for _case, plan in accepted_plans():
        row = week(plan.infusion_on)
        if row is not None:
            row["infusions_planned"] += 1
        day = plan.infusion_on
        while day <= plan.monitoring_until:
            bed = week(day)
            if bed is not None:
                bed["monitoring_bed_days"] += 1
            day += timedelta(days=1)
    out = []
    for monday, row in totals.items():
        open_days = sum(1 for d in range(7) if COURIER_CALENDAR.is_open(monday + timedelta(days=d)))
        out.append(
            WeekCapacity(
                monday,
                **row,
                infusion_beds=centres * INFUSION_BEDS_PER_DAY * open_days,
                monitoring_capacity=centres * MONITORING_BEDS * 7,
            )
        )
    return out


def is_plannable(step: Step) -> bool:
    return step in PLANNABLE_STEPS
