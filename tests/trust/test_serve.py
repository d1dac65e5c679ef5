"""`cartflow serve` runs a production server: gunicorn, static files, a bounded pool."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from cartflow.cli.serve import server_size
from tests.clinic.conftest import DB

RUN = [sys.executable, "-m", "cartflow.cli"]


def _env(data: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "CARTFLOW_DATA": str(data), "CARTFLOW_TESTING": "1", **extra}
    env.pop("DATABASE_URL", None)
    return {**env, **extra}


def test_the_server_is_sized_to_the_machine() -> None:
    workers, threads = server_size(None, None)
    assert 1 <= workers <= 8 and threads == 4
    assert server_size(3, 2) == (3, 2)


def test_on_postgresql_each_worker_pools_at_most_its_threads(tmp_path: Path) -> None:
    show = (
        "from django.conf import settings as s; import django; django.setup(); "
        "d = s.DATABASES['default']; print(d['OPTIONS']['pool']['max_size'], d['CONN_MAX_AGE'])"
    )
    done = subprocess.run(
        [sys.executable, "-c", show],
        env=_env(
            tmp_path,
            DATABASE_URL="postgres://nobody@127.0.0.1:1/none",
            CARTFLOW_DB_POOL_SIZE="4",
            DJANGO_SETTINGS_MODULE="cartflow.settings",
        ),
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == ["4", "0"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.skipif(DB != "sqlite", reason="the server's own start, once")
def test_serve_answers_pages_and_static_files(tmp_path: Path) -> None:
    env = _env(tmp_path)
    subprocess.run([*RUN, "manage", "migrate", "-v", "0"], env=env, check=True)
    port = _free_port()
    server = subprocess.Popen(
        [*RUN, "serve", "--port", str(port), "--workers", "1", "--threads", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        login = _get_when_up(f"http://127.0.0.1:{port}/login/")
        assert "csrfmiddlewaretoken" in login
        assert "{" in _get_when_up(f"http://127.0.0.1:{port}/static/clinic/cartflow.css")
        assert server.stdout is not None
        assert "1 workers x 2 threads" in server.stdout.readline()
    finally:
        server.terminate()
        server.wait(timeout=60)


def _get_when_up(url: str) -> str:
    for _ in range(600):  # up to a minute on a loaded machine; no time is asserted
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:
                return str(answer.read().decode())
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


@pytest.mark.skipif(DB != "postgres", reason="the pool is PostgreSQL's")
def test_the_master_holds_no_connection_or_pool_when_the_workers_fork(tmp_path: Path) -> None:
    # A pool opened by the master before gunicorn forks is shared by every worker: one socket
    # for all, and a request then reads another's rows (the load benchmark found it: 500s
    # and another user's roles). The checks before serving must leave nothing open.
    show = (
        "import django; django.setup()\n"
        "from django.db import connection\n"
        "from django.db.backends.postgresql.base import DatabaseWrapper\n"
        "from cartflow.cli.common import CliError\n"
        "from cartflow.cli.serve import check_database\n"
        "try:\n"
        "    check_database()\n"
        "except CliError:\n"
        "    pass  # this database is not migrated: the pool must be closed all the same\n"
        "print(len(DatabaseWrapper._connection_pools), connection.connection is None)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", show],
        env=_env(
            tmp_path,
            DATABASE_URL=os.environ["DATABASE_URL"],
            CARTFLOW_DB_POOL_SIZE="2",
            DJANGO_SETTINGS_MODULE="cartflow.settings",
        ),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "True"]
