"""What every page sends: a Content-Security-Policy; the API's map only for signed-in people;
a refusal logged as one line."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.test import Client

from cartflow.log_filters import OneLineRefusals

pytestmark = pytest.mark.django_db


def test_pages_send_a_content_security_policy_without_inline_scripts() -> None:
    policy = Client().get("/login/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy.split("script-src", 1)[1].split(";", 1)[0]


@pytest.mark.parametrize("path", ["/api/docs", "/api/openapi.json"])
def test_the_api_docs_and_schema_are_for_signed_in_people(path: str, physician: Any) -> None:
    assert Client().get(path).status_code == 302
    signed_in = Client()
    signed_in.force_login(physician)
    assert signed_in.get(path).status_code == 200


def test_a_refusal_is_logged_without_its_traceback() -> None:
    try:
        raise PermissionError("refused")
    except PermissionError:
        import sys

        record = logging.LogRecord(
            "django.request",
            logging.WARNING,
            __file__,
            1,
            "Forbidden: %s",
            ("/x",),
            sys.exc_info(),
        )
    record.status_code = 403
    OneLineRefusals().filter(record)
    assert record.exc_info is None
    assert "\n" not in logging.Formatter().format(record)
