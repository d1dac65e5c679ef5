"""SQLite writers queue for the write lock (``cartflow.db.sqlite``) instead of polling for it.

With a busy timeout far shorter than the writer ahead of it, a second writer on Django's own
backend fails with "database is locked"; on cartflow's it waits its turn in the kernel's
queue and writes the moment the first is done.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from django.db import OperationalError
from django.db.utils import ConnectionHandler

HOLD_S = 0.4
BUSY_TIMEOUT_S = 0.05


def _connections(path: Path, engine: str) -> Any:
    config = {
        "ENGINE": engine,
        "NAME": str(path),
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": BUSY_TIMEOUT_S},
        "TIME_ZONE": None,
    }
    return ConnectionHandler({alias: dict(config) for alias in ("default", "first", "second")})


def _race(path: Path, engine: str) -> dict[str, Any]:
    """The first writer holds a transaction for HOLD_S; the second starts meanwhile."""
    handler = _connections(path, engine)
    second = handler["second"]  # Django's connections belong to the thread that opens them
    with second.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("CREATE TABLE IF NOT EXISTS t (who TEXT, at REAL)")
    holding = threading.Event()
    seen: dict[str, Any] = {}

    def hold() -> None:
        first = handler["first"]
        first.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
        with first.cursor() as cursor:
            cursor.execute("INSERT INTO t VALUES ('first', ?)", [time.monotonic()])
        holding.set()
        time.sleep(HOLD_S)
        seen["first_done"] = time.monotonic()
        first.commit()
        first.set_autocommit(True)
        first.close()

    thread = threading.Thread(target=hold)
    thread.start()
    holding.wait(10)
    try:
        second.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
        with second.cursor() as cursor:
            cursor.execute("INSERT INTO t VALUES ('second', ?)", [time.monotonic()])
        seen["second_began"] = time.monotonic()
        second.commit()
        second.set_autocommit(True)
    except OperationalError as exc:
        seen["error"] = str(exc)
    finally:
        thread.join(10)
        second.close()
    return seen


def test_django_s_own_backend_gives_up_while_cartflow_s_waits_its_turn(
    tmp_path: Path, django_db_blocker: Any
) -> None:
    # Databases of the test's own, not the test database; each race in a thread of its own,
    # where no event loop runs (a browser test earlier in the session leaves one in this one).
    with django_db_blocker.unblock(), ThreadPoolExecutor(max_workers=1) as pool:
        plain = pool.submit(_race, tmp_path / "plain.sqlite3", "django.db.backends.sqlite3")
        queued = pool.submit(_race, tmp_path / "queued.sqlite3", "cartflow.db.sqlite")
        plain, queued = plain.result(timeout=60), queued.result(timeout=60)
    assert "locked" in plain.get("error", "")

    assert "error" not in queued, queued
    # it wrote only once the first writer's transaction had ended
    assert queued["second_began"] >= queued["first_done"]
    assert (tmp_path / "queued.sqlite3.write-lock").exists()
