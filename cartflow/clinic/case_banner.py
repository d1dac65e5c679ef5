"""What the case page's fixed banner and six-step progress line say about a case.

The six steps are the patient view's (:data:`cartflow.clinic.patient_view.STEP_OF`), so a
clinician and a family see the same picture; each step's date is the one the state records
when the step was done.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cartflow.clinic.patient_view import STEP_OF
from cartflow.domain.errors import DomainError
from cartflow.domain.journey import CaseState, Step
from cartflow.domain.journey.plans import dates_in_force

SIX_STEPS: tuple[Any, ...] = (
    _("Leukapheresis"),
    _("T-cell engineering"),
    _("Cryogenic transport"),
    _("Lymphodepletion"),
    _("Infusion"),
    _("Monitoring and follow-up"),
)
BLOCKED = {
    Step.COLLECTION_FAILED,
    Step.OUT_OF_SPECIFICATION,
    Step.QUARANTINED,
    Step.PRODUCT_REJECTED,
    Step.PRODUCT_EXPIRED,
    Step.PRODUCT_DISPOSED,
}


def _day(moment: datetime | None, zone: ZoneInfo) -> date | None:
    return moment.astimezone(zone).date() if moment is not None else None


def _done_on(state: CaseState, zone: ZoneInfo) -> list[date | None]:
    released = state.release.at if state.release is not None else None
    return [
        _day(state.collection.at if state.collection else None, zone),
        _day(released, zone),
        _day(state.available_at or state.received_at, zone),
        _day(state.ld_completed_at, zone),
        _day(state.first_infusion_at, zone),
        _day(state.monitoring_completed_at, zone),
    ]


def progress(state: CaseState, zone: ZoneInfo) -> list[dict[str, Any]]:
    """The six steps, each done, current, blocked or ahead, with the day it was done."""
    current = STEP_OF.get(state.step, 0)
    closed = state.step in (Step.FOLLOW_UP_COMPLETED,)
    done_on = _done_on(state, zone)
    steps = []
    for number, title in enumerate(SIX_STEPS, start=1):
        if closed or number < current:
            status, words = "done", gettext("done")
        elif number == current:
            blocked = state.step in BLOCKED
            status = "blocked" if blocked else "current"
            words = gettext("blocked") if blocked else gettext("now")
        else:
            status, words = "ahead", gettext("ahead")
        steps.append(
            {
                "number": number,
                "title": title,
                "status": status,
                "status_words": words,
                "on": done_on[number - 1] if status == "done" else None,
            }
        )
    return steps


def infusion_day(state: CaseState, zone: ZoneInfo, today: date | None = None) -> str:
    """The day relative to the infusion, as wards say it: "day +5", or "day −3" to a planned
    infusion; empty when neither is known."""
    today = today or timezone.now().astimezone(zone).date()
    infused = _day(state.first_infusion_at, zone)
    if infused is not None:
        return gettext("day %(day)s after infusion") % {"day": f"+{(today - infused).days}"}
    planned = dates_in_force(state).infusion_on
    if planned is not None:
        days = (planned - today).days
        if days >= 0:
            return gettext("day −%(days)s (infusion planned for %(date)s)") % {
                "days": days,
                "date": planned.isoformat(),
            }
    return gettext("not yet infused")


def age_years(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _fact(state: CaseState, name: str, on: date) -> Any:
    from cartflow.clinic.services.site_register import case_fact

    return case_fact(state, name, on)


def foreseen(state: CaseState, now: datetime) -> list[dict[str, str]]:
    """What the case's time rules allow, before anyone tries, asked of the domain
    (``journey.foreseen_windows`` and ``journey.foreseen_refusals``, the guards themselves):
    the windows ahead with their dates, and every next step that its rule blocks today, in
    the words of the one refusal renderer."""
    from cartflow.clinic.refusal_words import attempted_words, kind_words, refusal_text, words
    from cartflow.clinic.services.machine import catalog
    from cartflow.clinic.services.register_chain import register_of
    from cartflow.domain.journey import foreseen_refusals, foreseen_windows

    try:
        # The site's signed values fill facts the catalog lacks, as when the step is done.
        register = register_of(state.site) if state.site else ()
        blocks = foreseen_refusals(state, catalog(), now, register)
        windows = foreseen_windows(state, catalog(), now, register)
    except DomainError:
        return []
    shown_by_block = {
        "ThawBag": "infusion.window",
        "CompleteMonitoring": "monitoring.window",
        "CompleteFollowUp": "follow_up.window",
    }
    covered = {shown_by_block.get(b.command, "") for b in blocks}
    found: list[dict[str, str]] = [
        {
            "words": words(w.rule_id, w.params),
            "source": w.source,
            "kind": kind_words(w.kind),
            "rule_id": w.rule_id,
            "late": str(w.closed).lower(),
            "blocked": "",
        }
        for w in windows
        if w.rule_id not in covered
    ]
    for block in blocks:
        refusal = block.refusal
        found.append(
            {
                "words": refusal_text(refusal),
                "source": refusal.source,
                "kind": kind_words(refusal.kind),
                "rule_id": refusal.rule_id,
                "late": str(refusal.rule_id.endswith("too_late")).lower(),
                "blocked": attempted_words(block.command),
            }
        )
    return found
