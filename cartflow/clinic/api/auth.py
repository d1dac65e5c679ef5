"""Who is asking, and may they: token authentication for systems, sessions for people.

Every route names the action it performs (``access(Action.RECORD_COLLECTION)``). The check
runs as part of authentication, before the request body is read, so a user who may not see
the case gets 404 and one who may not act on it gets 403 whatever they sent; only a user who
may act is told what was wrong with the input (422).

- ``Authorization: Bearer cft_...``: a system's token (``services.tokens``), stored hashed.
- Django's session cookie: a person signed in through the login page; unsafe methods then
  need the CSRF token (``X-CSRFToken``), as a form would.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from cartflow.clinic import access
from cartflow.clinic.models import Patient, Site, TherapyCase
from cartflow.clinic.services.context import RequestMeta
from cartflow.clinic.services.errors import NotFound
from cartflow.clinic.services.tokens import user_for_token
from cartflow.domain.roles import Action

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class Scope(StrEnum):
    """What a route acts on, found in its path: a case, a patient, a site, or none."""

    CASE = "coi"
    PATIENT = "patient_id"
    SITE = "site"
    NETWORK = "network"


def _path_kwargs(request: HttpRequest) -> dict[str, Any]:
    match = getattr(request, "resolver_match", None)
    return dict(match.kwargs) if match is not None else {}


def admit(request: HttpRequest, user: Any, action: Action, scope: Scope) -> Any:
    """Check that ``user`` may ``action`` on what the path names; remember what was found.

    Raises NotFound (404) for what the user may not see, Forbidden (403) for what they see
    but may not do.
    """
    kwargs = _path_kwargs(request)
    if scope is Scope.CASE:
        request.cartflow_case = access.get_case_for_user(  # type: ignore[attr-defined]
            user, str(kwargs.get("coi", "")), action
        )
    elif scope is Scope.PATIENT:
        try:
            public_id = uuid.UUID(str(kwargs.get("patient_id", "")))
        except ValueError:
            raise NotFound("no such patient: a patient id is a UUID") from None
        request.cartflow_patient = access.get_patient_for_user(  # type: ignore[attr-defined]
            user, public_id, action
        )
    elif scope is Scope.SITE:
        slug = str(kwargs.get("site", ""))
        site = Site.objects.filter(slug=slug).first()
        if site is None:
            raise NotFound(f"no site {slug[:64]}")
        if site.pk not in access.sites_where(user, action):
            raise access.Forbidden(f"you hold no role at {site.slug} that may {action}")
        request.cartflow_site = site  # type: ignore[attr-defined]
    elif not access.can_anywhere(user, action):
        raise access.Forbidden(f"you hold no role that may {action}")
    return user


class TokenAccess(HttpBearer):
    """A system's token: ``Authorization: Bearer <token>``."""

    def __init__(self, action: Action, scope: Scope) -> None:
        self.action = action
        self.scope = scope
        super().__init__()

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = user_for_token(token.strip())
        if user is None:
            return None
        return admit(request, user, self.action, self.scope)


class SessionAccess(APIKeyCookie):
    """A person's session (the login page), with Django's CSRF check on unsafe methods."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self, action: Action, scope: Scope) -> None:
        self.action = action
        self.scope = scope
        super().__init__(csrf=False)

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        if (
            request.method not in SAFE_METHODS
            and not getattr(request, "_ninja_csrf_exempt", False)
            and check_csrf(request) is not None
        ):
            raise access.Forbidden(
                "CSRF check failed: send the csrftoken cookie's value in the X-CSRFToken header"
            )
        return admit(request, user, self.action, self.scope)


def access_to(action: Action, scope: Scope = Scope.CASE) -> list[Any]:
    """The ``auth=`` of a route that performs ``action`` on ``scope``."""
    return [TokenAccess(action, scope), SessionAccess(action, scope)]


def acting_user(request: HttpRequest) -> Any:
    return request.auth  # type: ignore[attr-defined]


def case_of(request: HttpRequest) -> TherapyCase:
    case: TherapyCase = request.cartflow_case  # type: ignore[attr-defined]
    return case


def patient_of(request: HttpRequest) -> Patient:
    patient: Patient = request.cartflow_patient  # type: ignore[attr-defined]
    return patient


def site_of(request: HttpRequest) -> Site:
    site: Site = request.cartflow_site  # type: ignore[attr-defined]
    return site


def meta(request: HttpRequest) -> RequestMeta:
    return RequestMeta.from_request(request)
