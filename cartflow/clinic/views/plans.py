"""The plan of a case (proposed, accepted, the site's answer, re-planning) and the network's
capacity per week. Every write goes through ``services.plans``, the API's service too."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from cartflow.clinic import access
from cartflow.clinic.case_state import case_state
from cartflow.clinic.plan_chart import capacity_chart, leg_words, timeline_chart
from cartflow.clinic.refusal_words import words
from cartflow.clinic.services import plans
from cartflow.clinic.services.context import RequestMeta
from cartflow.clinic.services.errors import Conflict
from cartflow.clinic.views.common import (
    CONFLICT_MESSAGE,
    acknowledge,
    case_roles,
    guarded,
    may,
    require_anywhere,
)
from cartflow.domain.errors import DomainError
from cartflow.domain.journey import JourneyError
from cartflow.domain.journey.plans import LEGS
from cartflow.domain.roles import Action

PLAN_ACTIONS = (
    Action.ACCEPT_PLAN,
    Action.RELEASE_PLAN,
    Action.CONFIRM_PLAN_SLOT,
    Action.DECLINE_PLAN_SLOT,
)

STATUS_WORDS = {
    "accepted": gettext_lazy("accepted; the manufacturing site has not answered yet"),
    "confirmed": gettext_lazy("accepted and confirmed by the manufacturing site"),
    "declined": gettext_lazy("declined by the manufacturing site: re-plan the case"),
    "released": gettext_lazy("released"),
}


FACT_WORDS = {
    "infusion_window_days": gettext_lazy("the days allowed between chemotherapy and infusion"),
    "post_thaw_minutes": gettext_lazy("the time limit after thawing"),
    "lymphodepletion": gettext_lazy("the chemotherapy regimen"),
    "monitoring_days": gettext_lazy("the monitoring period"),
    "manufacturing_turnaround_days": gettext_lazy("the manufacturing time"),
}


def no_plan_words(no_plan: Any, product: str) -> str:
    """Why no plan is proposed, in plain words (no fact or site identifiers)."""
    if no_plan is None:
        return ""
    if no_plan.missing:
        facts = ", ".join(str(FACT_WORDS.get(m, m.replace("_", " "))) for m in no_plan.missing)
        return _(
            "the product catalog does not know %(facts)s for %(product)s: a physician or "
            "quality reviewer records the site's protocol value, or the label is checked"
        ) % {"facts": facts, "product": product}
    if "step" in no_plan.reason:
        return _("the case is not at a step a plan starts from")
    return _(
        "no apheresis chair, manufacturing place, bed or courier is free within the planning "
        "horizon: the sites open more slots, then the plan is proposed again"
    )


def may_see_plan(roles: set[Any]) -> bool:
    return any(may(roles, action) for action in PLAN_ACTIONS)


def _refused(exc: Exception) -> str:
    if isinstance(exc, Conflict):
        return (
            _(CONFLICT_MESSAGE)
            if "changed since" in str(exc) and "version" in str(exc)
            else (
                _(
                    "The proposed plan changed since you loaded it (another case was booked), so "
                    "nothing was recorded. Look at the new proposal below and accept it again."
                )
            )
        )
    if isinstance(exc, JourneyError):
        return words(exc.rule_id, {}, exc.rule)
    if isinstance(exc, DomainError):
        return str(exc)
    return _("The input was not accepted.")


def _context(request: HttpRequest, case: Any) -> dict[str, Any]:
    roles = case_roles(request.user, case)
    state = case_state(case)
    proposal = plans.propose(case) if plans.is_plannable(state.step) else None
    today = plans.site_today(case)
    accepted = state.plan
    accepted_legs = []
    if accepted is not None:
        accepted_legs = [(leg_words(k), getattr(accepted, k)) for k in LEGS]
    holds = accepted is not None and accepted.holds_capacity
    from cartflow.clinic.patient_view import product_name

    return {
        "case": case,
        "coi": case.coi,
        "today": today,
        "no_plan": no_plan_words(
            proposal.no_plan if proposal is not None else None, product_name(state.product_id)
        ),
        "proposal": proposal,
        "proposal_legs": [(leg_words(leg.key), leg.on) for leg in proposal.legs]
        if proposal is not None
        else [],
        "proposal_chart": timeline_chart(proposal.dates, today) if proposal else "",
        "accepted": accepted,
        "accepted_status": STATUS_WORDS.get(accepted.status, "") if accepted else "",
        "accepted_legs": accepted_legs,
        "accepted_chart": timeline_chart({k: getattr(accepted, k) for k in LEGS}, today)
        if accepted is not None and holds
        else "",
        "may_accept": may(roles, Action.ACCEPT_PLAN) and not holds,
        "may_release": may(roles, Action.RELEASE_PLAN) and holds,
        "may_answer": may(roles, Action.CONFIRM_PLAN_SLOT)
        and accepted is not None
        and accepted.status == "accepted",
    }


@login_required(login_url="login")
@require_http_methods(["GET", "POST"])
@guarded
def plan_page(request: HttpRequest, coi: str) -> HttpResponse:
    """The case's proposed plan as a timeline against today; the coordinator accepts it."""
    if request.method == "POST":
        case = access.get_case_for_user(request.user, coi, Action.ACCEPT_PLAN)
        try:
            plans.accept_plan(
                case,
                acting_user=request.user,
                proposal=str(request.POST.get("proposal", ""))[:64],
                request_meta=RequestMeta.from_request(request),
            )
        except (DomainError, Conflict) as exc:
            context = {**_context(request, case), "error": _refused(exc)}
            return render(request, "clinic/plan.html", context, status=400)
        plan = case_state(case.__class__.objects.get(pk=case.pk)).plan
        acknowledge(
            request,
            case,
            _(
                "Plan accepted: cell collection on %(apheresis)s, infusion planned for "
                "%(infusion)s; the chair and the manufacturing slot are booked, and the "
                "manufacturing site is asked to confirm its slot"
            )
            % {
                "apheresis": plan.apheresis_on.isoformat() if plan else "",
                "infusion": plan.infusion_on.isoformat() if plan else "",
            },
        )
        return redirect("plan", coi=case.coi)
    case = access.get_case_for_user(request.user, coi, Action.VIEW_CASE)
    if not may_see_plan(case_roles(request.user, case)):
        raise PermissionDenied(_("you hold no role that plans this case"))
    return render(request, "clinic/plan.html", _context(request, case))


@login_required(login_url="login")
@require_POST
@guarded
def plan_answer(request: HttpRequest, coi: str) -> HttpResponse:
    """The manufacturing site confirms or declines the slot the plan proposed to it."""
    decline = request.POST.get("answer") == "decline"
    action = Action.DECLINE_PLAN_SLOT if decline else Action.CONFIRM_PLAN_SLOT
    case = access.get_case_for_user(request.user, coi, action)
    meta = RequestMeta.from_request(request)
    try:
        if decline:
            plans.decline_plan_slot(
                case,
                reason=str(request.POST.get("reason", "")).strip()[:300],
                acting_user=request.user,
                request_meta=meta,
            )
            done = _("The manufacturing slot was declined; the coordinator re-plans the case")
        else:
            plans.confirm_plan_slot(case, acting_user=request.user, request_meta=meta)
            done = _("The manufacturing slot was confirmed")
    except (DomainError, Conflict) as exc:
        context = {**_context(request, case), "error": _refused(exc)}
        return render(request, "clinic/plan.html", context, status=400)
    acknowledge(request, case, done)
    return redirect("plan", coi=case.coi)


@login_required(login_url="login")
@require_POST
@guarded
def plan_release(request: HttpRequest, coi: str) -> HttpResponse:
    """Re-planning: release the plan's unused bookings, with the reason."""
    case = access.get_case_for_user(request.user, coi, Action.RELEASE_PLAN)
    try:
        plans.release_plan(
            case,
            reason=str(request.POST.get("reason", "")).strip()[:300],
            acting_user=request.user,
            request_meta=RequestMeta.from_request(request),
        )
    except (DomainError, Conflict) as exc:
        context = {**_context(request, case), "error": _refused(exc)}
        return render(request, "clinic/plan.html", context, status=400)
    acknowledge(
        request,
        case,
        _("The plan was released and its unused bookings given back; a new plan is proposed"),
    )
    return redirect("plan", coi=case.coi)


@login_required(login_url="login")
def capacity_page(request: HttpRequest) -> HttpResponse:
    """The network's capacity per week: chairs and manufacturing places offered and taken,
    infusion beds the accepted plans hold."""
    require_anywhere(request.user, Action.VIEW_CAPACITY)
    weeks = plans.capacity_by_week(timezone.localdate(), 8)
    return render(
        request,
        "clinic/capacity.html",
        {
            "weeks": weeks,
            "chart": capacity_chart(weeks),
            "beds_per_day": plans.INFUSION_BEDS_PER_DAY,
            "monitoring_beds": plans.MONITORING_BEDS,
        },
    )
