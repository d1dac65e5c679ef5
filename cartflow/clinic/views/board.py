"""The work queue (what waits on me) and the journey board (every case I may see, by step)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from cartflow.clinic import access
from cartflow.clinic.access_log import NAME, identity_shown
from cartflow.clinic.case_state import case_state
from cartflow.clinic.models import CaseParticipant, CaseProjection, Membership, TherapyCase
from cartflow.clinic.services.machine import catalog
from cartflow.clinic.services.patient_access import is_patient_login
from cartflow.clinic.vein_bar import vein_bar
from cartflow.clinic.worklist import (
    ROLE_NAMES,
    ROLE_WORDS,
    indication_words,
    product_words,
    step_words,
    waiting_words,
    waits_on,
)
from cartflow.domain.journey import CaseState, Step, vein_to_vein
from cartflow.domain.roles import PSEUDONYMISED_KINDS, Action, Role, can

PHASES: tuple[tuple[Any, tuple[Step, ...]], ...] = (
    (_("Referral and eligibility"), (Step.NEW, Step.REFERRED, Step.ANTIGEN_TESTED, Step.ELIGIBLE)),
    (
        _("1. Leukapheresis"),
        (
            Step.SCREENED,
            Step.APHERESIS_SCHEDULED,
            Step.COLLECTION_FAILED,
            Step.COLLECTED,
            Step.BRIDGING,
        ),
    ),
    (_("2. T-cell engineering"), (Step.MANUFACTURING, Step.OUT_OF_SPECIFICATION, Step.RELEASED)),
    (_("3. Cryogenic transport"), (Step.SHIPPED, Step.QUARANTINED, Step.RECEIVED, Step.AVAILABLE)),
    (_("4. Lymphodepletion"), (Step.LYMPHODEPLETING, Step.LYMPHODEPLETED)),
    (_("5. Infusion"), (Step.THAWED, Step.INFUSING, Step.INFUSED)),
    (_("6. Expansion, monitoring and follow-up"), (Step.MONITORING, Step.LONG_TERM_FOLLOW_UP)),
    (
        _("Product rejected, expired or disposed"),
        (Step.PRODUCT_REJECTED, Step.PRODUCT_EXPIRED, Step.PRODUCT_DISPOSED),
    ),
)
ATTENTION = {Step.OUT_OF_SPECIFICATION, Step.QUARANTINED, Step.PRODUCT_REJECTED}


def clocks(state: CaseState, now: datetime) -> dict[str, Any]:
    """Days since the (latest successful) apheresis, and the vein-to-vein clock asked of the
    domain (``journey.vein_to_vein``: from that collection to the first infusion, or to now
    while the patient waits) with the product's typical time and its bar."""
    v2v = vein_to_vein(state, catalog(), now)
    collected = state.collection.at if state.collection is not None else None
    return {
        "since_apheresis": (now - collected).days if collected is not None else None,
        "vein_to_vein": v2v.days,
        "v2v_running": v2v.running,
        "v2v_typical": f"{v2v.typical_days:g}" if v2v.typical_days is not None else "",
        "v2v_source": v2v.source,
        "v2v_over": v2v.over,
        "v2v_bar": vein_bar(v2v),
    }


def board_rows(user: Any) -> list[dict[str, Any]]:
    """Every active case the user may see: two queries, whatever the number of cases."""
    now = timezone.now()
    rows = (
        CaseProjection.objects.filter(active=True, case__in=access.cases_for_user(user))
        .select_related("case__treating_site")
        .order_by("updated_at")
    )
    rows = list(rows)
    case_ids = [row.case_id for row in rows]
    names = _names(user, case_ids)
    taking_part: dict[int, set[int]] = {}
    for case_id, site_id in CaseParticipant.objects.filter(case_id__in=case_ids).values_list(
        "case_id", "site_id"
    ):
        taking_part.setdefault(case_id, set()).add(site_id)
    mine = access.memberships(user)
    found = []
    for row in rows:
        state = case_state(row)
        step = state.step
        sites = taking_part.get(row.case_id, set())
        # Roles held at a site of the case: what the user may open, and what is theirs to do.
        here = {Role(role) for site, _, role in mine if site in sites}
        waiting = waits_on(state)
        found.append(
            {
                "coi": row.case.coi,
                "patient": names.get(row.case_id, ""),
                "product": product_words(state.product_id or row.case.product),
                "product_id": state.product_id or row.case.product,
                "indication": indication_words(state.indication_id),
                "site": row.case.treating_site.name,
                "site_slug": row.case.treating_site.slug,
                "zone": row.case.treating_site.time_zone,
                "step": row.step,
                "step_words": step_words(step),
                "waiting_for": waiting_words(state),
                "waits_on": ", ".join(str(ROLE_WORDS[r]) for r in waiting),
                "mine": bool(here & set(waiting)),
                "may_open": any(can(role, Action.VIEW_CASE) for role in here),
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
        .values_list("pk", "patient__family_name", "patient__given_name", "patient__public_id")
        .distinct()
    )
    identity_shown([public_id for *_, public_id in rows], (NAME,))
    return {pk: f"{family}, {given}" for pk, family, given, _ in rows}


def _roles(user: Any) -> list[dict[str, str]]:
    return [
        {"role": str(ROLE_NAMES.get(Role(m.role), m.role)), "site": m.site.name}
        for m in Membership.objects.filter(user=user)
        .select_related("site")
        .order_by("site__name", "role")
    ]


def _landing(user: Any) -> str | None:
    """The page of a user whose roles move no case on: the auditor's audit, the
    administrator's users and sites."""
    roles = access.roles_anywhere(user)
    if roles and not roles - {Role.AUDITOR, Role.ADMIN}:
        return "audit" if Role.AUDITOR in roles else "network"
    return None


@login_required(login_url="login")
def home(request: HttpRequest) -> HttpResponse:
    """The work queue: the cases waiting on the user's roles at their sites, oldest first."""
    if is_patient_login(request.user):
        return redirect("patient_home")
    landing = _landing(request.user)
    if landing is not None:
        return redirect(landing)
    rows = [row for row in board_rows(request.user) if row["mine"]]
    context = {
        "rows": rows,
        "count": len(rows),
        "roles": _roles(request.user),
        "may_register": access.can_anywhere(request.user, Action.REGISTER_PATIENT),
    }
    template = "clinic/_queue.html" if request.htmx else "clinic/queue.html"
    return render(request, template, context)


def _matches(row: dict[str, Any], query: str, compact: str | None) -> bool:
    if not query:
        return True
    if compact and compact in row["coi"]:
        return True
    if query.upper().replace("-", "").replace(" ", "") in row["coi"]:
        return True
    return bool(row["patient"]) and query.casefold() in row["patient"].casefold()


@login_required(login_url="login")
@require_http_methods(["GET", "POST"])
def board(request: HttpRequest) -> HttpResponse:
    """Every active case the user may see, by step, with search and filters.

    The search form posts: a patient's name searched for must not travel in a URL, where
    it would land in every proxy's and server's access log.
    """
    if is_patient_login(request.user):
        return redirect("patient_home")
    everything = board_rows(request.user)
    asked = request.POST if request.method == "POST" else request.GET
    query = str(asked.get("q", "")).strip()[:80]
    phase = str(asked.get("phase", ""))
    product = str(asked.get("product", ""))
    site = str(asked.get("site", ""))
    compact = access.normalise_coi(query) if query else None
    rows = [
        row
        for row in everything
        if _matches(row, query, compact)
        and (not product or row["product_id"] == product)
        and (not site or row["site_slug"] == site)
    ]
    by_step: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_step.setdefault(row["step"], []).append(row)
    phases = []
    for number, (title, steps) in enumerate(PHASES):
        if phase and phase != str(number):
            continue
        cases = [row for step in steps for row in by_step.get(step.value, [])]
        phases.append({"title": title, "cases": cases})
    shown = sum(len(p["cases"]) for p in phases)
    context = {
        "phases": phases,
        "count": shown,
        "total": len(everything),
        "roles": _roles(request.user),
        "query": query,
        "phase": phase,
        "product": product,
        "site": site,
        "phase_choices": [(str(n), t) for n, (t, _steps) in enumerate(PHASES)],
        "product_choices": sorted({(r["product_id"], r["product"]) for r in everything}),
        "site_choices": sorted({(r["site_slug"], r["site"]) for r in everything}),
        "may_register": access.can_anywhere(request.user, Action.REGISTER_PATIENT),
        "may_list_patients": access.can_anywhere(request.user, Action.VIEW_PATIENT),
        "may_search_names": access.can_anywhere(request.user, Action.VIEW_PATIENT),
    }
    template = "clinic/_board.html" if request.htmx else "clinic/board.html"
    return render(request, template, context)
