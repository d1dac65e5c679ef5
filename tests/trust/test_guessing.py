"""Guessing passwords is not free: the 11th wrong one locks the user at that address.

At the login page and at each signature alike (a stolen API token is no password oracle);
from another address the user still signs in, with only a growing delay per user name. Every
login, failure and lockout is in the audit trail. Sessions idle out, tokens expire.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from cartflow.clinic.models import ApiToken, AuditRow
from cartflow.clinic.services import authentication
from cartflow.clinic.services.errors import SignatureRefused
from cartflow.clinic.services.signatures import reauthenticate
from cartflow.clinic.services.tokens import issue_token, user_for_token
from cartflow.clinic.services.verification import verify_everything
from tests.clinic.fixtures import PASSWORD

pytestmark = pytest.mark.django_db

FAILURES = settings.CARTFLOW_LOGIN_FAILURES


def _login(client: Client, username: str, password: str) -> Any:
    return client.post("/login/", {"username": username, "password": password})


def test_ten_wrong_passwords_at_login_still_let_the_right_one_in(physician: Any) -> None:
    client = Client()
    for _ in range(FAILURES):
        assert _login(client, "dr-phoebe", "wrong").status_code == 200
    assert _login(client, "dr-phoebe", PASSWORD).status_code == 302


def test_the_eleventh_wrong_password_at_login_locks_even_the_right_one(physician: Any) -> None:
    client = Client()
    for _ in range(FAILURES + 1):
        _login(client, "dr-phoebe", "wrong")
    refused = _login(client, "dr-phoebe", PASSWORD)
    assert refused.status_code == 429
    assert "locked" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    # From another address the same user signs in: nobody locks a physician out by name.
    elsewhere = Client(REMOTE_ADDR="10.1.2.3")
    assert _login(elsewhere, "dr-phoebe", PASSWORD).status_code == 302
    operations = list(AuditRow.objects.values_list("operation", flat=True))
    # The eleven wrong passwords and the right one refused while locked.
    assert operations.count("authentication_failed") == FAILURES + 2
    assert "authentication_locked_out" in operations
    assert operations.count("login") == 1
    assert verify_everything().ok  # the audit rows are chained like the rest


def test_the_eleventh_wrong_signing_password_locks_signing(physician: Any, rf: Any) -> None:
    request = rf.post("/api/x", REMOTE_ADDR="10.9.8.7")
    for _ in range(FAILURES + 1):
        with pytest.raises(SignatureRefused):
            reauthenticate(physician, "wrong", request)
    with pytest.raises(SignatureRefused, match=r"locked for .* even with the right password"):
        reauthenticate(physician, PASSWORD, rf.post("/api/x", REMOTE_ADDR="10.9.8.7"))
    assert reauthenticate(physician, PASSWORD, rf.post("/api/x", REMOTE_ADDR="10.0.0.1"))


def test_an_administrator_unlocks_and_that_is_audited(physician: Any, rf: Any) -> None:
    from cartflow.cli import main

    for _ in range(FAILURES + 1):
        with pytest.raises(SignatureRefused):
            reauthenticate(physician, "wrong", rf.post("/api/x"))
    assert main(["unlock", "dr-phoebe"]) == 0
    assert reauthenticate(physician, PASSWORD, rf.post("/api/x")) == "password"
    row = AuditRow.objects.get(operation="unlock_user")
    assert row.summary["user"] == "dr-phoebe" and row.summary["cleared"] == 1


def test_ten_wrong_signing_passwords_still_let_the_right_one_sign(physician: Any, rf: Any) -> None:
    for _ in range(FAILURES):
        with pytest.raises(SignatureRefused, match="not correct"):
            reauthenticate(physician, "wrong", rf.post("/api/x"))
    assert reauthenticate(physician, PASSWORD, rf.post("/api/x")) == "password"


def test_per_user_name_alone_failures_only_grow_a_delay(
    physician: Any, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.CARTFLOW_DELAY_CAP_S = 4.0
    asked: list[float] = []
    monkeypatch.setattr(authentication, "sleep", asked.append)
    for n in range(8):
        _login(Client(REMOTE_ADDR=f"10.0.0.{n + 1}"), "dr-phoebe", "wrong")
    assert asked == [0.25, 0.5, 1.0, 2.0, 4.0]
    assert _login(Client(REMOTE_ADDR="10.0.1.1"), "dr-phoebe", PASSWORD).status_code == 302


def test_a_token_expires(physician: Any, admin_user: Any) -> None:
    row, token = issue_token(physician, "lab", acting_user=admin_user, days=1)
    assert user_for_token(token) == physician
    ApiToken.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert user_for_token(token) is None


def test_a_session_ends_after_its_idle_time_and_a_request_renews_it(
    physician: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.contrib.sessions.models import Session

    from cartflow import session_idle

    assert settings.SESSION_COOKIE_AGE == 30 * 60
    now = [1_000_000.0]
    monkeypatch.setattr(session_idle, "clock", lambda: now[0])
    client = Client()
    client.force_login(physician)
    client.get("/")
    key = client.session.session_key

    def expiry() -> Any:
        return Session.objects.get(session_key=key).expire_date

    first = expiry()
    now[0] += 30  # within the minute: no write
    client.get("/")
    assert expiry() == first
    now[0] += 31
    client.get("/")
    assert expiry() > first  # renewed: the idle time starts again
