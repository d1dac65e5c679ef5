"""Quality: the products waiting for a decision, and the deviations to review.

The decisions themselves (quarantine, out of specification) are signed on the case page, by
the same forms and services as every step; a deviation is closed by signing it as reviewed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods

from cartflow.clinic import access
from cartflow.clinic.case_state import case_state
from cartflow.clinic.models import CaseProjection
from cartflow.clinic.refusal_words import deviation_words
from cartflow.clinic.services.context import RequestMeta
from cartflow.clinic.services.deviations import (
    OpenDeviationRow,
    open_deviations,
    review_deviation,
)
from cartflow.clinic.services.errors import ServiceError
from cartflow.clinic.services.signatures import printed_name
from cartflow.clinic.views.common import guarded, refusal, require_anywhere
from cartflow.clinic.views.registry import export_sites
from cartflow.clinic.worklist import step_words, waiting_words
from cartflow.domain.errors import DomainError
from cartflow.domain.journey import Step
from cartflow.domain.roles import Action

DECISIONS = (Step.OUT_OF_SPECIFICATION, Step.QUARANTINED)
REPEATED_WITHIN = timedelta(minutes=10)
SCAN_WORDS = {
    "wristband": gettext_lazy("the wristband"),
    "identity": gettext_lazy("the second identifier"),
    "bag_label": gettext_lazy("the bag's identity label"),
    "bag_id": gettext_lazy("the bag's number"),
}


def _deviation(row: OpenDeviationRow, names: dict[str, str]) -> dict[str, Any]:
    deviation = row.deviation
    details = deviation.details
    scanned = details.get("scanned", "")
    return {
        "case": row.case,
        "coi": row.case.coi,
        "numbers": [row.number],
        "what": deviation_words(deviation.kind, details, deviation.summary),
        "scan": str(SCAN_WORDS.get(details.get("scan", ""), "")),
        "scanned": scanned,
        "key": (row.case.pk, details.get("rule", ""), scanned, deviation.actor),
        "who": names.get(deviation.actor, deviation.actor),
        "first": row.event.recorded_at,
        "last": row.event.recorded_at,
        "count": 1,
    }


def grouped_deviations(rows: list[OpenDeviationRow]) -> list[dict[str, Any]]:
    """Open deviations, the same refusal repeated within minutes shown once with a count: a
    nurse rescanning the same wrong bag five times made one mistake, not five; each stays
    its own record, and one review signs them all."""
    names = {
        u.username: printed_name(u)
        for u in get_user_model().objects.filter(
            username__in={r.deviation.actor for r in rows}
        )
    }
    shown: list[dict[str, Any]] = []
    for row in rows:
        item = _deviation(row, names)
        last = next((d for d in reversed(shown) if d["key"] == item["key"]), None)
        if last is not None and item["first"] - last["last"] <= REPEATED_WITHIN:
            last["numbers"].append(row.number)
            last["count"] += 1
            last["last"] = item["first"]
            continue
        shown.append(item)
    for item in shown:
        item["form_id"] = f"{item['coi']}-{item['numbers'][0]}"
    return shown


def _context(request: HttpRequest, **more: object) -> dict[str, object]:
    visible = access.cases_for_user(request.user)
    waiting = (
        CaseProjection.objects.filter(case__in=visible, step__in=[s.value for s in DECISIONS])
        .select_related("case")
        .order_by("updated_at")
    )
    deviations = grouped_deviations(open_deviations(visible))
    failed = str(more.get("failed", ""))
    return {
        "problem_elsewhere": bool(more.get("problem"))
        and failed not in {d["form_id"] for d in deviations},
        "waiting": [
            {
                "coi": row.case.coi,
                "step_words": step_words(row.step),
                "waiting_for": waiting_words(case_state(row)),
                "updated_at": row.updated_at,
            }
            for row in waiting
        ],
        "deviations": deviations,
        "registry_sites": export_sites(request.user),
        "problem": None,
        "failed": "",
        "comment": "",
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
    """Review deviations of the case: a comment, signed with the password entered again."""
    case = access.get_case_for_user(request.user, coi, Action.REVIEW_DEVIATION)
    raw = request.POST.getlist("number")[:50]
    numbers = [int(n) for n in raw if str(n).strip().isdigit()]
    comment = str(request.POST.get("comment", "")).strip()
    form_id = f"{case.coi}-{numbers[0] if numbers else ''}"
    if not numbers or not comment:
        problem = {
            "title": _("Not signed"),
            "rule": _("Write what you found and what was done: the comment is required.")
            if numbers
            else _("Choose a deviation of this case to review."),
        }
        context = _context(request, problem=problem, failed=form_id, comment=comment)
        return render(request, "clinic/quality.html", context, status=422)
    try:
        review_deviation(
            case,
            numbers,
            comment=comment,
            password=str(request.POST.get("password", "")),
            acting_user=request.user,
            request_meta=RequestMeta.from_request(request),
        )
    except (DomainError, ServiceError) as exc:
        context = _context(request, problem=refusal(exc), failed=form_id, comment=comment)
        return render(request, "clinic/quality.html", context, status=422)
    count = len(numbers)
    messages.success(
        request,
        ngettext(
            "Deviation on case %(coi)s reviewed and signed by %(name)s, with your comment. "
            "It leaves the list of open deviations; nothing more is needed from anyone.",
            "%(count)d deviations on case %(coi)s reviewed and signed by %(name)s, with your "
            "comment. They leave the list of open deviations; nothing more is needed from "
            "anyone.",
            count,
        )
        % {"coi": case.coi, "name": printed_name(request.user), "count": count},
    )
    return redirect("quality")
