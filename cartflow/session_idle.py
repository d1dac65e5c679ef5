"""Sessions that end after an idle time, without a database write on every request.

The session cookie's age is the idle timeout (``SESSION_COOKIE_AGE``); a request renews it
by marking the session modified, but at most once a minute: renewing on every request would
make each page view a write, which on SQLite waits for the one write lock the appends need.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

TOUCHED = "_cartflow_touched"
RENEW_AFTER_S = 60

clock: Callable[[], float] = time.time
"""Replaced in tests."""


class IdleSessionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session: Any = getattr(request, "session", None)
        if session is not None and session.session_key:
            now = clock()
            if now - float(session.get(TOUCHED, 0)) >= RENEW_AFTER_S:
                session[TOUCHED] = now  # marks it modified: saved, its expiry renewed
        return self.get_response(request)


@receiver(user_logged_in)
def touched_at_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    # Signing in starts the idle time; the first requests after it need not renew it.
    session = getattr(request, "session", None)
    if session is not None:
        session[TOUCHED] = clock()
