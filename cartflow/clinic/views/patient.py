"""The patient and family view, its set-up link, and the coordinator's page that issues it.

A patient or family login has no site membership: every staff page answers it as it answers
a stranger, and the only case it opens is the one its access names
(:func:`~cartflow.clinic.services.patient_access.case_for_patient`). When that access is
revoked or the case closes, the page says only that it is not available and to ask the care
team: it never says why.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from cartflow.clinic import access, patient_view
from cartflow.clinic.case_state import case_state
from cartflow.clinic.models import PatientAccess
from cartflow.clinic.refusal_words import words
from cartflow.clinic.services import patient_access as service
from cartflow.clinic.services.context import RequestMeta
from cartflow.clinic.services.errors import NotFound
from cartflow.clinic.views.auth import remember_language
from cartflow.clinic.views.common import guarded
from cartflow.domain.errors import DomainError
from cartflow.domain.journey import JourneyError
from cartflow.domain.journey.patient_access import GUARDIAN, PATIENT, AccessRefused
from cartflow.domain.roles import Action


def _refused(exc: Exception) -> str:
    if isinstance(exc, AccessRefused):
        return words(exc.rule_id, exc.params, exc.rule)
    if isinstance(exc, JourneyError):
        return words(exc.rule_id, {}, exc.rule)
    return str(exc)


def _patient_case(request: HttpRequest) -> service.PatientCase | None:
    """The case of a patient or family login; 404 for a staff login (it has none)."""
    seen = service.case_for_patient(request.user)
    if seen is None and not service.is_patient_login(request.user):
        raise Http404("not found")
    return seen


@login_required
def patient_home(request: HttpRequest) -> HttpResponse:
    seen = _patient_case(request)
    if seen is None:
        return render(request, "clinic/patient_closed.html", {"patient_view": True})
    page = patient_view.build(seen.case, seen.state, seen.access.holder, timezone.now())
    return render(
        request,
        "clinic/patient_home.html",
        {"page": page, "patient_view": True, "guardian": seen.access.holder == GUARDIAN},
    )


@login_required
def patient_card(request: HttpRequest) -> HttpResponse:
    seen = _patient_case(request)
    if seen is None:
        return render(request, "clinic/patient_closed.html", {"patient_view": True})
    page = patient_view.build(seen.case, seen.state, seen.access.holder, timezone.now())
    return render(request, "clinic/patient_card.html", {"page": page, "patient_view": True})


@require_http_methods(["GET", "POST"])
def access_setup(request: HttpRequest, token: str) -> HttpResponse:
    """Turn a set-up link into one's own login: choose a user name and a password."""
    context: dict[str, Any] = {"patient_view": True, "token": token}
    try:
        found = service.access_for_token(token)
    except NotFound:
        found = None
    usable = (
        found is not None
        and found.used_at is None
        and found.revoked_at is None
        and found.expires_at > timezone.now()
    )
    if not usable:
        return render(request, "clinic/patient_link_refused.html", context, status=404)
    if request.method == "POST":
        username = request.POST.get("username", "")
        password = request.POST.get("password", "")
        if password != request.POST.get("password_again", ""):
            context["error"] = _("The two passwords are not the same.")
        else:
            try:
                user = service.set_up_patient_access(
                    token,
                    username=username,
                    password=password,
                    request_meta=RequestMeta.from_request(request),
                )
            except (DomainError, NotFound) as exc:
                if isinstance(exc, AccessRefused | NotFound):
                    return render(request, "clinic/patient_link_refused.html", context, status=404)
                context["error"] = str(exc)
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                response = redirect("patient_home")
                remember_language(response, found.language)
                return response
        context["username"] = username
        return render(request, "clinic/patient_setup.html", context, status=400)
    return render(request, "clinic/patient_setup.html", context)


def _manage_context(case: Any) -> dict[str, Any]:
    state = case_state(case)
    return {
        "case": case,
        "accesses": PatientAccess.objects.filter(case=case).order_by("issued_at"),
        "planned": state.planned_dates,
        "now": timezone.now(),
    }


@login_required
@require_http_methods(["GET", "POST"])
@guarded
def patient_access_page(request: HttpRequest, coi: str) -> HttpResponse:
    """The coordinator's page: issue a set-up link (shown once), revoke, planned dates."""
    case = access.get_case_for_user(request.user, coi, Action.MANAGE_PATIENT_ACCESS)
    status = 200
    extra: dict[str, Any] = {}
    if request.method == "POST":
        holder = request.POST.get("holder", "")
        try:
            if holder not in (PATIENT, GUARDIAN):
                raise DomainError(_("Choose who receives the access."))
            issued = service.issue_patient_access(
                case,
                holder=holder,
                holder_name=request.POST.get("holder_name", ""),
                language=request.POST.get("language", ""),
                acting_user=request.user,
                request_meta=RequestMeta.from_request(request),
            )
        except DomainError as exc:
            extra["error"] = _refused(exc)
            status = 400
        else:
            extra["issued"] = issued.access
            extra["link"] = request.build_absolute_uri(
                reverse("patient_access_setup", args=[issued.token])
            )
    return render(
        request, "clinic/patient_access.html", {**_manage_context(case), **extra}, status=status
    )


@login_required
@require_POST
@guarded
def patient_access_revoke(request: HttpRequest, coi: str, access_id: Any) -> HttpResponse:
    case = access.get_case_for_user(request.user, coi, Action.MANAGE_PATIENT_ACCESS)
    try:
        service.revoke_patient_access(
            case,
            access_id,
            acting_user=request.user,
            request_meta=RequestMeta.from_request(request),
        )
    except DomainError as exc:
        return render(
            request,
            "clinic/patient_access.html",
            {**_manage_context(case), "error": _refused(exc)},
            status=400,
        )
    return redirect("patient_access", coi=case.coi)


def _date(value: str) -> date | None:
    value = (value or "").strip()
    return date.fromisoformat(value) if value else None


@login_required
@require_POST
@guarded
def planned_dates(request: HttpRequest, coi: str) -> HttpResponse:
    case = access.get_case_for_user(request.user, coi, Action.RECORD_PLANNED_DATES)
    try:
        service.record_planned_dates(
            case,
            apheresis_on=_date(request.POST.get("apheresis_on", "")),
            lymphodepletion_on=_date(request.POST.get("lymphodepletion_on", "")),
            infusion_on=_date(request.POST.get("infusion_on", "")),
            acting_user=request.user,
            request_meta=RequestMeta.from_request(request),
        )
    except (DomainError, ValueError) as exc:
        return render(
            request,
            "clinic/patient_access.html",
            {**_manage_context(case), "error": _refused(exc)},
            status=400,
        )
    return redirect("patient_access", coi=case.coi)
