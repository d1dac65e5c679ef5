"""One place that turns every refusal into a JSON answer with a message.

- invalid input (the schema): 422, ``detail`` and ``errors``, one ``{field, location,
  message}`` per wrong field;
- ``InvalidInput``, ``NotInCatalog``, Django's ``ValidationError``: 422, the field and what
  is accepted;
- ``JourneyError`` (a guard refused): 422 with ``rule``, ``source``, ``kind``, ``step`` and
  ``attempted`` (and ``scans`` for a scan that did not match);
- ``Conflict``: 409, reload and try again;
- ``SignatureRefused`` (wrong password), ``Forbidden``: 403;
- ``NotFound``, ``Http404``: 404, the same for what does not exist and what may not be seen;
- no credentials: 401 with a ``WWW-Authenticate: Bearer`` challenge;
- a database that refuses (full disk, read-only, unreachable): 503 with ``Retry-After``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from cartflow.clinic.access import Forbidden
from cartflow.clinic.refusal_words import refusal_text
from cartflow.clinic.services.errors import Conflict, NotFound, SignatureRefused
from cartflow.domain.errors import DomainError, IdentityMismatch
from cartflow.domain.journey import JourneyError

logger = logging.getLogger(__name__)

LOCATIONS = {"body", "query", "path", "header", "cookie", "form", "file"}


def field_errors(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Pydantic's errors as ``{field, location, message}``, one per wrong field."""
    found = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        location = loc[0] if loc and loc[0] in LOCATIONS else "body"
        rest = loc[1:] if loc and loc[0] in LOCATIONS else loc
        # ninja names the whole body after the view's argument ("payload"): drop it.
        if location == "body" and rest and rest[0] == "payload":
            rest = rest[1:]
        found.append(
            {
                "field": ".".join(rest) or location,
                "location": location,
                "message": str(error.get("msg", "invalid")),
            }
        )
    return found


def install(api: NinjaAPI) -> None:
    """Register the handlers on ``api``."""

    def answer(request: HttpRequest, status: int, detail: str, **extra: Any) -> HttpResponse:
        return api.create_response(request, {"detail": detail, **extra}, status=status)

    @api.exception_handler(NinjaValidationError)
    def invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = field_errors(list(exc.errors))
        names = ", ".join(sorted({e["field"] for e in errors}))
        return answer(request, 422, f"invalid input: {names}", errors=errors)

    @api.exception_handler(JourneyError)
    def refused(request: HttpRequest, exc: JourneyError) -> HttpResponse:
        extra: dict[str, Any] = {
            "rule": exc.rule,
            "source": exc.source,
            "kind": str(exc.kind),
            "step": exc.state,
            "attempted": exc.attempted,
            "rule_id": exc.rule_id,
            # The dates and numbers the rule knows, and the same words the pages show.
            "params": dict(exc.params),
            "words": refusal_text(exc),
        }
        if isinstance(exc, IdentityMismatch):
            extra["scans"] = list(exc.which)
        return answer(request, 422, str(exc), **extra)

    @api.exception_handler(DomainError)
    def domain(request: HttpRequest, exc: DomainError) -> HttpResponse:
        extra: dict[str, Any] = {}
        if isinstance(exc, IdentityMismatch):
            extra["scans"] = list(exc.which)
        return answer(request, 422, str(exc), **extra)

    @api.exception_handler(DjangoValidationError)
    def model_invalid(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        if hasattr(exc, "error_dict"):
            errors = [
                {"field": field, "location": "body", "message": " ".join(messages)}
                for field, messages in exc.message_dict.items()
            ]
        else:
            errors = [{"field": "body", "location": "body", "message": m} for m in exc.messages]
        names = ", ".join(e["field"] for e in errors)
        return answer(request, 422, f"invalid input: {names}", errors=errors)

    @api.exception_handler(Conflict)
    def conflict(request: HttpRequest, exc: Conflict) -> HttpResponse:
        return answer(request, 409, str(exc))

    @api.exception_handler(SignatureRefused)
    def not_signed(request: HttpRequest, exc: SignatureRefused) -> HttpResponse:
        return answer(request, 403, str(exc))

    @api.exception_handler(Forbidden)
    def forbidden(request: HttpRequest, exc: Forbidden) -> HttpResponse:
        return answer(request, 403, str(exc))

    @api.exception_handler(NotFound)
    def not_found(request: HttpRequest, exc: NotFound) -> HttpResponse:
        return answer(request, 404, str(exc))

    @api.exception_handler(Http404)
    def http404(request: HttpRequest, exc: Http404) -> HttpResponse:
        return answer(request, 404, "not found")

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = answer(
            request,
            401,
            "sign in (session) or send Authorization: Bearer <token>",
        )
        response["WWW-Authenticate"] = 'Bearer realm="cartflow"'
        return response

    @api.exception_handler(DatabaseError)
    def unavailable(request: HttpRequest, exc: DatabaseError) -> HttpResponse:
        # A full disk, a read-only or unreachable database: the client's input may be right,
        # and the transaction rolled back, so say so instead of an HTML "Server Error".
        logger.error(
            "database error on %s %s: %s", request.method, request.path, type(exc).__name__
        )
        response = answer(
            request,
            503,
            "the record cannot be written or read now (the database refused): nothing was "
            "recorded; try again later",
        )
        response["Retry-After"] = "30"
        return response

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return answer(request, exc.status_code, str(exc))
