"""Where a write comes from: the request's identifier, address and user agent."""

from __future__ import annotations

import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    # Only for the annotation: the command line imports this module before Django is set up,
    # and the auth models cannot be imported until it is.
    from django.contrib.auth.models import AnonymousUser, User
    from django.http import HttpRequest


Actor: TypeAlias = "User | AnonymousUser | None"
"""Who a write is recorded for: a signed-in user, or no one (the command line, the seed)."""


@dataclass(frozen=True)
class RequestMeta:
    """The origin of a write, recorded on its audit row. ``cli`` and tests use the defaults."""

    request_id: str = ""
    ip: str = ""
    user_agent: str = ""

    @classmethod
    def from_request(cls, request: Any) -> RequestMeta:
        """From a Django ``HttpRequest`` (the API and the pages pass theirs)."""
        meta = getattr(request, "META", {}) or {}
        request_id = meta.get("HTTP_X_REQUEST_ID") or getattr(request, "request_id", "")
        return cls(
            request_id=str(request_id or uuid.uuid4())[:64],
            ip=str(meta.get("REMOTE_ADDR", ""))[:64],
            user_agent=str(meta.get("HTTP_USER_AGENT", ""))[:300],
        )

    @classmethod
    def command_line(cls) -> RequestMeta:
        return cls(request_id=f"cli-{uuid.uuid4()}", ip="", user_agent="cartflow-cli")


NO_REQUEST = RequestMeta()

current_request: ContextVar[HttpRequest | None] = ContextVar("current_request", default=None)
"""The HTTP request a service runs for, where its caller could not pass it down (the API's
``record``): a password check is counted against its address."""
