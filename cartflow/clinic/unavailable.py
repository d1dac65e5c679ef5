"""A database that refuses (unreachable, read-only, a full disk) is a 503, never a traceback.

The API answers it in JSON already (``cartflow.clinic.api.errors``). A page, a login, or any
request whose error escapes the API's handlers reaches Django's 500 handler, which is
:func:`server_error`: for a database error it answers 503 with ``Retry-After``, as JSON to a
client that asks for JSON (``/api/``, or ``Accept: application/json``) and otherwise as a
styled page that needs nothing from the database (no user, no menu) to render. Every other
error keeps Django's plain 500 page.
"""

from __future__ import annotations

import logging
import sys

from django.db import DatabaseError, IntegrityError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views import defaults

logger = logging.getLogger(__name__)

RETRY_AFTER_S = 30


def database_refused(exc: BaseException | None) -> bool:
    """A database error that says the database cannot serve now, not a bug (a race lost on
    a unique constraint is a bug's signature here: it stays a 500)."""
    return isinstance(exc, DatabaseError) and not isinstance(exc, IntegrityError)


def wants_json(request: HttpRequest) -> bool:
    if request.path.startswith("/api/"):
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def unavailable(request: HttpRequest) -> HttpResponse:
    message = _(
        "The record cannot be written or read now (the database refused). Nothing was "
        "recorded by this request: try again in a minute."
    )
    response: HttpResponse
    if wants_json(request):
        response = JsonResponse({"detail": message}, status=503)
    else:
        response = HttpResponse(
            render_to_string("503.html", {"message": message, "retry_after": RETRY_AFTER_S}),
            status=503,
        )
    response["Retry-After"] = str(RETRY_AFTER_S)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's ``handler500``: a 503 for a database that refuses, else Django's own 500."""
    exc = sys.exc_info()[1]
    if database_refused(exc):
        logger.error(
            "database unavailable on %s %s: %s", request.method, request.path, type(exc).__name__
        )
        return unavailable(request)
    return defaults.server_error(request)
