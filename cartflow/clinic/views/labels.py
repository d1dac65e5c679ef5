"""A case's labels: print (the PDF opens once, right after the print is recorded), apply,
reprint and void with a reason, and where each label is, with release's block while one is
unaccounted for. Every write goes through :mod:`cartflow.clinic.services.labels`, the same
functions the API calls; a refusal comes back with the rule's words and source."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from cartflow.clinic import access, refusal_words
from cartflow.clinic.case_state import case_state
from cartflow.clinic.code_words import code_words
from cartflow.clinic.models import TherapyCase
from cartflow.clinic.services import labels
from cartflow.clinic.services.context import RequestMeta
from cartflow.clinic.services.errors import Conflict, ServiceError
from cartflow.clinic.views.common import case_roles, guarded, may, refusal
from cartflow.clinic.worklist import step_words
from cartflow.domain.errors import DomainError
from cartflow.domain.journey.labels import (
    MAX_LABELS,
    RECONCILIATION_RULE,
    RECONCILIATION_SOURCE,
    unaccounted_labels,
)
from cartflow.domain.journey.records import LabelKind
from cartflow.domain.journey.steps import Step
from cartflow.domain.roles import Action

PDF_KEY = "cartflow_label_pdf"
"""The session's note of the labels just printed, by case: their PDF opens once."""
RELEASE_WAITS = frozenset({Step.MANUFACTURING, Step.OUT_OF_SPECIFICATION})


def _case(request: HttpRequest, coi: str, action: Action | None = None) -> TherapyCase:
    case = access.get_case_for_user(request.user, coi, Action.VIEW_CASE)
    roles = case_roles(request.user, case)
    wanted = (action,) if action else (Action.PRINT_LABELS, Action.RECONCILE_LABELS)
    if not any(may(roles, a) for a in wanted):
        raise access.Forbidden(_("labels are printed and reconciled by the teams that label"))
    return case


def _context(request: HttpRequest, case: TherapyCase, **more: Any) -> dict[str, Any]:
    state = case_state(case)
    roles = case_roles(request.user, case)
    rows = [
        {
            "id": label.label_id,
            "kind": code_words(label.kind),
            "number": label.number,
            "of": label.of,
            "status": label.status,
            "status_words": code_words(label.status),
            "printed_at": label.printed_at,
            "printed_by": label.printed_by,
            "settled_at": label.settled_at,
            "settled_by": label.settled_by,
            "reason": label.reason,
            "replaces": label.replaces,
        }
        for label in state.labels
    ]
    open_ids = [label.label_id for label in unaccounted_labels(state)]
    counts = {status: sum(1 for r in rows if r["status"] == status) for status in STATUSES}
    pending = request.session.get(PDF_KEY, {}).get(case.coi, [])
    return {
        "case": case,
        "coi": case.coi,
        "step_words": step_words(state.step),
        "version": case.projection.version,
        "rows": rows,
        "counts": counts,
        "unaccounted": open_ids,
        "release_blocked": bool(open_ids) and state.step in RELEASE_WAITS,
        "rule": refusal_words.words(
            "labels.unreconciled", {"labels": ", ".join(open_ids)}, RECONCILIATION_RULE
        ),
        "source": RECONCILIATION_SOURCE,
        "may_print": may(roles, Action.PRINT_LABELS),
        "may_reconcile": may(roles, Action.RECONCILE_LABELS),
        "kinds": [
            (k.value, code_words(k.value))
            for k in labels.printable_kinds(request.user, case, state)
        ],
        "max_labels": MAX_LABELS,
        "pdf_ready": pending,
        "problem": None,
        "error": "",
        **more,
    }


STATUSES = ("printed", "applied", "voided", "reprinted")


@login_required(login_url="login")
@require_http_methods(["GET"])
@guarded
def labels_page(request: HttpRequest, coi: str) -> HttpResponse:
    case = _case(request, coi)
    return render(request, "clinic/labels.html", _context(request, case))


def _refused(request: HttpRequest, case: TherapyCase, exc: Exception) -> HttpResponse:
    if isinstance(exc, access.Forbidden):
        raise exc
    case.refresh_from_db()
    context = _context(request, case, problem=refusal(exc))
    return render(request, "clinic/labels.html", context, status=422)


def _bad_input(request: HttpRequest, case: TherapyCase, message: str) -> HttpResponse:
    return render(request, "clinic/labels.html", _context(request, case, error=message), status=422)


def _version(request: HttpRequest) -> int | None:
    text = str(request.POST.get("expected_version", "")).strip()
    return int(text) if text.isdigit() else None


def _ids(request: HttpRequest) -> list[str]:
    return [str(x).strip() for x in request.POST.getlist("label_ids") if str(x).strip()]


def _reason(request: HttpRequest) -> str:
    return " ".join(str(request.POST.get("reason", "")).split())[:300]


def _done(request: HttpRequest, case: TherapyCase, words: str, pdf: list[str] | None = None) -> Any:
    messages.success(request, words)
    if pdf:
        noted = dict(request.session.get(PDF_KEY, {}))
        noted[case.coi] = pdf
        request.session[PDF_KEY] = noted
    return redirect(reverse("labels", args=[case.coi]))


@login_required(login_url="login")
@require_http_methods(["POST"])
@guarded
def labels_print(request: HttpRequest, coi: str) -> HttpResponse:
    case = _case(request, coi, Action.PRINT_LABELS)
    kind = str(request.POST.get("kind", "")).strip()
    count_text = str(request.POST.get("count", "1")).strip() or "1"
    if kind not in {k.value for k in LabelKind}:
        return _bad_input(request, case, _("Choose which label to print."))
    if not count_text.isdigit() or not 1 <= int(count_text) <= MAX_LABELS:
        return _bad_input(
            request, case, _("How many: a whole number from 1 to %(max)s.") % {"max": MAX_LABELS}
        )
    try:
        result, _pdf = labels.print_labels(
            case,
            kind=kind,
            count=int(count_text),
            expected_version=_version(request),
            acting_user=request.user,
            request_meta=RequestMeta.from_request(request),
        )
    except (DomainError, ServiceError, Conflict) as exc:
        return _refused(request, case, exc)
    ids = labels.printed_ids(result)
    words = _("Printed: %(ids)s (%(kind)s). Open the PDF below and print it now.") % {
        "ids": ", ".join(ids),
        "kind": code_words(kind),
    }
    return _done(request, case, words, ids)


@login_required(login_url="login")
@require_http_methods(["POST"])
@guarded
def labels_reprint(request: HttpRequest, coi: str) -> HttpResponse:
    case = _case(request, coi, Action.PRINT_LABELS)
    label_id, reason = str(request.POST.get("label_id", "")).strip(), _reason(request)
    if not label_id or not reason:
        return _bad_input(request, case, _("Choose the label to reprint and give the reason."))
    try:
        result, _pdf = labels.reprint_label(
            case,
            label_id=label_id,
            reason=reason,
            expected_version=_version(request),
            acting_user=request.user,
            request_meta=RequestMeta.from_request(request),
        )
    except (DomainError, ServiceError, Conflict) as exc:
        return _refused(request, case, exc)
    new_id = labels.reprinted_id(result)
    words = _("Reprinted: %(old)s is replaced by %(new)s. Open the PDF below and print it now.") % {
        "old": label_id,
        "new": new_id,
    }
    return _done(request, case, words, [new_id])


@login_required(login_url="login")
@require_http_methods(["POST"])
@guarded
def labels_applied(request: HttpRequest, coi: str) -> HttpResponse:
    case = _case(request, coi, Action.RECONCILE_LABELS)
    ids = _ids(request)
    if not ids:
        return _bad_input(request, case, _("Tick the labels that were applied."))
    try:
        labels.apply_labels(
            case,
            label_ids=tuple(ids),
            expected_version=_version(request),
            acting_user=request.user,
            request_meta=RequestMeta.from_request(request),
        )
    except (DomainError, ServiceError, Conflict) as exc:
        return _refused(request, case, exc)
    return _done(request, case, _("Recorded as applied: %(ids)s.") % {"ids": ", ".join(ids)})


@login_required(login_url="login")
@require_http_methods(["POST"])
@guarded
def labels_voided(request: HttpRequest, coi: str) -> HttpResponse:
    case = _case(request, coi, Action.RECONCILE_LABELS)
    ids, reason = _ids(request), _reason(request)
    if not ids or not reason:
        return _bad_input(request, case, _("Tick the labels to void and give the reason."))
    try:
        labels.void_labels(
            case,
            label_ids=tuple(ids),
            reason=reason,
            expected_version=_version(request),
            acting_user=request.user,
            request_meta=RequestMeta.from_request(request),
        )
    except (DomainError, ServiceError, Conflict) as exc:
        return _refused(request, case, exc)
    return _done(request, case, _("Voided: %(ids)s.") % {"ids": ", ".join(ids)})


@login_required(login_url="login")
@require_http_methods(["GET"])
@guarded
def labels_pdf(request: HttpRequest, coi: str) -> HttpResponse:
    """The PDF of the labels this user just printed on this case, once: a second copy would be
    a label no print event accounts for."""
    case = _case(request, coi, Action.PRINT_LABELS)
    noted = dict(request.session.get(PDF_KEY, {}))
    ids = noted.pop(case.coi, [])
    if not ids:
        messages.error(
            request,
            _("No labels wait to be opened: print them (or reprint one, with the reason) first."),
        )
        return redirect(reverse("labels", args=[case.coi]))
    data = labels.labels_pdf(case, ids, acting_user=request.user)
    request.session[PDF_KEY] = noted
    response = HttpResponse(data, content_type="application/pdf")
    name = f"{case.coi}-{ids[0]}" + (f"-{ids[-1]}" if len(ids) > 1 else "")
    response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    return response
