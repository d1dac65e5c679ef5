"""A case's events in words for the timeline: titles, field names and values a clinician reads.

The stored event keeps its machine form (the auditor opens it raw); what the page prints is
never a Python value, a field's code name or a catalog identifier where a name belongs.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cartflow.clinic.code_words import code_words
from cartflow.clinic.refusal_words import DEVIATION_WORDS, deviation_summary
from cartflow.clinic.templatetags.cartflow_time import local_time
from cartflow.clinic.worklist import indication_words, product_words

EVENT_TITLES: dict[str, Any] = {
    "case.referred": _("Referred"),
    "antigen.tested": _("Antigen tested"),
    "eligibility.signed": _("Eligibility signed"),
    "screening.recorded": _("Infectious-disease screening recorded"),
    "apheresis.scheduled": _("Apheresis scheduled"),
    "slot.booked": _("Slot booked"),
    "collection.recorded": _("Cells collected"),
    "collection.failed": _("Collection failed"),
    "patient.weighed": _("Weight recorded"),
    "bridging.given": _("Bridging therapy given"),
    "plan.order": _("Manufacturing ordered"),
    "manufacturing.started": _("Manufacturing started"),
    "product.released": _("Product released"),
    "product.out_of_specification": _("Product out of specification"),
    "exception.out_of_specification_accepted": _("Out-of-specification product accepted"),
    "quality.out_of_specification_rejected": _("Out-of-specification product rejected"),
    "product.shipped": _("Product shipped"),
    "product.temperature_recorded": _("Temperature recorded"),
    "quality.quarantine_released": _("Quarantine released"),
    "quality.quarantine_rejected": _("Quarantined product rejected"),
    "product.received": _("Product received"),
    "product.availability_confirmed": _("Product confirmed available"),
    "site_protocol.recorded": _("Site protocol value recorded"),
    "ld.started": _("Lymphodepletion started"),
    "ld.fludarabine_modified": _("Fludarabine dose modified"),
    "ld.completed": _("Lymphodepletion completed"),
    "ld.stopped_early": _("Lymphodepletion stopped early"),
    "exception.ld_omitted": _("Lymphodepletion omitted"),
    "product.thawed": _("Bag thawed"),
    "bedside.verified": _("Bedside check matched"),
    "product.infused": _("Product infused"),
    "monitoring.started": _("Monitoring started"),
    "monitoring.completed": _("Monitoring completed"),
    "toxicity.crs_graded": _("CRS graded"),
    "toxicity.icans_graded": _("ICANS graded"),
    "toxicity.resolved": _("Toxicity resolved"),
    "kinetics.measured": _("Transgene level measured"),
    "response.assessed": _("Response assessed"),
    "follow_up.visit_recorded": _("Follow-up visit recorded"),
    "follow_up.completed": _("Follow-up completed"),
    "product.expired": _("Product expired"),
    "product.disposed": _("Product disposed of"),
    "case.withdrawn": _("Case withdrawn"),
    "case.deceased": _("Death recorded"),
    "deviation.opened": _("Deviation opened"),
    "deviation.reviewed": _("Deviation reviewed"),
    "label.printed": _("Labels printed"),
    "label.applied": _("Labels applied"),
    "label.reprinted": _("Label reprinted"),
    "label.voided": _("Labels voided"),
    "plan.dates_recorded": _("Planned dates recorded"),
    "patient_access.issued": _("Patient access issued"),
    "patient_access.used": _("Patient access used"),
    "patient_access.revoked": _("Patient access revoked"),
}

FIELD_LABELS: dict[str, Any] = {
    "product_id": _("product"),
    "indication_id": _("indication"),
    "site_timezone": _("site time zone"),
    "approved_in": _("approved in"),
    "target_antigen": _("target antigen"),
    "dose_cells": _("dose (CAR-positive viable T cells)"),
    "dose_range": _("label's dose range"),
    "weight_kg": _("weight (kg)"),
    "collection_din": _("collection label"),
    "scanned_coi": _("identifier scanned"),
    "bag_id": _("bag"),
    "occurred_at": _("clinical time"),
    "in_range": _("within the label's range"),
    "copies_per_ug": _("copies per µg DNA"),
    "lloq": _("lower limit of quantification"),
    "BCMA": "BCMA",
    "CD19": "CD19",
    "after_infusion": _("after infusion"),
    "age_years": _("age (years)"),
    "antigen": _("antigen"),
    "antigens": _("antigens"),
    "apheresis_on": _("apheresis on"),
    "assessment": _("assessment"),
    "bag_ids": _("bags"),
    "bag_label": _("bag label scanned"),
    "bags": _("bags"),
    "by_region": _("by region"),
    "celsius": _("temperature (°C)"),
    "chair_day": _("chair day"),
    "cleared": _("cleared"),
    "coi": _("chain-of-identity identifier"),
    "courier": _("courier"),
    "day": _("day"),
    "day_of_course": _("day of the course"),
    "days": _("days"),
    "days_since_infusion": _("days since infusion"),
    "days_since_last_ld": _("days since the last lymphodepletion"),
    "days_since_ld": _("days since lymphodepletion"),
    "diagnosis": _("diagnosis"),
    "din": _("donation identification number"),
    "disease_status": _("disease status"),
    "drug": _("drug"),
    "eligible": _("eligible"),
    "eligible_in": _("eligible in"),
    "excursion": _("temperature excursion"),
    "expires_at": _("expires"),
    "follow_up_until": _("follow-up until"),
    "holder": _("holder"),
    "holder_name": _("holder's name"),
    "identity": _("second identifier"),
    "indication": _("indication"),
    "infusion_on": _("infusion on"),
    "kind": _("kind"),
    "ld_omitted": _("lymphodepletion omitted"),
    "limit_celsius": _("limit (°C)"),
    "location": _("location"),
    "lot": _("lot"),
    "lymphodepletion_on": _("lymphodepletion on"),
    "max": _("at most"),
    "meaning": _("meaning"),
    "method": _("method"),
    "mg_per_m2": _("mg/m2"),
    "min": _("at least"),
    "minutes_since_thaw": _("minutes since thaw"),
    "missing": _("missing information"),
    "note_ref": _("note reference"),
    "order_ref": _("order reference"),
    "own_access_age": _("age for own access"),
    "part": _("part"),
    "patient_age": _("patient's age"),
    "patient_facts": _("patient facts"),
    "performer": _("performed by"),
    "positive": _("positive"),
    "prior_lines": _("prior lines of therapy"),
    "prior_therapies": _("prior therapies"),
    "product": _("product"),
    "qualifies": _("qualifies"),
    "re_collection": _("repeat collection"),
    "reason": _("reason"),
    "refractory_to": _("refractory to"),
    "regimen": _("regimen"),
    "regimen_drugs": _("regimen drugs"),
    "region": _("region"),
    "repeat": _("repeat course"),
    "role": _("role"),
    "scanned_bag_id": _("bag number scanned"),
    "scanned_bag_ids": _("bag numbers scanned"),
    "scanned_bag_label": _("bag label scanned"),
    "scanned_din": _("donation identification number scanned"),
    "signer": _("signer"),
    "site": _("site"),
    "slot_at": _("slot time"),
    "split_day": _("split-dose day"),
    "status": _("status"),
    "storage_location": _("storage location"),
    "tests": _("tests"),
    "thawed_at": _("thawed at"),
    "tolerance_days": _("tolerance (days)"),
    "unmet": _("unmet conditions"),
    "user_id": _("user"),
    "witness": _("witness"),
    "wristband": _("wristband"),
    "summary": _("summary"),
    "count": _("count"),
    "labels": _("labels"),
    "label_id": _("label"),
    "label_ids": _("labels"),
    "new_label_id": _("new label"),
    "number": _("number"),
    "of": _("of"),
    "response": _("response"),
    "assessed_on": _("assessed on"),
    "syndrome": _("syndrome"),
    "treatments": _("treatments"),
    "onset_at": _("onset"),
    "max_grade": _("highest grade"),
    "grade": _("grade"),
    "instrument": _("instrument"),
    "observed": _("observed"),
    "scan": _("scan"),
    "scanned": _("scanned"),
    "details": _("details"),
    "numbers": _("deviations reviewed (by number on the case)"),
    "comment": _("comment"),
    # The catalog's fact names (a decision's facts, the site's register).
    "age": _("age bounds (years)"),
    "conditions": _("eligibility conditions"),
    "dose": _("dose"),
    "lymphodepletion": _("lymphodepleting regimen"),
    "infusion_window_days": _("infusion window (days after lymphodepletion)"),
    "ld_repeat_after_days": _("repeat lymphodepletion after (days)"),
    "ld_omission_wbc_max_per_l": _("white-cell count allowing lymphodepletion to be omitted"),
    "storage_max_celsius": _("storage temperature at most (°C)"),
    "post_thaw_minutes": _("minutes from thaw to infusion"),
    "monitoring_days": _("monitoring period (days)"),
    "daily_monitoring_days": _("daily monitoring (days)"),
    "proximity_days": _("stay near the centre (days)"),
    "driving_restriction_days": _("no driving (days)"),
    "fludarabine_renal_adjustment": _("fludarabine renal adjustment"),
}

RECORDED = {
    "method",
    "location",
    "storage_location",
    "note_ref",
    "order_ref",
    "reason",
    "summary",
    "holder_name",
    "lot",
    "regimen",
}
"""Keys whose values are text a person recorded: shown as written, in no translation."""


def fact_value_words(name: str, value: Any, zone: str) -> str:
    """A catalog fact's value in words: a regimen as its drugs and days, a renal schedule by
    band, anything else as :func:`value_words` gives it."""
    if name == "lymphodepletion" and isinstance(value, list):
        regimens = []
        for regimen in value:
            if not isinstance(regimen, dict):
                continue
            drugs = ", ".join(
                gettext("%(drug)s %(mg)s mg/m² × %(days)s days")
                % {
                    "drug": code_words(str(d.get("drug", ""))),
                    "mg": d.get("mg_per_m2"),
                    "days": d.get("days"),
                }
                for d in regimen.get("drugs", ())
                if isinstance(d, dict)
            )
            regimens.append(f"{regimen.get('id', '')} ({drugs})")
        return "; ".join(regimens) or "—"
    if name == "fludarabine_renal_adjustment":
        from cartflow.domain.errors import DomainError
        from cartflow.domain.renal import check_renal_schedule, describe

        try:
            return describe(check_renal_schedule(value))
        except DomainError:
            pass
    return value_words(name, value, zone)


def site_facts(data: dict[str, Any], zone: str) -> list[dict[str, str]]:
    """The facts of a decision that were the site's signed values rather than the label's:
    (fact in words, value in words, the site's document)."""
    found = []
    for fact in data.get("facts") or ():
        if not isinstance(fact, dict) or fact.get("status") != "site_protocol":
            continue
        name = str(fact.get("name", ""))
        found.append(
            {
                "fact": label_words(name),
                "value": fact_value_words(name, fact.get("value"), zone),
                "source": str(fact.get("source", "")),
            }
        )
    return found


ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
HIDDEN = {"signature", "facts", "catalog_version", "signs", "signs_seq", "slot", "access_id"}


def count_words(number: float) -> str:
    """A large count as a clinician writes it: 250000000 -> 2.5 × 10⁸."""
    if number == 0 or abs(number) < 100_000:
        return f"{number:g}"
    mantissa, exponent = f"{number:.2e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa} × 10{str(int(exponent)).translate(SUPERSCRIPT)}"


def label_words(key: str) -> str:
    label = FIELD_LABELS.get(key)
    return str(label) if label is not None else key.replace("_", " ")


def value_words(key: str, value: Any, zone: str) -> str:
    """One value in words: no ``True``/``None``, no brackets, no code names."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, int | float):
        return count_words(float(value))
    if isinstance(value, str):
        if ISO_TIME.match(value):
            return local_time(value, zone)
        if key in ("product_id", "product"):
            return product_words(value)
        if key in ("indication_id", "indication"):
            return indication_words(value)
        if key in RECORDED:
            return value
        return code_words(value)
    if isinstance(value, list | tuple):
        return ", ".join(value_words(key, item, zone) for item in value) or "—"
    if isinstance(value, dict):
        if set(value) >= {"min", "max"}:
            low, high = value.get("min"), value.get("max")
            if low is None:
                return gettext("up to %(max)s") % {"max": value_words(key, high, zone)}
            if high is None:
                return gettext("at least %(min)s") % {"min": value_words(key, low, zone)}
            return f"{value_words(key, low, zone)}–{value_words(key, high, zone)}"
        return "; ".join(f"{label_words(k)}: {value_words(k, v, zone)}" for k, v in value.items())
    return str(value)


def event_title(kind: str) -> str:
    title = EVENT_TITLES.get(kind)
    if title is not None:
        return str(title)
    return kind.replace(".", ": ").replace("_", " ").capitalize()


def shown(data: dict[str, Any], zone: str) -> list[tuple[str, str, bool]]:
    """An event's data as (label, value, recorded) in words; ``recorded``: the value is text
    a person wrote, shown as written (the page marks it ``translate="no"``)."""
    rows = [
        (label_words(key), value_words(key, value, zone), key in RECORDED)
        for key, value in data.items()
        if key not in HIDDEN
    ]
    if "summary" in data and str((data.get("details") or {}).get("rule", "")) in DEVIATION_WORDS:
        # a refusal the interface words: its summary in the reader's language, its details
        # (the rule's code, the scan) in the raw event
        summary = deviation_summary(data)
        rows = [r for r in rows if r[0] not in (label_words("summary"), label_words("details"))]
        rows.insert(0, (label_words("summary"), summary, False))
    return rows


def _catalog_names() -> list[tuple[str, str]]:
    from cartflow.clinic.services.machine import catalog

    cat = catalog()
    names = [
        (i.id, f"{product_words(i.product)} · {indication_words(i.id)}") for i in cat.indications()
    ]
    names += [(p.id, product_words(p.id)) for p in cat.products]
    return sorted(names, key=lambda pair: len(pair[0]), reverse=True)


SNAKE_WORD = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def prose(text: Any) -> str:
    """A rule's or a check's message as a reader reads it: catalog identifiers by their
    names, code names (``disease_status``) as words. The domain keeps its precise text for
    the log and the API; only the page reads it this way."""
    words = str(text)
    for code, name in _catalog_names():
        if code in words:
            words = re.sub(rf"(?<![\w/-]){re.escape(code)}(?![\w/-])", name, words)
    return SNAKE_WORD.sub(lambda m: label_words(m.group(0)), words)
