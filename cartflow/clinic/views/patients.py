"""Patients: the list, registration, one patient (antigen tests, cases) and the referral."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from pydantic import ValidationError

from cartflow.clinic import access, services
from cartflow.clinic.access_log import identity_shown
from cartflow.clinic.api.schemas.cases import ReferralIn
from cartflow.clinic.api.schemas.patients import PatientIn
from cartflow.clinic.forms.reading import local_datetime, plain_message
from cartflow.clinic.models import AntigenTest, Site
from cartflow.clinic.services import referral
from cartflow.clinic.services.context import RequestMeta
from cartflow.clinic.services.errors import Conflict, ServiceError
from cartflow.clinic.services.machine import catalog
from cartflow.clinic.views.common import acknowledge, guarded, refusal, require_anywhere
from cartflow.domain.errors import DomainError
from cartflow.domain.roles import PSEUDONYMISED_KINDS, Action

PATIENT_FIELDS = ("site", "record_number", "given_name", "family_name", "birth_date", "sex")


def _errors(exc: ValidationError) -> dict[str, str]:
    found: dict[str, str] = {}
    for error in exc.errors():
        loc = [str(p) for p in error.get("loc", ())]
        name = loc[0] if loc else ""
        found.setdefault(name, plain_message(error))
    return found


@login_required(login_url="login")
def patient_list(request: HttpRequest) -> HttpResponse:
    require_anywhere(request.user, Action.VIEW_PATIENT)
    patients = (
        access.patients_for_user(request.user)
        .select_related("treating_site")
        .prefetch_related("cases")
        .order_by("treating_site__name", "family_name", "given_name")[:500]
    )
    identity_shown(patients)
    return render(
        request,
        "clinic/patients.html",
        {
            "patients": patients,
            "may_register": access.can_anywhere(request.user, Action.REGISTER_PATIENT),
        },
    )


def _registration_sites(user: Any) -> list[Site]:
    ids = access.sites_where(user, Action.REGISTER_PATIENT)
    return list(
        Site.objects.filter(pk__in=ids).exclude(kind__in=PSEUDONYMISED_KINDS).order_by("name")
    )


@login_required(login_url="login")
@require_http_methods(["GET", "POST"])
def patient_new(request: HttpRequest) -> HttpResponse:
    sites = _registration_sites(request.user)
    if not sites:
        raise PermissionDenied(_("you hold no role that may register patients"))
    errors: dict[str, str] = {}
    problem = None
    values: dict[str, str] = {}
    if request.method == "POST":
        values = {name: str(request.POST.get(name, "")).strip() for name in PATIENT_FIELDS}
        site = next((s for s in sites if s.slug == values["site"]), None)
        if site is None:
            errors["site"] = _("choose one of your treatment centers")
        try:
            data = PatientIn.model_validate(
                {k: v for k, v in values.items() if k != "site" and (v or k == "sex")}
            )
        except ValidationError as exc:
            errors.update(_errors(exc))
        else:
            if site is not None:
                try:
                    patient = services.register_patient(
                        site,
                        record_number=data.record_number,
                        given_name=data.given_name,
                        family_name=data.family_name,
                        birth_date=data.birth_date,
                        sex=data.sex,
                        acting_user=request.user,
                        request_meta=RequestMeta.from_request(request),
                    )
                except Conflict as exc:
                    # The record number is taken at that center: say so, not "reload".
                    problem = {"title": _("Not registered"), "rule": str(exc)}
                except (DomainError, ServiceError) as exc:
                    problem = refusal(exc)
                else:
                    messages.success(
                        request,
                        _(
                            "Patient registered. Next: a physician refers the patient for a "
                            "product on this page."
                        ),
                    )
                    return redirect("patient", patient_id=patient.public_id)
    status = 422 if (errors or problem) else 200
    return render(
        request,
        "clinic/patient_new.html",
        {"sites": sites, "errors": errors, "problem": problem, "values": values},
        status=status,
    )


def _indications() -> list[dict[str, str]]:
    cat = catalog()
    return [
        {"id": i.id, "product": i.product, "title": f"{cat.product(i.product).brand}: {i.title}"}
        for i in cat.indications()
    ]


def patient_context(request: HttpRequest, patient: Any, **more: Any) -> dict[str, Any]:
    identity_shown([patient])
    return {
        "patient": patient,
        "antigen_tests": AntigenTest.objects.filter(patient=patient).order_by("tested_on", "pk"),
        "cases": patient.cases.select_related("projection").order_by("created_at"),
        "may_refer": access.can_anywhere(request.user, Action.REFER_PATIENT)
        and patient.treating_site_id in access.sites_where(request.user, Action.REFER_PATIENT),
        "indications": _indications(),
        "errors": {},
        "problem": None,
        **more,
    }


@login_required(login_url="login")
@guarded
def patient_page(request: HttpRequest, patient_id: str) -> HttpResponse:
    patient = access.get_patient_for_user(request.user, patient_id, Action.VIEW_PATIENT)
    return render(request, "clinic/patient.html", patient_context(request, patient))


@login_required(login_url="login")
@require_http_methods(["POST"])
@guarded
def patient_refer(request: HttpRequest, patient_id: str) -> HttpResponse:
    """Refer the patient for one product and indication: a new therapy case."""
    patient = access.get_patient_for_user(request.user, patient_id, Action.REFER_PATIENT)
    chosen = str(request.POST.get("indication_id", "")).strip()
    indication = next((i for i in _indications() if i["id"] == chosen), None)
    errors: dict[str, str] = {}
    problem = None
    if indication is None:
        errors["indication_id"] = _("choose a product and indication from the list")
    else:
        values: dict[str, Any] = {
            "product_id": indication["product"],
            "indication_id": indication["id"],
        }
        when = str(request.POST.get("occurred_at", "")).strip()
        try:
            if when:
                values["occurred_at"] = local_datetime(when, patient.treating_site.time_zone)
            data = ReferralIn.model_validate(values)
            result = referral.refer_patient(
                patient,
                product_id=data.product_id,
                indication_id=data.indication_id,
                occurred_at=data.occurred_at,
                acting_user=request.user,
                request_meta=RequestMeta.from_request(request),
            )
        except ValueError as exc:
            errors.update(_errors(exc) if isinstance(exc, ValidationError) else {})
            errors.setdefault("occurred_at", "a date and time, e.g. 2026-03-01T14:30")
        except (DomainError, ServiceError) as exc:
            problem = refusal(exc)
        else:
            acknowledge(request, result.case, _("Referred: a therapy case is open"))
            return redirect("case", coi=result.case.coi)
    context = patient_context(request, patient, errors=errors, problem=problem)
    return render(request, "clinic/patient.html", context, status=422)
