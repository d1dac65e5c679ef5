"""A system's API token is issued and revoked from the command line."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from cartflow.cli import main
from cartflow.clinic.models import AuditRow


@pytest.mark.django_db
def test_an_issued_token_authenticates_until_it_is_revoked(
    auditor: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["token", "issue", auditor.get_username(), "--name", "MES link", "--json"]) == 0
    issued = json.loads(capsys.readouterr().out)
    assert issued["token"].startswith("cft_") and issued["user"] == auditor.get_username()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {issued['token']}"}
    assert Client().get("/api/cases", **headers).status_code == 200
    assert AuditRow.objects.filter(operation="issue_token").count() == 1

    assert main(["token", "revoke", issued["prefix"]]) == 0
    assert Client().get("/api/cases", **headers).status_code == 401
    assert AuditRow.objects.filter(operation="revoke_token").count() == 1


@pytest.mark.django_db
def test_an_unknown_user_or_prefix_is_refused_with_exit_two(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["token", "issue", "nobody-here", "--name", "x"]) == 2
    assert "no active user 'nobody-here'" in capsys.readouterr().err
    assert main(["token", "revoke", "cft_nothing"]) == 2
    assert "no active token with the prefix" in capsys.readouterr().err
