"""The eligibility page: every product and indication judged against what is known.

Judging records nothing. A physician may sign eligibility here (``sign=yes``): the judgment
of the facts for the case's indication is kept with the signature, as the API does. Facts
start from what the record holds (age from the birth date, the antigen tests, the region) and
can be filled in; a fact left empty is *missing*, never guessed.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from pydantic import ValidationError

from cartflow.clinic import access
from cartflow.clinic.access_log import identity_shown
from cartflow.clinic.api.schemas.eligibility import PatientFactsIn
from cartflow.clinic.case_state import case_state
from cartflow.clinic.services import eligibility
from cartflow.clinic.services.context import RequestMeta
from cartflow.clinic.services.errors import ServiceError
from cartflow.clinic.services.machine import catalog
from cartflow.clinic.services.signatures import Meaning, printed_name
from cartflow.clinic.services.site_register import case_site_values
from cartflow.clinic.views.common import acknowledge, case_roles, guarded, may, refusal
from cartflow.clinic.views.patients import _errors
from cartflow.clinic.worklist import indication_words, product_words
from cartflow.domain.catalog import DISEASE_STATUSES, DISEASES, THERAPY_CLASSES
from cartflow.domain.eligibility import evaluate
from cartflow.domain.errors import DomainError
from cartflow.domain.journey import Step
from cartflow.domain.patient_facts import parse_patient_facts
from cartflow.domain.roles import Action

NUMBERS = ("age_years", "weight_kg", "prior_lines", "months_from_first_line_to_relapse")
CHOICES = ("diagnosis", "disease_status")
BOOLEANS = ("relapsed_after_transplant", "transplant_eligible")


def _known(case: Any) -> dict[str, Any]:
    # What the record holds, read by the same service that signs (one reading of the facts).
    return eligibility.known_facts(case)


def _posted(request: HttpRequest, known: dict[str, Any]) -> dict[str, Any]:
    facts: dict[str, Any] = {k: v for k, v in known.items() if k in {"antigens", "region"}}
    for name in NUMBERS + CHOICES:
        value = str(request.POST.get(name, "")).strip()
        if value:
            facts[name] = value
    for name in BOOLEANS:
        value = str(request.POST.get(name, "")).strip()
        if value in {"yes", "no"}:
            facts[name] = value == "yes"
    therapies = [t for t in request.POST.getlist("prior_therapies") if t]
    if therapies:
        facts["prior_therapies"] = therapies
    return facts


@login_required(login_url="login")
@require_http_methods(["GET", "POST"])
@guarded
def eligibility_page(request: HttpRequest, coi: str) -> HttpResponse:
    case = access.get_case_for_user(request.user, coi, Action.ASSESS_ELIGIBILITY)
    known = _known(case)
    facts = _posted(request, known) if request.method == "POST" else dict(known)
    errors: dict[str, str] = {}
    results: list[dict[str, Any]] = []
    on = timezone.localdate()
    try:
        checked = PatientFactsIn.model_validate(facts)
        parsed = parse_patient_facts(checked.dict(exclude_none=True))
        values = case_site_values(case_state(case), on)
        results = [r.to_dict() for r in evaluate(parsed, catalog(), on, values)]
    except ValidationError as exc:
        errors = _errors(exc)
    except DomainError as exc:
        errors = {"": str(exc)}
    state = case_state(case)
    problem = None
    if request.method == "POST" and request.POST.get("sign") == "yes" and not errors:
        signed = _sign(request, case, facts)
        if signed is None:
            acknowledge(request, case, _("Eligibility signed"))
            return redirect("case", coi=case.coi)
        problem = signed
    names = {i.id: f"{product_words(i.product)}: {i.title}" for i in catalog().indications()}
    for row in results:
        row["this_case"] = row["indication"] == state.indication_id
        row["name"] = names.get(row["indication"], row["indication"])
    results.sort(key=lambda r: (not r["this_case"], r["status"] != "eligible", r["indication"]))
    identity_shown([case.patient])
    matching, others = group_by_diagnosis(results, facts.get("diagnosis"), facts.get("region"), on)
    context = {
        "case": case,
        "coi": case.coi,
        "indication_name": indication_words(state.indication_id),
        "patient": case.patient,
        "facts": facts,
        "results": results,
        "matching": matching,
        "others": others,
        "errors": errors,
        "on": on,
        "diseases": DISEASES,
        "statuses": DISEASE_STATUSES,
        "therapies": THERAPY_CLASSES,
        "numbers": NUMBERS,
        "problem": problem,
        "may_sign": state.step == Step.ANTIGEN_TESTED
        and may(case_roles(request.user, case), Action.SIGN_ELIGIBILITY),
        "signer": printed_name(request.user),
        "meaning": Meaning.ELIGIBILITY,
        "version": case.projection.version,
    }
    status = 422 if (errors or problem) else 200
    return render(request, "clinic/eligibility.html", context, status=status)


def group_by_diagnosis(
    results: list[dict[str, Any]], diagnosis: Any, region: Any, on: Any
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The answers as a clinician reads them: the indications of the patient's diagnosis
    first, grouped by product with the product's approval in the region; then the others
    (every indication when no diagnosis is given is "matching")."""
    cat = catalog()
    groups: dict[str, dict[str, Any]] = {}
    others: list[dict[str, Any]] = []
    for row in results:
        indication = cat.indication(row["indication"])
        if diagnosis and diagnosis not in indication.diseases and not row["this_case"]:
            others.append(row)
            continue
        approvals = [
            a for a in indication.approvals if (not region or a.region == region) and a.in_force(on)
        ]
        row["approval"] = ", ".join(
            _("%(region)s since %(day)s") % {"region": a.region, "day": a.valid_from.isoformat()}
            for a in approvals
        ) or (_("not approved in %(region)s") % {"region": region} if region else "")
        group = groups.setdefault(
            indication.product, {"name": product_words(indication.product), "rows": []}
        )
        group["rows"].append(row)
    return list(groups.values()), others


def _sign(request: HttpRequest, case: Any, facts: dict[str, Any]) -> dict[str, str] | None:
    """Sign eligibility with the judgment of the facts on the page for the case's indication
    (the service the API and the case page call too); ``None`` when signed, else the refusal
    in words."""
    access.get_case_for_user(request.user, case.coi, Action.SIGN_ELIGIBILITY)
    version = str(request.POST.get("expected_version", "")).strip()
    try:
        checked = PatientFactsIn.model_validate(facts).dict(exclude_none=True)
        eligibility.sign_eligibility(
            case,
            facts=checked,
            password=str(request.POST.get("password", "")),
            acting_user=request.user,
            request_meta=RequestMeta.from_request(request),
            expected_version=int(version) if version.isdigit() else None,
        )
    except (DomainError, ServiceError, ValidationError) as exc:
        if isinstance(exc, access.Forbidden):
            raise
        return refusal(exc)
    return None

