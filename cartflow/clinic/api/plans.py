"""The vein-to-vein plan of a case, and the network's capacity per week.

The proposal is the planner's earliest plan for the case against the network's bookings
(``services.plans.propose``); accepting it is the journey's ``AcceptPlan`` through the same
service as the page (``services.plans.accept_plan``), which books the chair and the
manufacturing slot with the booking's own rules: a refusal is 422 naming the booking's rule,
a slot taken in between is 409.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router

from cartflow.clinic.api.auth import Scope, access_to, case_of
from cartflow.clinic.api.common import record
from cartflow.clinic.api.schemas.common import StepIn, StepOut
from cartflow.clinic.api.schemas.fields import CoiPath
from cartflow.clinic.api.schemas.plans import (
    AcceptIn,
    PlanOut,
    ReasonIn,
    WeekOut,
    WeeksFilter,
)
from cartflow.clinic.case_state import case_state
from cartflow.clinic.services import plans
from cartflow.domain.journey.plans import LEGS
from cartflow.domain.roles import Action

router = Router(tags=["plans"])


def plan_out(case: Any) -> dict[str, Any]:
    state = case_state(case)
    accepted = None
    if state.plan is not None:
        p = state.plan
        accepted = {
            "plan_id": p.plan_id,
            "status": p.status,
            "centre": p.centre,
            "manufacturing_site": p.manufacturing_site,
            "legs": [{"leg": k.removesuffix("_on"), "on": getattr(p, k)} for k in LEGS],
            "reason": p.reason,
        }
    proposal = plans.propose(case) if plans.is_plannable(state.step) else None
    proposed = None
    if proposal is not None and proposal.plan is not None:
        proposed = {
            "proposal": proposal.fingerprint,
            "site": proposal.plan.site,
            "legs": [{"leg": leg.key, "on": leg.on} for leg in proposal.legs],
            "vein_to_vein_days": proposal.plan.vein_to_vein,
            "books_chair": proposal.books_chair,
        }
    no_plan = proposal.no_plan if proposal is not None else None
    return {
        "coi": case.coi,
        "today": plans.site_today(case),
        "proposed": proposed,
        "no_plan": no_plan.reason if no_plan is not None else None,
        "missing_facts": list(no_plan.missing) if no_plan is not None else [],
        "accepted": accepted,
    }


@router.get(
    "/cases/{coi}/plan",
    response=PlanOut,
    auth=access_to(Action.VIEW_CASE),
    summary="The case's proposed plan (from the network's bookings) and its accepted plan",
)
def get_plan(request: HttpRequest, coi: CoiPath) -> Any:
    return plan_out(case_of(request))


@router.post(
    "/cases/{coi}/plan/accept",
    response={201: StepOut},
    auth=access_to(Action.ACCEPT_PLAN),
    summary="Accept the proposed plan: books the chair and the manufacturing slot",
)
def accept_plan(request: HttpRequest, coi: CoiPath, payload: AcceptIn) -> Any:
    return record(request, plans.accept_plan, payload)


@router.post(
    "/cases/{coi}/plan/confirm",
    response={201: StepOut},
    auth=access_to(Action.CONFIRM_PLAN_SLOT),
    summary="The manufacturing site confirms the slot the plan proposed to it",
)
def confirm_plan_slot(request: HttpRequest, coi: CoiPath, payload: StepIn) -> Any:
    return record(request, plans.confirm_plan_slot, payload)


@router.post(
    "/cases/{coi}/plan/decline",
    response={201: StepOut},
    auth=access_to(Action.DECLINE_PLAN_SLOT),
    summary="The manufacturing site declines the proposed slot, with the reason",
)
def decline_plan_slot(request: HttpRequest, coi: CoiPath, payload: ReasonIn) -> Any:
    return record(request, plans.decline_plan_slot, payload)


@router.post(
    "/cases/{coi}/plan/release",
    response={201: StepOut},
    auth=access_to(Action.RELEASE_PLAN),
    summary="Re-plan: release the plan's unused bookings and its planned capacity",
)
def release_plan(request: HttpRequest, coi: CoiPath, payload: ReasonIn) -> Any:
    return record(request, plans.release_plan, payload)


@router.get(
    "/capacity",
    response=list[WeekOut],
    auth=access_to(Action.VIEW_CAPACITY, Scope.NETWORK),
    summary="The network's capacity per week: places offered and taken, beds planned",
)
def capacity(request: HttpRequest, filters: Query[WeeksFilter]) -> Any:
    today = timezone.localdate()
    return [vars(w) for w in plans.capacity_by_week(today, filters.weeks)]
