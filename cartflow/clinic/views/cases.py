"""The case page: the timeline, the next step with its form, and what blocks it.

``case_step`` is the one write route of the case page: the operation is named in the form, and
its input is validated by the API's schema and recorded by the operation's service function.
An HTMX request gets the form back as a fragment (with the refusal in words) or a redirect.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from cartflow.clinic import access
from cartflow.clinic.access_log import identity_shown
from cartflow.clinic.case_banner import age_years, foreseen, infusion_day, progress
from cartflow.clinic.case_state import case_state
from cartflow.clinic.forms.arguments import service_arguments
from cartflow.clinic.forms.fields import Field, Operation
from cartflow.clinic.forms.operations import BEDSIDE, MAIN_ORDER, OPERATIONS
from cartflow.clinic.forms.reading import FormErrors, parse
from cartflow.clinic.kinetics_panel import kinetics_panel
from cartflow.clinic.models import SlotBooking, SlotKind, TherapyCase
from cartflow.clinic.queries import case_timeline, payload_of
from cartflow.clinic.refusal_words import deviation_words
from cartflow.clinic.services.context import RequestMeta
from cartflow.clinic.services.deviations import DEVIATION_OPENED
from cartflow.clinic.services.errors import Conflict, ServiceError
from cartflow.clinic.services.signatures import Meaning, printed_name
from cartflow.clinic.services.site_register import case_fact
from cartflow.clinic.services.toxicity import CRS_GRADED, ICANS_GRADED
from cartflow.clinic.site_zones import case_zone
from cartflow.clinic.templatetags.cartflow_time import zone_label
from cartflow.clinic.timeline_words import event_title, shown, site_facts
from cartflow.clinic.toxicity_chart import toxicity_chart
from cartflow.clinic.views.common import acknowledge, case_roles, guarded, may, refusal
from cartflow.clinic.views.plans import may_see_plan
from cartflow.clinic.worklist import (
    ROLE_WORDS,
    indication_words,
    product_words,
    step_words,
    waiting_words,
    waits_on,
)
from cartflow.domain.catalog import FactName
from cartflow.domain.errors import DomainError
from cartflow.domain.journey import CaseState, Step, split_dose
from cartflow.domain.journey.event_types import TEMPERATURE_RECORDED
from cartflow.domain.journey.outcomes import Syndrome, open_episode
from cartflow.domain.journey.payloads import TemperatureRecorded
from cartflow.domain.roles import Action, Role, can, roles_that_can

QUALITY_EVENTS = {
    "quality.quarantine_released",
    "quality.quarantine_rejected",
    "quality.oos_accepted",
    "quality.oos_rejected",
}
EXCEPTION_WORDS = ("exception", "omitted", "out_of_specification", "quarantine", "excursion")


RECORDED_LATER = timedelta(minutes=1)


def _event_tone(event: dict[str, Any]) -> str:
    kind = event["type"]
    if kind in QUALITY_EVENTS or kind.startswith("quality."):
        return "quality"
    if kind == DEVIATION_OPENED:
        return "deviation"
    if any(word in kind for word in EXCEPTION_WORDS):
        return "exception"
    if kind == TEMPERATURE_RECORDED:
        reading = payload_of(event)
        if isinstance(reading, TemperatureRecorded) and reading.excursion:
            return "exception"
    return ""


def _needs_manufacturing_slot(case: TherapyCase, state: CaseState) -> bool:
    since = state.collection.at if state.collection is not None else None
    bookings = SlotBooking.objects.filter(
        case=case, slot__kind=SlotKind.MANUFACTURING, released_at__isnull=True
    )
    if since:
        bookings = bookings.filter(Q(booked_at__gte=since) | Q(slot__day__gte=since.date()))
    return not bookings.exists()


def available_operations(case: TherapyCase, state: CaseState) -> list[Operation]:
    """The operations the case's step accepts now (whoever may do them)."""
    step = state.step
    names = set(state.next_actions)
    if step in {Step.COLLECTED, Step.BRIDGING} and _needs_manufacturing_slot(case, state):
        names.add("BookManufacturingSlot")
    if state.infusions and step in {
        Step.INFUSED,
        Step.MONITORING,
        Step.LONG_TERM_FOLLOW_UP,
    }:
        names |= {
            "GradeCrs",
            "GradeIcans",
            "RecordKineticsMeasurement",
            "RecordResponseAssessment",
        }
        names.add("ResolveToxicity")
    # the end of an episode is offered only while one is open (a grade of 1 or more since
    # the syndrome's last resolution): the journey refuses it otherwise
    if not any(open_episode(state, syndrome) for syndrome in Syndrome):
        names.discard("ResolveToxicity")
    if "RecordMarrowBlasts" in names:
        today = timezone.localdate()
        if not split_dose.wants_marrow_count(state, case_fact(state, FactName.DOSE, today)):
            names.discard("RecordMarrowBlasts")
    return [OPERATIONS[name] for name in MAIN_ORDER if name in names]


def _who(ops: list[Operation], state: CaseState) -> str:
    roles: set[Role] = set()
    for op in ops:
        if op.kind in {"step", "quality", "exception"}:
            roles |= roles_that_can(op.action)
    if BEDSIDE in state.next_actions:
        roles |= roles_that_can(Action.INFUSE_BAG) | roles_that_can(Action.THAW_BAG)
    return ", ".join(str(ROLE_WORDS[r]) for r in Role if r in roles)


def form_of(
    op: Operation,
    case: TherapyCase,
    failed: str,
    errors: dict[str, str],
    posted: Any,
    problem: dict[str, str] | None,
) -> dict[str, Any]:
    """One operation's form, ready for ``_next_step_form.html``: fields with values and errors."""
    mine = op.name == failed
    fields = list(op.fields_for(case))
    if op.clinical_time:
        fields.append(
            Field(
                "occurred_at",
                _("Clinical time"),
                "datetime",
                required=False,
                help=_("leave empty for now; site time (%(zone)s)")
                % {"zone": zone_label(case_zone(case))},
            )
        )
    rows = []
    for f in fields:
        rows.append(
            {
                "name": f.name,
                "label": f.label,
                "kind": f.kind,
                "required": f.required,
                "help": f.help
                or (
                    _("site time (%(zone)s)") % {"zone": zone_label(case_zone(case))}
                    if f.kind == "datetime"
                    else ""
                ),
                "choices": f.choices,
                "id": f"{op.name}-{f.name}",
                "value": str(posted.get(f.name, "")) if mine and f.name != "password" else "",
                "chosen": posted.getlist(f.name) if mine and hasattr(posted, "getlist") else [],
                "error": errors.get(f.name, "") if mine else "",
            }
        )
    return {
        "op": op,
        "fields": rows,
        "form_error": (errors.get("") or errors.get("password", "")) if mine else "",
        "other_errors": {
            k: v for k, v in errors.items() if mine and k not in {f.name for f in fields}
        },
        "problem": problem if mine else None,
        "failed": mine,
    }


def case_context(
    request: HttpRequest,
    case: TherapyCase,
    *,
    failed: str = "",
    errors: dict[str, str] | None = None,
    problem: dict[str, str] | None = None,
) -> dict[str, Any]:
    user = request.user
    projection = case.projection
    state = case_state(case)
    roles = case_roles(user, case)
    ops = available_operations(case, state)
    mine = [op for op in ops if may(roles, op.action)]
    posted = request.POST if failed else {}
    # Once lymphodepletion is completed, starting it again is the rare path (a repeat when
    # the infusion slips); the thaw is what comes next, so the repeat waits under "other".
    rare = {"StartLymphodepletion"} if state.step is Step.LYMPHODEPLETED else set()
    primary = [op for op in mine if op.kind != "other" and op.name not in rare]
    others = [op for op in mine if op.kind == "other" or op.name in rare]
    bedside = BEDSIDE in state.next_actions and (
        may(roles, Action.INFUSE_BAG) or may(roles, Action.THAW_BAG)
    )
    identify = access.may_identify(user, case)
    if identify:
        identity_shown([case.patient])
    may_verify = may(roles, Action.VERIFY_AUDIT)
    timeline = case_timeline(case)
    zone = case_zone(case)
    tz = ZoneInfo(zone)
    today = timezone.now().astimezone(tz).date()
    weight = state.latest_weight_kg or state.order_weight_kg
    for event in timeline:
        event["tone"] = _event_tone(event)
        event["title"] = event_title(event["type"])
        event["shown"] = shown(event["data"], zone)
        event["site_facts"] = site_facts(event["data"], zone)
        if may_verify:
            event["raw"] = json.dumps(event["data"], indent=1, sort_keys=True, default=str)
        event["recorded_later"] = event["recorded_at"] - event["occurred_at"] >= RECORDED_LATER
    reviewed = {
        s["signs"]
        for e in timeline
        if e["type"] == "signature.applied"
        for s in [e["data"]]
        if s.get("meaning") == Meaning.REVIEW
    }
    # A deviation is reviewed by the domain's ``ReviewDeviation`` (folded into the state, in
    # the order of the case's deviations), or, recorded earlier, by a bare review signature.
    opened = [e for e in timeline if e["type"] == DEVIATION_OPENED]
    folded = list(state.deviations)
    deviations = []
    for number, e in enumerate(opened, 1):
        record = folded[number - 1] if number <= len(folded) else None
        deviations.append(
            {
                **e,
                "number": number,
                "what": deviation_words(
                    e["data"].get("kind", ""),
                    e["data"].get("details") or {},
                    str(e["data"].get("summary", "")),
                ),
                "reviewed": e["hash"] in reviewed or bool(record and record.reviewed),
                "review_comment": record.review_comment if record else "",
            }
        )
    grades = [e for e in timeline if e["type"] == CRS_GRADED]
    icans_grades = [e for e in timeline if e["type"] == ICANS_GRADED]
    infused = bool(state.infusions)
    return {
        "case": case,
        "coi": case.coi,
        "state": state,
        "step_words": step_words(state.step),
        "product_name": product_words(state.product_id or case.product),
        "indication_name": indication_words(state.indication_id),
        "progress": progress(state, tz),
        "infusion_day": infusion_day(state, tz, today),
        "foreseen": foreseen(state, timezone.now()),
        "age": age_years(case.patient.birth_date, today) if identify else None,
        "weight": f"{weight:g}" if weight else "",
        "version": projection.version,
        "identify": identify,
        "patient": case.patient if identify else None,
        # The patient's page lives at the treating center: linked only for who may open it.
        "patient_link": identify
        and any(
            site == case.treating_site_id and can(role, Action.VIEW_PATIENT)
            for site, _kind, role in access.memberships(user)
        ),
        "timeline": [e for e in timeline if e["type"] != "signature.applied"],
        "primary": [form_of(op, case, failed, errors or {}, posted, problem) for op in primary],
        "others": [form_of(op, case, failed, errors or {}, posted, problem) for op in others],
        "unknown_operation": (errors or {}).get("operation", ""),
        # A refusal of an operation this step does not offer (a page left open while the
        # case moved on) is shown above the forms, never lost.
        "stray_problem": problem if failed and failed not in {op.name for op in mine} else None,
        "stray_errors": {k: v for k, v in (errors or {}).items() if k != "operation"}
        if failed and failed not in {op.name for op in mine}
        else {},
        "bedside": bedside,
        "may_label": may(roles, Action.PRINT_LABELS) or may(roles, Action.RECONCILE_LABELS),
        "labels_unaccounted": sum(1 for label in state.labels if label.unaccounted),
        "waiting_for": waiting_words(state),
        "waits_on": " ".join(role.value for role in waits_on(state)),
        # Whose turn it is; only when no one team is expected, everyone who may act.
        "who": ", ".join(str(ROLE_WORDS[r]) for r in waits_on(state)) or _who(ops, state),
        "exceptions": state.exceptions,
        "quality_decisions": state.quality_decisions,
        "deviations": deviations,
        "grades": grades,
        "tox_chart": toxicity_chart(grades, icans_grades, state.first_infusion_at)
        if (grades or icans_grades) and state.first_infusion_at is not None
        else "",
        "icans_grades": icans_grades,
        # The kinetics panel once the case has an infusion (its measurements come after it).
        "kinetics": kinetics_panel(state, case.product, timeline) if infused else None,
        "failed": failed,
        "errors": errors or {},
        "problem": problem,
        "signer": printed_name(user),
        "may_assess": may(roles, Action.ASSESS_ELIGIBILITY),
        "may_verify": may_verify,
        "may_patient_access": may(roles, Action.MANAGE_PATIENT_ACCESS),
        "may_plan": may_see_plan(roles),
        "may_review": may(roles, Action.SIGN_EVENT) and Role.QUALITY in roles,
    }


@login_required(login_url="login")
@guarded
def case_page(request: HttpRequest, coi: str) -> HttpResponse:
    case = access.get_case_for_user(request.user, coi, Action.VIEW_CASE)
    context = case_context(request, case)
    template = "clinic/_next_step.html" if request.htmx else "clinic/case.html"
    return render(request, template, context)


@login_required(login_url="login")
@require_http_methods(["POST"])
@guarded
def case_step(request: HttpRequest, coi: str) -> HttpResponse:
    """Record one operation on the case (named by the form's ``operation``)."""
    case = access.get_case_for_user(request.user, coi, Action.VIEW_CASE)
    name = str(request.POST.get("operation", ""))
    op = OPERATIONS.get(name)
    if op is None:
        return _answer(request, case, "", {"operation": _("choose an operation of this case")})
    access.get_case_for_user(request.user, coi, op.action)
    try:
        payload = parse(op, request.POST, case)
        arguments = service_arguments(op, payload, case)
        op.service(
            case,
            acting_user=request.user,
            request_meta=RequestMeta.from_request(request),
            **arguments,
        )
    except FormErrors as exc:
        return _answer(request, case, name, exc.errors)
    except (DomainError, Conflict, ServiceError) as exc:
        if isinstance(exc, access.Forbidden):
            raise
        return _answer(request, case, name, {}, refusal(exc))
    if op.signed:
        done = _("Recorded and signed by %(name)s (meaning: %(meaning)s): %(what)s") % {
            "name": printed_name(request.user),
            "meaning": _(op.meaning),
            "what": _(op.title),
        }
    else:
        done = _("Recorded: %(what)s") % {"what": _(op.title)}
    acknowledge(request, case, done)
    url = reverse("case", args=[case.coi])
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _answer(
    request: HttpRequest,
    case: TherapyCase,
    failed: str,
    errors: dict[str, str],
    problem: dict[str, str] | None = None,
) -> HttpResponse:
    case.refresh_from_db()
    context = case_context(request, case, failed=failed, errors=errors, problem=problem)
    if request.htmx:
        # htmx swaps only 2xx answers: the refused form comes back as 200 with its message.

        return render(request, "clinic/_next_step.html", context)
    return render(request, "clinic/case.html", context, status=422)
