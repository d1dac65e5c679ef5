"""A real database outside the test's transaction, for work done by several processes at once.

The test database that pytest-django hands out sits inside one open transaction (and on
SQLite in memory), which no second process can see. Races need what production has: an
on-disk SQLite file in WAL mode, or a PostgreSQL database, each process with its own
connection. Each process here is forked from the test process and points Django's default
connection at the live database before it touches it.
"""

from __future__ import annotations

import multiprocessing
import os
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.db import connections

FORK = multiprocessing.get_context("fork")
_ABANDONED: list[Any] = []


def use_live_database(name: str) -> None:
    """In a forked child: drop the parent's connections unclosed, point at ``name``."""
    for alias in list(connections.settings):
        # Closing a connection inherited from the parent would end the parent's session
        # (PostgreSQL) too; keep the objects alive and simply never use them.
        _ABANDONED.append(connections[alias])
        del connections[alias]
    connections.settings["default"]["NAME"] = name
    connections.settings["default"].setdefault("TEST", {})


def _child(name: str, function: Callable[..., Any], args: tuple[Any, ...], out: Any) -> None:
    try:
        use_live_database(name)
        out.put(("ok", function(*args)))
    except BaseException as exc:  # reported to the parent, which fails the test
        out.put(("error", f"{exc!r}\n{traceback.format_exc()}"))
    finally:
        for connection in connections.all(initialized_only=True):
            connection.close()


def run_in_child(name: str, function: Callable[..., Any], *args: Any) -> Any:
    """Run ``function(*args)`` in a forked process against the live database; its result."""
    connections.close_all()
    out = FORK.Queue()
    process = FORK.Process(target=_child, args=(name, function, args, out))
    process.start()
    status, value = out.get(timeout=300)
    process.join(timeout=60)
    if status != "ok":
        raise AssertionError(f"the child process failed: {value}")
    return value


def start_children(
    name: str, function: Callable[..., Any], argument_sets: list[tuple[Any, ...]]
) -> tuple[list[Any], Any]:
    """Start one process per argument set; the processes and the queue they report to."""
    connections.close_all()
    out = FORK.Queue()
    processes = [
        FORK.Process(target=_child, args=(name, function, args, out)) for args in argument_sets
    ]
    for process in processes:
        process.start()
    return processes, out


def _migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


class LiveDatabase:
    """A migrated database the test process never opens itself."""

    def __init__(self, directory: Path) -> None:
        config = settings.DATABASES["default"]
        self.vendor = "postgresql" if "postgresql" in config["ENGINE"] else "sqlite"
        if self.vendor == "sqlite":
            self.name = str(directory / "live.sqlite3")
        else:
            self.name = f"cartflow_live_{os.getpid()}"
            with self._server() as server:
                server.execute(f'DROP DATABASE IF EXISTS "{self.name}"')
                server.execute(f'CREATE DATABASE "{self.name}"')
        run_in_child(self.name, _migrate)

    def _server(self) -> psycopg.Connection[Any]:
        config = settings.DATABASES["default"]
        return psycopg.connect(
            host=config.get("HOST") or None,
            port=config.get("PORT") or None,
            user=config.get("USER") or None,
            password=config.get("PASSWORD") or None,
            dbname="postgres",
            autocommit=True,
        )

    def drop(self) -> None:
        if self.vendor == "postgresql":
            with self._server() as server:
                server.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
