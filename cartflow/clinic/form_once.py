"""A one-time token in every page form: a form sent twice is answered once, and writes once.

A page that holds a form that writes renders ``{% form_once %}`` beside ``{% csrf_token %}``:
a hidden field with a new random token. :class:`FormOnceMiddleware` keeps, per user and for
24 hours (the API's ``Idempotency-Key`` store, :mod:`cartflow.clinic.services.idempotency`),
the first answer to a form sent with a token, written in the same transaction as whatever
the form wrote. The same form sent again (a double click, a reload after a lost answer, a
browser's resubmit) gets that first answer back and writes nothing; the same token with
other values is refused with a page that says to reload the form.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django import template
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from cartflow.clinic.models import IdempotentAnswer
from cartflow.clinic.services.idempotency import fingerprint, stored_answer
from cartflow.domain.errors import InvalidInput

FIELD = "form_once"
KEY_PREFIX = "form:"
KEPT_HEADERS = ("Location", "Content-Type", "HX-Redirect", "HX-Refresh", "HX-Trigger")

register = template.Library()


@register.simple_tag(takes_context=True)
def form_once(context: dict[str, Any]) -> SafeString:
    """The hidden one-time token of a form (nothing for a visitor who is not signed in)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return SafeString("")
    return format_html('<input type="hidden" name="{}" value="{}">', FIELD, new_token())


def new_token() -> str:
    return secrets.token_urlsafe(24)


def _form_print(request: HttpRequest) -> str:
    fields = sorted(
        (name, value)
        for name, values in request.POST.lists()
        if name != "csrfmiddlewaretoken"
        for value in values
    )
    return fingerprint(request.method or "POST", request.path, urlencode(fields).encode())


def _kept(response: HttpResponse) -> dict[str, Any]:
    return {
        "headers": {name: response[name] for name in KEPT_HEADERS if response.has_header(name)},
        "content": response.content.decode(response.charset or "utf-8"),
    }


def _replayed(status: int, answer: dict[str, Any]) -> HttpResponse:
    response = HttpResponse(answer.get("content", ""), status=status)
    for name, value in answer.get("headers", {}).items():
        response[name] = value
    return response


class FormOnceMiddleware:
    """Answer a page form sent again with its token from the first answer (module doc)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = self._token(request)
        if token is None:
            return self.get_response(request)
        user, key, print_ = request.user, KEY_PREFIX + token, _form_print(request)
        try:
            stored = stored_answer(user, key, print_)
        except InvalidInput:
            return self._refused(request)
        if stored is not None:
            return _replayed(*stored)
        try:
            with transaction.atomic():
                response = self.get_response(request)
                if response.status_code < 500 and not getattr(response, "streaming", False):
                    IdempotentAnswer.objects.create(
                        user=user,
                        key=key,
                        fingerprint=print_,
                        status=response.status_code,
                        answer=json.dumps(_kept(response)),
                        created_at=timezone.now(),
                    )
        except IntegrityError:
            # The same form, sent twice at once: the first to commit stands, ours rolled back.
            stored = stored_answer(user, key, print_)
            if stored is None:
                raise
            return _replayed(*stored)
        return response

    @staticmethod
    def _token(request: HttpRequest) -> str | None:
        if request.method != "POST" or request.path.startswith("/api/"):
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        token = request.POST.get(FIELD, "").strip()
        if not token or len(token) > 100 or not all(" " < c <= "~" for c in token):
            return None
        return token

    @staticmethod
    def _refused(request: HttpRequest) -> HttpResponse:
        return render(
            request,
            "clinic/form_sent.html",
            {
                "message": _(
                    "This form was already sent with other values. Nothing was recorded now: "
                    "open the page again and send the form from there."
                )
            },
            status=409,
        )
