"""The trust suite runs like the clinic's tests: on SQLite, and again on PostgreSQL.

It shares the clinic's set-up (a temporary data folder, ``CARTFLOW_TEST_DB``, a throwaway
PostgreSQL server) and its personas, so the two suites can run in one pytest process.
"""

from __future__ import annotations

import os

import pytest

from tests.clinic.conftest import DB
from tests.clinic.fixtures import *  # noqa: F403


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if DB == "postgres":
        for item in items:
            if "tests/trust" in str(item.path).replace(os.sep, "/"):
                item.add_marker(pytest.mark.postgres)
