"""Quality: the products waiting for a decision, and the deviations to review.

The decisions themselves (quarantine, out of specification) are signed on the case page, by
the same forms and services as every step; a deviation is closed by signing it as reviewed.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from cartflow.clinic import access, refusal_words
from cartflow.clinic.case_state import case_state
from cartflow.clinic.models import CaseProjection
from cartflow.clinic.services.context import RequestMeta
from cartflow.clinic.services.deviations import open_deviations, review_deviation
from cartflow.clinic.services.errors import ServiceError
from cartflow.clinic.services.signatures import printed_name
from cartflow.clinic.views.common import guarded, refusal, require_anywhere
from cartflow.clinic.views.registry import export_sites
from cartflow.clinic.worklist import step_words, waiting_words
from cartflow.domain.errors import DomainError
from cartflow.domain.journey import Step
from cartflow.domain.journey.payloads import DeviationOpened
from cartflow.domain.roles import Action

DECISIONS = (Step.OUT_OF_SPECIFICATION, Step.QUARANTINED)
REPEATED_WITHIN = timedelta(minutes=10)
SCAN_WORDS = {
    "wristband": gettext_lazy("the wristband"),
    "identity": gettext_lazy("the second identifier"),
    "bag_label": gettext_lazy("the bag's identity label"),
    "bag_id": gettext_lazy("the bag's number"),
}


def _deviation(row: Any, names: dict[str, str]) -> dict[str, Any]:
    opened = DeviationOpened.from_data(json.loads(bytes(row.body)).get("data", {}))
    details = opened.details
    return {
        "case": row.case,
        "coi": row.case.coi,
        "hashes": [row.hash],
        "summary": refusal_words.deviation_summary(
            {"details": details, "summary": opened.summary}
        ),
        "scan": str(SCAN_WORDS.get(details.get("scan", ""), "")),
        "scanned": details.get("scanned", ""),
        "key": (row.case_id, details.get("rule", ""), details.get("scanned", ""), row.actor),
        "who": names.get(row.actor, row.actor),
        "first": row.recorded_at,
        "last": row.recorded_at,
        "count": 1,
    }


def grouped_deviations(rows: list[Any]) -> list[dict[str, Any]]:
    """Open deviations, the same refusal repeated within minutes shown once with a count: a
    nurse rescanning the same wrong bag five times made one mistake, not five; each stays
    its own record, and one review signs them all."""
    names = {
        u.username: printed_name(u)
        for u in get_user_model().objects.filter(username__in={r.actor for r in rows})
    }
    shown: list[dict[str, Any]] = []
    for row in rows:
        item = _deviation(row, names)
        last = next((d for d in reversed(shown) if d["key"] == item["key"]), None)
        if last is not None and item["first"] - last["last"] <= REPEATED_WITHIN:
            last["hashes"].append(row.hash)
            last["count"] += 1
            last["last"] = item["first"]
            continue
        shown.append(item)
    return shown


def _context(request: HttpRequest, **more: object) -> dict[str, object]:
    visible = access.cases_for_user(request.user)
    waiting = (
        CaseProjection.objects.filter(case__in=visible, step__in=[s.value for s in DECISIONS])
        .select_related("case")
        .order_by("updated_at")
    )
    return {
        "waiting": [
            {
                "coi": row.case.coi,
                "step_words": step_words(row.step),
                "waiting_for": waiting_words(case_state(row)),
                "updated_at": row.updated_at,
            }
            for row in waiting
        ],
        "deviations": grouped_deviations(open_deviations(visible)),
        "registry_sites": export_sites(request.user),
        "problem": None,
        **more,
    }


@login_required(login_url="login")
def quality_page(request: HttpRequest) -> HttpResponse:
    require_anywhere(request.user, Action.DECIDE_QUARANTINE)
    return render(request, "clinic/quality.html", _context(request))


@login_required(login_url="login")
@require_http_methods(["POST"])
@guarded
def review(request: HttpRequest, coi: str) -> HttpResponse:
    """Sign a deviation of the case as reviewed (the password entered again)."""
    case = access.get_case_for_user(request.user, coi, Action.DECIDE_QUARANTINE)
    hashes = [str(h)[:64] for h in request.POST.getlist("event_hash")][:50] or [""]
    try:
        for event_hash in hashes:
            review_deviation(
                case,
                event_hash,
                password=str(request.POST.get("password", "")),
                acting_user=request.user,
                request_meta=RequestMeta.from_request(request),
            )
    except (DomainError, ServiceError) as exc:
        context = _context(request, problem=refusal(exc), failed=case.coi)
        return render(request, "clinic/quality.html", context, status=422)
    messages.success(
        request,
        _("Deviation on case %(coi)s signed as reviewed; it leaves the list of open deviations.")
        % {"coi": case.coi},
    )
    return redirect("quality")
