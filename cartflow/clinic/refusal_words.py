"""A refusal in the reader's language: the domain names a rule and its values, the
interface words it (and translates it)."""

from __future__ import annotations

from typing import Any

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
}


def deviation_summary(data: dict[str, Any]) -> str:
    """A deviation's summary in the reader's language where its rule is known (a bedside
    refusal), else as it was recorded."""
    rule_id = str((data.get("details") or {}).get("rule", ""))
    if rule_id.startswith("bedside.") and rule_id in WORDS:
        return str(
            _("bedside check refused: %(rule)s; nothing was infused") % {"rule": words(rule_id)}
        )
    return str(data.get("summary", ""))


def words(rule_id: str, params: dict[str, Any] | None = None, fallback: str = "") -> str:
    template = WORDS.get(rule_id)
    if template is None or (params is None and "%(" in str(template)):
        return fallback or rule_id
    try:
        return str(template) % (params or {})
    except (KeyError, TypeError, ValueError):
        return str(template)
