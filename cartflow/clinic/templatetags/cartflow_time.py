"""Times on the pages, in the treating site's own time zone, with the zone's abbreviation.

A ward works in its site's local time: every clinical and recording time a page shows goes
through :func:`local_time` (as the template filters ``site_time`` and ``site_time_s``, after
``{% load cartflow_time %}``), and a form's ``datetime-local`` value is read in the same zone
(``site_zones.case_zone``, used by ``cartflow.clinic.forms.reading.parse``), so what a page
shows and what it reads agree. Stored times stay in UTC.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from cartflow.clinic.site_zones import DEFAULT_ZONE, zone_name

register = template.Library()


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(DEFAULT_ZONE)


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def local_time(value: Any, where: Any = None, *, seconds: bool = False) -> str:
    """``value`` (an aware datetime or ISO 8601 text; naive means UTC) in the zone of
    ``where``, as ``2026-11-26 03:14 CET``. Anything else is shown as it is (empty: "—")."""
    moment = _moment(value)
    if moment is None:
        return str(value) if value not in (None, "") else "—"
    local = moment.astimezone(_zone(zone_name(where)))
    pattern = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    return f"{local.strftime(pattern)} {local.tzname() or zone_name(where)}"


def zone_label(where: Any, now: datetime | None = None) -> str:
    """The zone's name and its abbreviation now, for a form's help: ``Europe/Zurich, CET``."""
    name = zone_name(where)
    abbreviation = (now or timezone.now()).astimezone(_zone(name)).tzname() or ""
    return name if abbreviation in ("", name) else f"{name}, {abbreviation}"


@register.filter(name="zone_label")
def zone_label_filter(where: Any) -> str:
    """``{{ site|zone_label }}``: the zone's name and its abbreviation now."""
    return zone_label(where)


@register.filter
def site_time(value: Any, where: Any = None) -> str:
    """``{{ event.occurred_at|site_time:case }}``: the time in the site's zone, to the minute."""
    return local_time(value, where)


@register.filter
def site_time_s(value: Any, where: Any = None) -> str:
    """The same to the second (signatures)."""
    return local_time(value, where, seconds=True)


SOURCE_REF = re.compile(r"\[([\w.-]+)\]")


DOCUMENT = re.compile(r"(?<![\w/.-])((?:[\w-]+/)*[\w-]+\.md)\b")
"""A document of the repository a source names (``docs/journey.md``)."""


@register.filter
def source_links(text: Any) -> SafeString:
    """``label [8]`` with ``[8]`` a link to the catalog's source list, where 8 is a source."""
    from django.urls import reverse

    from cartflow.clinic.services.machine import catalog

    known = catalog().sources
    url = reverse("sources")

    def link(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in known:
            return match.group(0)
        return f'<a href="{url}#source-{escape(key)}">[{escape(key)}]</a>'

    from cartflow.clinic.code_words import source_words

    linked = SOURCE_REF.sub(link, str(escape(source_words(text))))
    # a document's file name is a name: shown as written, in no translation
    return mark_safe(DOCUMENT.sub(r'<span translate="no">\1</span>', linked))


@register.filter(name="step_words")
def step_words_filter(step: Any) -> str:
    from cartflow.clinic.worklist import step_words

    return step_words(step)


@register.filter
def words(code: Any) -> str:
    """A code value (``bcl2_inhibitor``) as words for a label, in the reader's language."""
    from cartflow.clinic.code_words import code_words

    return code_words(code)


@register.filter
def csv_values(text: Any) -> SafeString:
    """A column's meaning with the values the file holds (“yes”, “no”) shown as written."""
    return mark_safe(re.sub(r"“(yes|no)”", r"<code>\1</code>", str(escape(text))))


@register.filter
def meaning_words(meaning: Any) -> str:
    """A signature's meaning (``product release``) in the reader's language."""
    from cartflow.clinic.code_words import code_words

    return code_words(meaning)
