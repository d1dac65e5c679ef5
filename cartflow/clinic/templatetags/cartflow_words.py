"""``|prose``: a rule's or a check's message as a reader reads it (a builtin of the project's
templates, beside the site-time filters, which the timeline's words use in turn)."""

from __future__ import annotations

from typing import Any

from django import template

from cartflow.clinic.timeline_words import prose

register = template.Library()


@register.filter(name="prose")
def prose_filter(text: Any) -> str:
    return prose(text)
