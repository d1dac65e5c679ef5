"""Audit: verify a case's chain and the network ledger, and show the first broken link."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cartflow.clinic import access, services
from cartflow.clinic.views.common import guarded, require_anywhere
from cartflow.domain.roles import Action


@login_required(login_url="login")
def audit_page(request: HttpRequest) -> HttpResponse:
    """The network ledger and every case in it (verified on request: it reads every event)."""
    require_anywhere(request.user, Action.VERIFY_AUDIT)
    report = services.verify_ledger() if request.GET.get("verify") == "ledger" else None
    return render(request, "clinic/audit.html", {"report": report})


@login_required(login_url="login")
@guarded
def case_audit(request: HttpRequest, coi: str) -> HttpResponse:
    case = access.get_case_for_user(request.user, coi, Action.VERIFY_AUDIT)
    report = services.verify_case(case)
    context = {"case": case, "coi": case.coi, "report": report}
    return render(request, "clinic/case_audit.html", context)
