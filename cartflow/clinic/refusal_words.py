"""A refusal in the reader's language: the domain names a rule and its values, the
interface words it (and translates it).

One renderer for the pages, the API and the CLI: :func:`refusal_text` words a
:class:`~cartflow.domain.journey.JourneyError` from its ``rule_id`` and ``params`` (the dates
and numbers the rule knows), and falls back to the rule's own English words where no
wording is written yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from django.utils import formats
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

WORDS: dict[str, Any] = {
    "patient_access.patient_too_young": _(
        "This patient is %(age)s. The site gives patients their own access from age "
        "%(min_age)s: issue it to a parent or guardian."
    ),
    "patient_access.guardian_of_adult": _(
        "This patient is %(age)s. From %(adult_age)s, access goes to the patient, not to a "
        "guardian."
    ),
    "patient_access.link_lifetime": _("A set-up link must expire within %(max_days)s days."),
    "patient_access.case_closed": _("This case is closed: no access can be issued."),
    "patient_access.no_case": _("This case is not open yet."),
    "patient_access.revoked": _("This access was revoked."),
    "patient_access.used": _("This link was already used."),
    "patient_access.expired": _("This link has expired."),
    "patient_access.unknown": _("There is no such access on this case."),
    "bedside.wristband": _(
        "the wristband scanned does not belong to this case's patient; STOP, do not infuse: "
        "check the patient's identity"
    ),
    "bedside.identity": _(
        "confirm the patient's name and birth date with the patient (the second identifier) "
        "before the bag is scanned"
    ),
    "bedside.bag_label": _(
        "the bag's identity label does not belong to this case; STOP, do not infuse: this may "
        "be another patient's product"
    ),
    "bedside.bag_number": _(
        "the bag scanned at the bedside is not the bag thawed for this case; STOP, do not infuse"
    ),
    "bedside.witness_same_person": _(
        "the second person must be someone else, with their own login: one person cannot "
        "witness their own bedside check"
    ),
    "labels.unreconciled": _(
        "every label printed for this case must be accounted for before release: applied, or "
        "voided with a reason, or replaced by a reprint with a reason; unaccounted for: "
        "%(labels)s"
    ),
    "plan.order": _(
        "Cell collection comes before chemotherapy, and chemotherapy before the infusion."
    ),
    # --- time windows of the journey (domain/journey/decide.py) ---
    "infusion.window": _(
        "Infusion may start on %(earliest)s (%(min_days)s days after lymphodepletion ended) "
        "and no later than %(latest)s."
    ),
    "infusion.too_early": _(
        "Infusion may start on %(earliest)s (%(min_days)s days after lymphodepletion ended) "
        "and no later than %(latest)s."
    ),
    "infusion.too_late": _(
        "The infusion window closed on %(latest)s (%(max_days)s days after lymphodepletion "
        "ended on %(ld_ended)s): no infusion without a new course of lymphodepletion."
    ),
    "split_dose.day": _(
        "Part %(part)s of the split dose is given on Day %(label_day)s, %(on)s (within "
        "%(tolerance_days)s day(s)); today is Day %(day)s."
    ),
    "infusion.post_thaw": _(
        "The thawed bag is infused within %(minutes)s minutes of the thaw: by %(deadline)s."
    ),
    "infusion.needs_lymphodepletion": _(
        "The infusion needs lymphodepletion completed, or its omission signed by a physician."
    ),
    "infusion.post_thaw_window": _(
        "The infusion must follow the thaw within %(minutes)s minutes, by %(deadline)s; "
        "%(elapsed)s minutes have passed."
    ),
    "ld.complete_before_last_day": _(
        "Lymphodepletion is completed on its last scheduled day, %(last_day)s (day "
        "%(scheduled_days)s of the course; today is day %(day)s). To end it earlier, record "
        "a signed early stop with the reason."
    ),
    "ld.repeat_too_soon": _(
        "Lymphodepletion may be repeated from %(earliest)s, once the infusion is delayed more "
        "than %(after_days)s days after the last course ended on %(ld_ended)s."
    ),
    "ld_omission.count_too_old": _(
        "The white-cell count of %(measured_on)s allowed omitting lymphodepletion until "
        "%(latest)s (%(within_days)s days): measure it again."
    ),
    "monitoring.window": _(
        "Monitoring lasts at least %(days)s days after infusion: it may be completed from "
        "%(earliest)s."
    ),
    "follow_up.window": _(
        "Long-term follow-up lasts %(years)s years, until %(until)s."
    ),
    "monitoring.minimum_days": _(
        "Monitoring may be completed from %(earliest)s, %(days)s days after the infusion "
        "(today is day %(day)s)."
    ),
    "follow_up.until": _(
        "Long-term follow-up lasts %(years)s years, until %(until)s; it ends earlier only by "
        "death or withdrawal."
    ),
    # --- deviations (domain/journey/observations.py) ---
    "deviation.unknown": _("This case has no deviation number %(number)s."),
    "deviation.already_reviewed": _(
        "Deviation number %(number)s was already reviewed; a review is never replaced."
    ),
}

DEVIATION_WORDS: dict[str, Any] = {
    "bedside.wristband": _(
        "At the bedside, the wristband scanned did not name this case's patient. Nothing was "
        "infused."
    ),
    "bedside.identity": _(
        "At the bedside, the patient's second identifier was not confirmed. Nothing was "
        "infused."
    ),
    "bedside.bag_label": _(
        "At the bedside, the bag's identity label scanned did not name this case. Nothing was "
        "infused."
    ),
    "bedside.bag_number": _(
        "At the bedside, the bag's number scanned was not this case's thawed bag. Nothing was "
        "infused."
    ),
}

DATE_PARAMS = frozenset(
    {"earliest", "latest", "ld_ended", "last_day", "until", "measured_on", "on"}
)
TIME_PARAMS = frozenset({"deadline"})


def _shown(key: str, value: Any) -> Any:
    """A parameter as a reader writes it: a date as "2 December 2026", a number plainly."""
    if key in DATE_PARAMS and isinstance(value, str):
        try:
            return formats.date_format(date.fromisoformat(value), "j F Y")
        except ValueError:
            return value
    if key in TIME_PARAMS and isinstance(value, str):
        try:
            return formats.date_format(datetime.fromisoformat(value), "j F Y, H:i")
        except ValueError:
            return value
    if isinstance(value, float):
        return f"{value:g}"
    return value


def deviation_summary(data: Mapping[str, Any]) -> str:
    """A deviation's summary in the reader's language where its rule is worded (a bedside
    refusal), else as it was recorded."""
    return deviation_words(
        str(data.get("kind", "")), data.get("details") or {}, str(data.get("summary", ""))
    )


def words(rule_id: str, params: Mapping[str, Any] | None = None, fallback: str = "") -> str:
    template = WORDS.get(rule_id)
    if template is None or (params is None and "%(" in str(template)):
        return fallback or rule_id
    shown = {k: _shown(k, v) for k, v in (params or {}).items()}
    try:
        return str(template) % shown
    except (KeyError, TypeError, ValueError):
        return fallback or str(template)


def refusal_text(refusal: Any) -> str:
    """A journey refusal in words: from its rule identifier and parameters where a wording
    is written, else the rule as the domain states it."""
    return words(
        str(getattr(refusal, "rule_id", "") or ""),
        getattr(refusal, "params", None) or {},
        fallback=str(getattr(refusal, "rule", "") or refusal),
    )


def deviation_words(kind: str, details: Mapping[str, str], fallback: str) -> str:
    """What happened, in words, for a deviation (its refused scan's rule), else its summary."""
    template = DEVIATION_WORDS.get(details.get("rule", ""))
    return str(template) if template is not None else fallback


def kind_words(kind: Any) -> str:
    """Whether a rule is the label's or the site's policy, in words."""
    from cartflow.domain.catalog import RuleKind

    return str(_("label rule") if kind == RuleKind.LABEL else _("site policy"))


def attempted_words(name: str) -> str:
    """What was attempted, as the pages name the operation (never the command's class)."""
    from cartflow.clinic.forms.operations import OPERATIONS

    op = OPERATIONS.get(name)
    return gettext(str(op.title)) if op is not None else str(_("this step"))
