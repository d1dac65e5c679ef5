"""Passwords that cannot be guessed for free, at the login page and at each signature.

django-axes counts failures per user name and address together and locks that pair out for
a configured time (``CARTFLOW_LOCKOUT_MINUTES``) once ``CARTFLOW_LOGIN_FAILURES`` failures
are exceeded: so a stolen API token is no password oracle, and the 11th wrong password locks.
Per user name alone there is only a growing delay, never a lockout: whoever guesses the
on-call physician's user name from another address cannot lock them out of the bedside.
Every login, failure and lockout is written to the chained audit trail (never the password).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models import Sum
from django.dispatch import receiver
from django.http import HttpRequest

from cartflow.clinic.services.context import RequestMeta, current_request

sleep: Callable[[float], None] = time.sleep
"""Replaced in tests, which assert the delay asked for rather than wait it."""


# django-axes ships no type information, so its backend is read as Any.
class ThrottledBackend(AxesStandaloneBackend):  # type: ignore[misc]
    """Axes' check; a call with no request at all (the CLI) is left to the next backend.

    The services never call without one: :func:`request_for` stands one in.
    """

    def authenticate(
        self, request: Any, username: str | None = None, password: str | None = None, **kw: Any
    ) -> Any:
        if request is None:
            return None
        return super().authenticate(request, username, password, **kw)


def request_for(request: Any) -> HttpRequest:
    """The request a password check is counted against: the caller's, the API's, or a stand-in
    for the command line (counted under no address)."""
    if request is not None:
        return request  # type: ignore[no-any-return]
    found = current_request.get()
    if found is not None:
        return found
    stand_in = HttpRequest()
    stand_in.META["REMOTE_ADDR"] = "127.0.0.1"
    return stand_in


def locked_out(request: Any) -> bool:
    return bool(getattr(request, "axes_locked_out", False))


def lockout_message(what: str) -> str:
    minutes = settings.CARTFLOW_LOCKOUT_MINUTES
    return (
        f"too many wrong passwords for this user from this address: {what} is locked for "
        f"{minutes} minutes, even with the right password; an administrator can unlock it"
    )


def failures_for_user(username: str) -> int:
    """Recent failures for ``username`` from every address (axes' own counts)."""
    from axes.models import AccessAttempt

    total = AccessAttempt.objects.filter(username=username).aggregate(n=Sum("failures_since_start"))
    return int(total["n"] or 0)


def delay_for(failures: int) -> float:
    """Seconds to hold a failed attempt: none for the first few, then doubling, capped."""
    free = settings.CARTFLOW_DELAY_FREE_FAILURES
    if failures <= free:
        return 0.0
    return float(min(settings.CARTFLOW_DELAY_CAP_S, 0.25 * 2 ** (failures - free - 1)))


def _audit(operation: str, request: Any, summary: dict[str, Any], user: User | None = None) -> None:
    from cartflow.clinic.services.records import write_audit

    write_audit(
        operation,
        acting_user=user,
        request_meta=RequestMeta.from_request(request) if request is not None else RequestMeta(),
        summary=summary,
    )


@receiver(user_logged_in)
def audit_login(sender: Any, request: Any, user: User, **kwargs: Any) -> None:
    _audit("login", request, {"user": user.get_username()}, user)


@receiver(user_login_failed)
def audit_failure_and_delay(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    username = str(credentials.get("username", ""))[:150]
    _audit(
        "authentication_failed",
        request,
        {"user": username, "path": str(getattr(request, "path", ""))[:200]},
    )
    seconds = delay_for(failures_for_user(username)) if username else 0.0
    if seconds:
        sleep(seconds)


@receiver(user_locked_out)
def audit_lockout(sender: Any, request: Any, username: str, ip_address: str, **kw: Any) -> None:
    _audit(
        "authentication_locked_out",
        request,
        {"user": str(username or "")[:150], "minutes": settings.CARTFLOW_LOCKOUT_MINUTES},
    )


def unlock(
    username: str,
    *,
    address: str | None = None,
    acting_user: User | None,
    request_meta: RequestMeta | None = None,
) -> int:
    """Clear a user's failed attempts (at one address, or all); audited. The number cleared."""
    from axes.utils import reset

    from cartflow.clinic.services.records import write_audit

    cleared = int(reset(ip=address, username=username) if address else reset(username=username))
    write_audit(
        "unlock_user",
        acting_user=acting_user,
        request_meta=request_meta or RequestMeta(),
        summary={"user": username[:150], "address": address or "", "cleared": cleared},
    )
    return cleared
