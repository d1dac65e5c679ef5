"""What the patient view says, built from the case's state and the catalog: the six steps,
where the cells are now, what comes next and when, in plain words (reading age about 12).

Every date it shows is one the case records (an event's time, a booked slot, the team's
planned dates) or one a catalog fact counts from a recorded date (the end of the stay near
the centre); it never invents one. It names no staff member (roles only), no manufacturing
site, no quality decision, no lab value or grade: a quarantine is "on the way", an
out-of-specification product is "being made and checked".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cartflow.clinic.services.site_register import case_fact
from cartflow.domain.catalog import FactName
from cartflow.domain.journey import Step
from cartflow.domain.journey.plans import dates_in_force
from cartflow.domain.journey.steps import INFUSED_STEPS

# The product names approved in China, else the international name (issue 11).
PRODUCT_NAMES: dict[str, Any] = {
    "axicabtagene-ciloleucel": gettext_lazy("axicabtagene ciloleucel"),
    "relmacabtagene-autoleucel": gettext_lazy("relmacabtagene autoleucel"),
    "equecabtagene-autoleucel": gettext_lazy("equecabtagene autoleucel"),
    "inaticabtagene-autoleucel": gettext_lazy("inaticabtagene autoleucel"),
    "zevorcabtagene-autoleucel": gettext_lazy("zevorcabtagene autoleucel"),
}

STEP_OF: dict[Step, int] = {}
for number, steps in enumerate(
    (
        (
            Step.NEW,
            Step.REFERRED,
            Step.ANTIGEN_TESTED,
            Step.ELIGIBLE,
            Step.SCREENED,
            Step.APHERESIS_SCHEDULED,
            Step.COLLECTION_FAILED,
        ),
        (
            Step.COLLECTED,
            Step.BRIDGING,
            Step.MANUFACTURING,
            Step.OUT_OF_SPECIFICATION,
            Step.RELEASED,
            Step.PRODUCT_REJECTED,
            Step.PRODUCT_EXPIRED,
            Step.PRODUCT_DISPOSED,
        ),
        (Step.SHIPPED, Step.QUARANTINED, Step.RECEIVED, Step.AVAILABLE),
        (Step.LYMPHODEPLETING, Step.LYMPHODEPLETED),
        (Step.THAWED, Step.INFUSING, Step.INFUSED),
        (Step.MONITORING, Step.LONG_TERM_FOLLOW_UP, Step.FOLLOW_UP_COMPLETED),
    ),
    start=1,
):
    for step in steps:
        STEP_OF[step] = number


def product_name(product_id: str) -> str:
    name = PRODUCT_NAMES.get(product_id)
    return str(name) if name is not None else product_id.replace("-", " ")


@dataclass(frozen=True)
class StepLine:
    number: int
    title: str
    about: str
    status: str  # done | now | ahead


@dataclass(frozen=True)
class NextDate:
    what: str
    on: date
    planned: bool


@dataclass(frozen=True)
class Sentence:
    """A sentence with one date in it, split around the date so the page can mark the date
    up (``<time datetime=...>``) wherever the language puts it."""

    before: str
    on: date | None
    after: str


def sentence(text: str, on: date | None) -> Sentence:
    if on is None or "%(date)s" not in text:
        return Sentence(re.sub(r"\s*(?:on |for |于)?%\(date\)s\s*", "", text), None, "")
    before, _, after = text.partition("%(date)s")
    return Sentence(before, on, after)


@dataclass
class PatientPage:
    steps: list[StepLine]
    now_number: int
    where: Sentence
    next: NextDate | None
    infused_on: date | None
    stay_near_until: date | None
    no_driving_until: date | None
    stay_near_days: int | None
    no_driving_days: int | None
    product: str
    centre: str
    phone: str
    holder: str
    warning_signs: list[str] = field(default_factory=list)
    follow_up_until: date | None = None


def warning_signs() -> list[str]:
    return [
        _("a fever of 38 °C or higher"),
        _("chills or shaking"),
        _("trouble breathing"),
        _("a fast heartbeat"),
        _("feeling dizzy or faint"),
        _("a headache"),
        _("feeling confused"),
        _("trouble speaking or writing"),
        _("trembling"),
        _("a seizure (fit)"),
        _("being unusually sleepy"),
    ]


def _day(moment: datetime | None, zone: ZoneInfo) -> date | None:
    return moment.astimezone(zone).date() if moment is not None else None


def _fact_days(state: Any, name: str, on: date) -> int | None:
    resolved = case_fact(state, name, on)
    if resolved is None:
        return None
    value = resolved.value
    return int(value) if isinstance(value, int | float) else None


def _titles() -> list[tuple[str, str]]:
    return [
        (
            _("Collecting your cells"),
            _(
                "A thin tube goes into a vein. A machine takes out some white blood cells and "
                "gives the rest of your blood back. It takes about 3 to 6 hours."
            ),
        ),
        (
            _("Making your CAR-T cells"),
            _(
                "A laboratory teaches your own cells to find the cancer. This usually takes a "
                "few weeks, and the time can change. Your doctor may give you a treatment to "
                "hold the cancer back while you wait."
            ),
        ),
        (
            _("Bringing your cells back"),
            _("Your new cells travel back to the hospital frozen and are kept very cold."),
        ),
        (
            _("Chemotherapy"),
            _(
                "A short course of chemotherapy, over 2 to 4 days, makes room for your new "
                "cells. It ends a few days before the infusion."
            ),
        ),
        (
            _("Getting your cells"),
            _("Your cells go back into a vein through a drip. It usually takes less than an hour."),
        ),
        (
            _("Recovery and check-ups"),
            _(
                "Your care team watches you closely for several weeks. After that come "
                "check-ups for years."
            ),
        ),
    ]


def _where(state: Any, zone: ZoneInfo) -> tuple[str, date | None]:
    step = state.step
    collection = state.collection
    if step in (Step.NEW, Step.REFERRED, Step.ANTIGEN_TESTED, Step.ELIGIBLE, Step.SCREENED):
        return _(
            "Your care team is getting you ready. Your cells have not been collected yet."
        ), None
    if step is Step.APHERESIS_SCHEDULED:
        slot = state.apheresis_slots[-1] if state.apheresis_slots else None
        return _("Your cell collection is booked for %(date)s."), _day(slot, zone)
    if step is Step.COLLECTION_FAILED:
        return _("Your care team will book another cell collection with you."), None
    if step in (Step.COLLECTED, Step.BRIDGING):
        return _("Your cells were collected on %(date)s."), _day(
            collection.at if collection else None, zone
        )
    if step in (Step.MANUFACTURING, Step.OUT_OF_SPECIFICATION, Step.RELEASED):
        return _("Your cells are being made into CAR-T cells and checked."), None
    if step in (Step.PRODUCT_REJECTED, Step.PRODUCT_EXPIRED, Step.PRODUCT_DISPOSED):
        return _("Your care team will talk with you about what happens next."), None
    if step in (Step.SHIPPED, Step.QUARANTINED):
        return _("Your cells are on their way to the hospital, frozen."), None
    if step in (Step.RECEIVED, Step.AVAILABLE):
        return _("Your cells arrived frozen at the hospital on %(date)s."), _day(
            state.received_at, zone
        )
    if step is Step.LYMPHODEPLETING:
        course = state.ld_course
        return _("Your chemotherapy started on %(date)s."), _day(
            course.started_at if course else None, zone
        )
    if step is Step.LYMPHODEPLETED:
        return _("Your chemotherapy finished on %(date)s."), _day(state.ld_completed_at, zone)
    if step in (Step.THAWED, Step.INFUSING):
        return _("Your cells are being given back to you."), None
    if step in (Step.INFUSED, Step.MONITORING):
        return _("You got your CAR-T cells on %(date)s."), _day(state.first_infusion_at, zone)
    return _("You got your CAR-T cells on %(date)s. Now come your check-ups."), _day(
        state.first_infusion_at, zone
    )


def _next(state: Any, zone: ZoneInfo, today: date) -> NextDate | None:
    """The next date the case records, from today on: a booked slot, else a planned date (the
    accepted plan's, or the team's)."""
    planned = dates_in_force(state)
    number = STEP_OF.get(state.step, 0)
    candidates: list[NextDate] = []
    if state.step is Step.APHERESIS_SCHEDULED and state.apheresis_slots:
        booked = _day(state.apheresis_slots[-1], zone)
        if booked is not None:
            candidates.append(NextDate(_("Cell collection"), booked, planned=False))
    if number <= 1 and planned.apheresis_on is not None:
        candidates.append(NextDate(_("Cell collection"), planned.apheresis_on, planned=True))
    if number <= 3 and planned.lymphodepletion_on is not None:
        candidates.append(NextDate(_("Chemotherapy"), planned.lymphodepletion_on, planned=True))
    if number <= 4 and state.step not in INFUSED_STEPS and planned.infusion_on is not None:
        candidates.append(NextDate(_("Getting your cells"), planned.infusion_on, planned=True))
    ahead = [c for c in candidates if c.on >= today]
    return min(ahead, key=lambda c: (c.on, c.planned)) if ahead else None


def build(case: Any, state: Any, holder: str, now: datetime) -> PatientPage:
    site = case.treating_site
    zone = ZoneInfo(site.time_zone or "UTC")
    today = now.astimezone(zone).date()
    now_number = STEP_OF.get(state.step, 1)
    steps = [
        StepLine(
            number,
            title,
            about,
            "done" if number < now_number else "now" if number == now_number else "ahead",
        )
        for number, (title, about) in enumerate(_titles(), start=1)
    ]
    where = sentence(*_where(state, zone))
    infused_on = _day(state.first_infusion_at, zone)
    # The facts in force on the infusion's day, or today's before it.
    near = _fact_days(state, FactName.PROXIMITY_DAYS, infused_on or today)
    no_drive = _fact_days(state, FactName.DRIVING_RESTRICTION_DAYS, infused_on or today)
    stay = infused_on + timedelta(days=near) if infused_on and near else None
    drive = infused_on + timedelta(days=no_drive) if infused_on and no_drive else None
    return PatientPage(
        steps=steps,
        now_number=now_number,
        where=where,
        next=_next(state, zone, today),
        infused_on=infused_on,
        stay_near_until=stay,
        no_driving_until=drive,
        stay_near_days=near,
        no_driving_days=no_drive,
        product=product_name(state.product_id or case.product),
        centre=site.name,
        phone=site.emergency_phone,
        holder=holder,
        warning_signs=warning_signs() if infused_on is not None else [],
        follow_up_until=state.follow_up_until,
    )
