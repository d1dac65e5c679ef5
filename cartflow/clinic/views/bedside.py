"""The bedside check, made for a barcode scanner (it types, then presses Enter).

One scan per screen, each checked by the server before the next is asked for:

1. the patient's wristband (the hospital record number, or the chain-of-identity label);
2. the second identifier: name and birth date shown, the nurse confirms they match;
3. the bag's identity label (chain-of-identity identifier or the collection's DIN, eye-readable
   or ISBT 128 barcode);
4. the bag's number;
5. a second person confirms with their own login: the physician who signs the infusion.

A scan that does not match is refused loudly, nothing is infused, and a deviation is opened
on the case for the quality role (``services.deviations``). The scans that matched are
recorded (``bedside.verified``, by the nurse) before the physician's signed infusion.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from cartflow.clinic import access
from cartflow.clinic.models import Collection, TherapyCase
from cartflow.clinic.services import treatment
from cartflow.clinic.services.context import RequestMeta
from cartflow.clinic.services.deviations import open_deviation, record_bedside_verification
from cartflow.clinic.services.errors import Conflict, ServiceError
from cartflow.clinic.views.common import case_roles, guarded, may, refusal
from cartflow.domain.errors import DomainError
from cartflow.domain.identifiers import parse_identifier
from cartflow.domain.journey import ScanMismatch, Step
from cartflow.domain.roles import Action

STAGES = ("wristband", "identity", "bag_label", "bag_id", "second")
WHAT = {
    "wristband": "wristband",
    "bag_label": "bag's identity label",
    "bag_id": "bag number",
}


def _compact(scan: str) -> str | None:
    try:
        return parse_identifier(scan.strip()).compact
    except (DomainError, ValueError):
        return None


def _norm(text: str) -> str:
    return "".join(text.split()).upper()


def wristband_matches(case: TherapyCase, scan: str) -> bool:
    """The hospital record number of the case's patient, or the case's own identifier."""
    if not scan.strip():
        return False
    if _norm(scan) == _norm(case.patient.record_number):
        return True
    return _compact(scan) == case.coi


def bag_label_matches(case: TherapyCase, state: dict[str, Any], scan: str) -> bool:
    """The case's chain-of-identity identifier, or the DIN of one of its collections."""
    compact = _compact(scan)
    if compact is None:
        return False
    dins = {c.get("din") for c in state.get("collections") or []}
    dins |= set(Collection.objects.filter(case=case).values_list("din", flat=True))
    return compact == case.coi or compact in dins


def _bag_ids(state: dict[str, Any]) -> set[str]:
    return {str(b.get("bag_id")) for b in state.get("bags") or []}


def _thawed_bag(state: dict[str, Any]) -> str | None:
    infused = {str(i.get("bag_id")) for i in state.get("infusions") or []}
    for thaw in reversed(state.get("thaws") or []):
        if str(thaw.get("bag_id")) not in infused:
            return str(thaw.get("bag_id"))
    return None


def _refuse_scan(
    request: HttpRequest, case: TherapyCase, which: str, scanned: str
) -> dict[str, str]:
    """Open the deviation (never drop the refusal) and say so, loudly."""
    details: dict[str, Any] = {"scan": which}
    if which != "wristband":
        # A bag's label names a case, never a person; a wristband's number is not kept.
        details["scanned"] = scanned[:40]
    result = open_deviation(
        case,
        kind="bedside_scan_mismatch",
        summary=f"bedside check refused: the {WHAT.get(which, which)} scanned does not "
        f"belong to case {case.coi}; nothing was infused",
        details=details,
        acting_user=request.user,
        request_meta=RequestMeta.from_request(request),
    )
    return {
        "what": WHAT.get(which, which),
        "deviation": result.last().hash[:12],
    }


def _context(request: HttpRequest, case: TherapyCase, **more: Any) -> dict[str, Any]:
    state = case.projection.state
    thawed = _thawed_bag(state)
    return {
        "case": case,
        "coi": case.coi,
        "patient": case.patient,
        "state": state,
        "step_words": str(state.get("step", "")).replace("_", " "),
        "ready": state.get("step") == Step.THAWED and thawed is not None,
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
    if not (may(roles, Action.THAW_BAG) or may(roles, Action.INFUSE_BAG)) or not (
        access.may_identify(request.user, case)
    ):
        raise access.Forbidden("the bedside check is for the infusion team of this case")
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
        waiting = context["state"].get("waiting_for") or "another step"
        context["error"] = f"Nothing to infuse now: the case waits for {waiting}."
        return render(request, "clinic/bedside.html", context, status=422)
    return _scan(request, case, context)


def _scan(request: HttpRequest, case: TherapyCase, context: dict[str, Any]) -> HttpResponse:
    state = context["state"]
    post = request.POST
    values = {
        name: str(post.get(name, "")).strip()
        for name in ("wristband", "identity", "bag_label", "bag_id")
    }
    # Every scan so far is checked again on every screen: the page keeps no state.
    checks = (
        ("wristband", lambda v: wristband_matches(case, v)),
        ("identity", lambda v: v == "confirmed"),
        ("bag_label", lambda v: bag_label_matches(case, state, v)),
        ("bag_id", lambda v: v in _bag_ids(state)),
    )
    for stage, check in checks:
        value = values[stage]
        if not value:
            message = {
                "wristband": "Scan the patient's wristband.",
                "identity": "Check the name and birth date with the patient, then confirm.",
                "bag_label": "Scan the bag's identity label.",
                "bag_id": "Scan the bag's number.",
            }[stage]
            return _screen(request, context, stage, values, error=message)
        if check(value):
            continue
        if stage == "identity":
            return _screen(request, context, stage, values, error="Confirm the identity.")
        mismatch = _refuse_scan(request, case, stage, value)
        return _screen(request, context, "wristband", {}, mismatch=mismatch, status=422)
    if values["bag_id"] != context["thawed_bag"]:
        return _screen(
            request,
            context,
            "bag_id",
            {**values, "bag_id": ""},
            error=f"This bag is not the one thawed for infusion ({context['thawed_bag']}).",
            status=422,
        )
    if str(post.get("stage", "")) != "second":
        return _screen(request, context, "second", values)
    return _second_person(request, case, context, values)


def _second_person(
    request: HttpRequest, case: TherapyCase, context: dict[str, Any], values: dict[str, str]
) -> HttpResponse:
    username = str(request.POST.get("second_username", "")).strip()
    password = str(request.POST.get("second_password", ""))
    second = authenticate(request, username=username, password=password) if username else None
    if second is None or not second.is_active:
        return _screen(
            request,
            context,
            "second",
            values,
            error="The second person's user name and password did not match: nothing was "
            "infused.",
            status=422,
        )
    if second.pk == request.user.pk:
        return _screen(
            request,
            context,
            "second",
            values,
            error="The second person must be someone else, with their own login.",
            status=422,
        )
    if not may(case_roles(second, case), Action.INFUSE_BAG):
        return _screen(
            request,
            context,
            "second",
            values,
            error="The second person must be a physician of this case, who signs the infusion.",
            status=422,
        )
    meta = RequestMeta.from_request(request)
    version = str(request.POST.get("expected_version", "")).strip()
    try:
        if version.isdigit() and int(version) != case.projection.version:
            raise Conflict("the case changed since the bedside page was opened")
        record_bedside_verification(
            case,
            scans={"wristband": "matched", "identity": "confirmed", "bag": values["bag_id"]},
            acting_user=request.user,
            request_meta=meta,
        )
        treatment.infuse_bag(
            case,
            acting_user=second,
            request_meta=meta,
            password=password,
            scanned_patient_coi=parse_identifier(case.coi).barcode,
            scanned_bag_coi=parse_identifier(case.coi).barcode,
            scanned_bag_id=values["bag_id"],
        )
    except ScanMismatch:
        mismatch = _refuse_scan(request, case, "bag_id", values["bag_id"])
        return _screen(request, context, "wristband", {}, mismatch=mismatch, status=422)
    except (DomainError, ServiceError) as exc:
        if isinstance(exc, access.Forbidden):
            raise PermissionDenied(str(exc)) from None
        case.refresh_from_db()
        fresh = _context(request, case)
        return _screen(request, fresh, "wristband", {}, problem=refusal(exc), status=422)
    case.refresh_from_db()
    infusions = case.projection.state.get("infusions") or []
    at = infusions[-1].get("at") if infusions else None
    done = _context(request, case, infused=values["bag_id"], infused_at=at, signer=second)
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
