"""The bedside check, made for a barcode scanner (it types, then presses Enter).

One scan per screen, each checked by the server before the next is asked for, by the domain's
own check for that scan (:mod:`cartflow.domain.journey.bedside`): this page holds no rule.

1. the patient's wristband (the hospital record number, or the chain-of-identity label);
2. the second identifier: name and birth date shown, the nurse confirms they match;
3. the bag's identity label (chain-of-identity identifier or the collection's DIN, eye-readable
   or ISBT 128 barcode);
4. the bag's number;
5. a second person confirms with their own login: the physician who signs the infusion.

The last screen calls the one infusion service the API calls too
(:func:`cartflow.clinic.services.treatment.infuse`): the domain checks every scan again and
both people, and stores the bedside check and the infusion in one append, or neither. A scan
that does not match is refused loudly and opens a deviation for quality.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from cartflow.clinic import access, refusal_words
from cartflow.clinic.access_log import identity_shown
from cartflow.clinic.case_state import case_state
from cartflow.clinic.models import TherapyCase
from cartflow.clinic.refusal_words import words
from cartflow.clinic.services import treatment
from cartflow.clinic.services.context import RequestMeta
from cartflow.clinic.services.deviations import open_scan_deviation
from cartflow.clinic.services.errors import ServiceError, SignatureRefused
from cartflow.clinic.services.machine import catalog
from cartflow.clinic.services.register_chain import register_of
from cartflow.clinic.views.common import case_roles, guarded, may, refusal
from cartflow.clinic.worklist import step_words, waiting_words
from cartflow.domain.errors import DomainError
from cartflow.domain.journey import CaseState, JourneyError, ScanMismatch, Step, foreseen_windows
from cartflow.domain.journey import bedside as checks
from cartflow.domain.roles import Action

STAGES = ("wristband", "identity", "bag_label", "bag_id", "second")
PROMPTS = {
    "wristband": gettext_lazy("Scan the patient's wristband."),
    "identity": gettext_lazy("Check the name and birth date with the patient, then confirm."),
    "bag_label": gettext_lazy("Scan the bag's identity label."),
    "bag_id": gettext_lazy("Scan the bag's number."),
}


def _refuse_scan(
    request: HttpRequest, case: TherapyCase, refused: ScanMismatch, values: dict[str, str]
) -> dict[str, str]:
    """Open the deviation (never drop the refusal) and say so, loudly."""
    result = open_scan_deviation(
        case,
        refused,
        values,
        acting_user=request.user,
        request_meta=RequestMeta.from_request(request),
    )
    return {
        "rule": refusal_words.words(refused.rule_id, None, refused.rule),
        "rule_id": refused.rule_id,
        "deviation": result.last().hash[:12],
    }


def _deadline(state: CaseState) -> dict[str, str] | None:
    """The time the thawed bag must be infused by, asked of the domain (the same window the
    infusion's guard keeps), in the refusal renderer's words."""
    register = register_of(state.site) if state.site else ()
    for window in foreseen_windows(state, catalog(), timezone.now(), register):
        if window.rule_id == "infusion.post_thaw":
            return {
                "words": words(window.rule_id, window.params),
                "late": "true" if window.closed else "",
            }
    return None


def _context(request: HttpRequest, case: TherapyCase, **more: Any) -> dict[str, Any]:
    state = case_state(case)
    thawed = state.thawed_bag
    identity_shown([case.patient])
    return {
        "deadline": _deadline(state),
        "case": case,
        "coi": case.coi,
        "patient": case.patient,
        "state": state,
        "step_words": step_words(state.step),
        "waiting_for": waiting_words(state),
        "ready": state.step is Step.THAWED and thawed is not None,
        "thawed_bag": thawed,
        "version": case.projection.version,
        "stage": "wristband",
        "values": {},
        "error": "",
        "mismatch": None,
        "problem": None,
        **more,
    }


def _allowed(request: HttpRequest, coi: str) -> TherapyCase:
    case = access.get_case_for_user(request.user, coi, Action.VIEW_CASE)
    roles = case_roles(request.user, case)
    if not may(roles, Action.PERFORM_INFUSION) or not access.may_identify(request.user, case):
        raise access.Forbidden(_("the bedside check is for the infusion team of this case"))
    return case


@login_required(login_url="login")
@require_http_methods(["GET", "POST"])
@guarded
def bedside(request: HttpRequest, coi: str) -> HttpResponse:
    case = _allowed(request, coi)
    if request.method == "GET":
        return render(request, "clinic/bedside.html", _context(request, case))
    context = _context(request, case)
    if not context["ready"]:
        waiting = waiting_words(context["state"]) or _("another step")
        context["error"] = _("Nothing to infuse now: the case waits for %(what)s.") % {
            "what": waiting
        }
        return render(request, "clinic/bedside.html", context, status=422)
    return _scan(request, case, context)


def _scan(request: HttpRequest, case: TherapyCase, context: dict[str, Any]) -> HttpResponse:
    state: CaseState = context["state"]
    post = request.POST
    values = {
        name: str(post.get(name, "")).strip()
        for name in ("wristband", "identity", "bag_label", "bag_id")
    }
    # Every scan so far is checked again on every screen (the page keeps no state), each by
    # the domain's own check for it.
    scans = (
        ("wristband", lambda v: checks.check_wristband(state, v, (case.patient.record_number,))),
        ("identity", lambda v: checks.check_identity_confirmed(state, v == "confirmed")),
        ("bag_label", lambda v: checks.check_bag_label(state, v)),
        ("bag_id", lambda v: checks.check_bag_number(state, v)),
    )
    for stage, check in scans:
        if not values[stage]:
            return _screen(request, context, stage, values, error=str(PROMPTS[stage]))
        try:
            check(values[stage])
        except ScanMismatch as refused:
            mismatch = _refuse_scan(request, case, refused, values)
            return _screen(request, context, "wristband", {}, mismatch=mismatch, status=422)
        except JourneyError as refused:
            rule = refusal_words.words(refused.rule_id, None, refused.rule)
            return _screen(request, context, stage, values, error=rule, status=422)
    if str(post.get("stage", "")) != "second":
        return _screen(request, context, "second", values)
    return _second_person(request, case, context, values)


def _second_person(
    request: HttpRequest, case: TherapyCase, context: dict[str, Any], values: dict[str, str]
) -> HttpResponse:
    version = str(request.POST.get("expected_version", "")).strip()
    try:
        result = treatment.infuse(
            case,
            acting_user=request.user,
            witness_username=str(request.POST.get("second_username", "")),
            witness_password=str(request.POST.get("second_password", "")),
            scanned_wristband=values["wristband"],
            identity_confirmed=values["identity"] == "confirmed",
            scanned_bag_label=values["bag_label"],
            scanned_bag_id=values["bag_id"],
            expected_version=int(version) if version.isdigit() else None,
            request_meta=RequestMeta.from_request(request),
            request=request,
        )
    except ScanMismatch as refused:
        # The service has opened the deviation already, in its own transaction.
        deviation = str(getattr(refused, "deviation", ""))
        mismatch = {
            "rule": refusal_words.words(refused.rule_id, None, refused.rule),
            "rule_id": refused.rule_id,
            "deviation": deviation,
        }
        return _screen(request, context, "wristband", {}, mismatch=mismatch, status=422)
    except JourneyError as refused:
        if refused.rule_id in (
            checks.WITNESS_SAME_PERSON,
            checks.WITNESS_ROLE,
            checks.PERFORMER_ROLE,
        ):
            return _screen(request, context, "second", values, problem=refusal(refused), status=422)
        case.refresh_from_db()
        fresh = _context(request, case)
        return _screen(request, fresh, "wristband", {}, problem=refusal(refused), status=422)
    except (DomainError, ServiceError) as exc:
        if isinstance(exc, access.Forbidden):
            raise PermissionDenied(str(exc)) from None
        stage = "second" if isinstance(exc, SignatureRefused) else "wristband"
        return _screen(request, context, stage, values, problem=refusal(exc), status=422)
    case.refresh_from_db()
    witness = result.signature.signer if result.signature is not None else None
    done = _context(
        request,
        case,
        infused=values["bag_id"],
        infused_at=result.state.infusions[-1].at,
        signer=witness,
    )
    return render(request, "clinic/bedside.html", done)


def _screen(
    request: HttpRequest,
    context: dict[str, Any],
    stage: str,
    values: dict[str, str],
    *,
    error: str = "",
    mismatch: dict[str, str] | None = None,
    problem: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        **context,
        "stage": stage,
        "values": values,
        "error": error,
        "mismatch": mismatch,
        "problem": problem or context.get("problem"),
    }
    return render(request, "clinic/bedside.html", context, status=status)
