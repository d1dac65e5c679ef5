"""The clinic's tests run on SQLite, and a second time on PostgreSQL.

``CARTFLOW_TEST_DB=postgres`` selects PostgreSQL: ``DATABASE_URL`` when given, else a
throwaway server started here (``throwaway_postgres``). Such a run fails when it collected no
test at all, so a PostgreSQL pass can never be skipped silently. The tests never touch the
real data folder: ``CARTFLOW_DATA`` points at a temporary one.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest

DB = os.environ.get("CARTFLOW_TEST_DB", "sqlite").strip().lower() or "sqlite"
if DB not in {"sqlite", "postgres"}:
    raise pytest.UsageError(f"CARTFLOW_TEST_DB must be sqlite or postgres, got {DB!r}")

os.environ["CARTFLOW_TESTING"] = "1"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cartflow.settings")
os.environ["CARTFLOW_DATA"] = _DATA = tempfile.mkdtemp(prefix="cartflow-test-data-")
atexit.register(shutil.rmtree, _DATA, ignore_errors=True)
if DB == "sqlite":
    os.environ.pop("DATABASE_URL", None)
elif not os.environ.get("DATABASE_URL"):
    from tests.clinic import throwaway_postgres

    if not throwaway_postgres.available():
        raise pytest.UsageError(
            "CARTFLOW_TEST_DB=postgres needs DATABASE_URL or the PostgreSQL server binaries"
        )
    os.environ["DATABASE_URL"] = throwaway_postgres.start().url

import django  # noqa: E402
from django.apps import apps  # noqa: E402

if not apps.ready:
    django.setup()

from tests.clinic.fixtures import *  # noqa: E402, F403


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if DB == "postgres":
        for item in items:
            if "tests/clinic" in str(item.path).replace(os.sep, "/"):
                item.add_marker(pytest.mark.postgres)


def pytest_collection_finish(session: pytest.Session) -> None:
    if DB == "postgres":
        ran = [i for i in session.items if "tests/clinic" in str(i.path).replace(os.sep, "/")]
        if not ran:
            raise pytest.UsageError(
                "the PostgreSQL run collected zero clinic tests: refusing to pass silently"
            )


def pytest_report_header(config: pytest.Config) -> str:
    from django.db import connection

    return f"clinic database: {connection.vendor} ({DB})"


@pytest.fixture(autouse=True)
def _english_between_tests() -> Iterator[None]:
    """Each test starts in English, as a fresh process does: a page asked for in Chinese
    leaves its language active in the thread (Django's locale middleware sets it per request
    and never resets it), and a service called after it would answer in Chinese."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.activate("en")
