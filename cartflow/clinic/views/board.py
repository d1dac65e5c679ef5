"""The journey board: the cases a user may see, grouped by step, with their clocks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from cartflow.clinic import access
from cartflow.clinic.case_state import case_state
from cartflow.clinic.models import CaseProjection, Membership, TherapyCase
from cartflow.clinic.services.patient_access import is_patient_login
from cartflow.domain.journey import CaseState, Step
from cartflow.domain.roles import PSEUDONYMISED_KINDS, Action, can

PHASES: tuple[tuple[str, tuple[Step, ...]], ...] = (
    ("Referral and eligibility", (Step.NEW, Step.REFERRED, Step.ANTIGEN_TESTED, Step.ELIGIBLE)),
    (
        "1. Leukapheresis",
        (
            Step.SCREENED,
            Step.APHERESIS_SCHEDULED,
            Step.COLLECTION_FAILED,
            Step.COLLECTED,
            Step.BRIDGING,
        ),
    ),
    ("2. T-cell engineering", (Step.MANUFACTURING, Step.OUT_OF_SPECIFICATION, Step.RELEASED)),
    ("3. Cryogenic transport", (Step.SHIPPED, Step.QUARANTINED, Step.RECEIVED, Step.AVAILABLE)),
    ("4. Lymphodepletion", (Step.LYMPHODEPLETING, Step.LYMPHODEPLETED)),
    ("5. Infusion", (Step.THAWED, Step.INFUSING, Step.INFUSED)),
    ("6. Expansion, monitoring and follow-up", (Step.MONITORING, Step.LONG_TERM_FOLLOW_UP)),
    (
        "Product rejected, expired or disposed",
        (Step.PRODUCT_REJECTED, Step.PRODUCT_EXPIRED, Step.PRODUCT_DISPOSED),
    ),
)
ATTENTION = {Step.OUT_OF_SPECIFICATION, Step.QUARANTINED, Step.PRODUCT_REJECTED}

WAITS_ON = {
    "signature": {Step.ANTIGEN_TESTED, Step.OUT_OF_SPECIFICATION, Step.QUARANTINED, Step.THAWED},
    "slot": {Step.SCREENED, Step.COLLECTION_FAILED, Step.COLLECTED, Step.PRODUCT_DISPOSED},
    "shipment": {Step.RELEASED, Step.SHIPPED},
    "quality decision": {Step.OUT_OF_SPECIFICATION, Step.QUARANTINED},
}


def clocks(state: CaseState, now: datetime) -> dict[str, Any]:
    """Days since the (latest successful) apheresis, and the vein-to-vein clock in days: from
    that collection to the first infusion, or to now while the patient waits."""
    collected = state.collection.at if state.collection is not None else None
    infused = state.first_infusion_at
    if collected is None:
        return {"since_apheresis": None, "vein_to_vein": None, "v2v_running": False}
    end = infused or now
    return {
        "since_apheresis": (now - collected).days,
        "vein_to_vein": (end - collected).days,
        "v2v_running": infused is None,
    }


def board_rows(user: Any) -> list[dict[str, Any]]:
    """Every active case the user may see: one query, whatever the number of cases."""
    now = timezone.now()
    rows = (
        CaseProjection.objects.filter(active=True, case__in=access.cases_for_user(user))
        .select_related("case__treating_site")
        .order_by("updated_at")
    )
    rows = list(rows)
    names = _names(user, [row.case_id for row in rows])
    found = []
    for row in rows:
        state = case_state(row)
        step = state.step
        waits = sorted(kind for kind, steps in WAITS_ON.items() if step in steps)
        found.append(
            {
                "coi": row.case.coi,
                "patient": names.get(row.case_id, ""),
                "product": row.case.product,
                "site": row.case.treating_site.name,
                "zone": row.case.treating_site.time_zone,
                "step": row.step,
                "step_words": row.step.replace("_", " "),
                "waiting_for": state.waiting_for,
                "waits": waits,
                "attention": step in ATTENTION,
                "updated_at": row.updated_at,
                **clocks(state, now),
            }
        )
    return found


def _names(user: Any, case_ids: list[int]) -> dict[int, str]:
    """The patient's name for the cases the user may identify (``access.may_identify``'s rule:
    a role that may view patients, at a site of the case that is not a manufacturer or
    courier); one query, whatever the number of cases."""
    sites = {
        site
        for site, kind, role in access.memberships(user)
        if kind not in PSEUDONYMISED_KINDS and can(role, Action.VIEW_PATIENT)
    }
    if not sites or not case_ids:
        return {}
    rows = (
        TherapyCase.objects.filter(pk__in=case_ids, participants__site_id__in=sites)
        .values_list("pk", "patient__family_name", "patient__given_name")
        .distinct()
    )
    return {pk: f"{family}, {given}" for pk, family, given in rows}


@login_required(login_url="login")
def board(request: HttpRequest) -> HttpResponse:
    if is_patient_login(request.user):
        return redirect("patient_home")
    rows = board_rows(request.user)
    by_step: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_step.setdefault(row["step"], []).append(row)
    phases = []
    for title, steps in PHASES:
        cases = [row for step in steps for row in by_step.get(step.value, [])]
        phases.append({"title": title, "cases": cases})
    roles = [
        {"role": m.role, "site": m.site.name}
        for m in Membership.objects.filter(user=request.user)
        .select_related("site")
        .order_by("site__name", "role")
    ]
    context = {
        "phases": phases,
        "count": len(rows),
        "roles": roles,
        "may_register": access.can_anywhere(request.user, Action.REGISTER_PATIENT),
        "may_list_patients": access.can_anywhere(request.user, Action.VIEW_PATIENT),
    }
    template = "clinic/_board.html" if request.htmx else "clinic/board.html"
    return render(request, template, context)
