"""Quality: the products waiting for a decision, and the deviations to review.

The decisions themselves (quarantine, out of specification) are signed on the case page, by
the same forms and services as every step; a deviation is closed by signing it as reviewed.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from cartflow.clinic import access
from cartflow.clinic.case_state import case_state
from cartflow.clinic.models import CaseProjection
from cartflow.clinic.services.context import RequestMeta
from cartflow.clinic.services.deviations import open_deviations, review_deviation
from cartflow.clinic.services.errors import ServiceError
from cartflow.clinic.views.common import guarded, refusal, require_anywhere
from cartflow.domain.errors import DomainError
from cartflow.domain.journey import Step
from cartflow.domain.roles import Action

DECISIONS = (Step.OUT_OF_SPECIFICATION, Step.QUARANTINED)


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
                "step_words": row.step.replace("_", " "),
                "waiting_for": case_state(row).waiting_for,
                "updated_at": row.updated_at,
            }
            for row in waiting
        ],
        "deviations": open_deviations(visible),
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
    try:
        review_deviation(
            case,
            str(request.POST.get("event_hash", ""))[:64],
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
