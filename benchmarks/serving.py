"""What the server benchmarks share: a seeded database, `cartflow serve` started and killed,
HTTP clients that keep their connection, and PostgreSQL's connection count.

Nothing here is measured; ``serve_load.py`` and ``serve_kill9.py`` are the benchmarks.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CARTFLOW = [sys.executable, "-m", "cartflow.cli"]
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"
BENCH_DATABASE = "cartflow_bench_trust"
HOST = "127.0.0.1"


def server_url() -> str:
    return os.environ.get("DATABASE_URL", DEFAULT_POSTGRES)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass
class Site:
    """A seeded database (the demo network) and how to reach it."""

    vendor: str
    env: dict[str, str]
    token: str = ""
    session: str = ""
    cois: list[str] = field(default_factory=list)
    database: str = ""

    def run(self, *args: str) -> str:
        done = subprocess.run(
            [*CARTFLOW, *args], env=self.env, capture_output=True, text=True, cwd=ROOT
        )
        if done.returncode:
            raise SystemExit(f"cartflow {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout


def _postgres(statement: str, database: str = "postgres") -> list[tuple[Any, ...]]:
    import psycopg

    url = server_url().rsplit("/", 1)[0] + "/" + database
    with psycopg.connect(url, autocommit=True) as connection:
        cursor = connection.execute(statement)
        return list(cursor.fetchall()) if cursor.description else []


def prepare(vendor: str) -> Site:
    """A fresh database with the demo network, a courier's API token, migrated."""
    env = {**os.environ, "CARTFLOW_DATA": tempfile.mkdtemp(prefix="cartflow-serve-bench-")}
    env.pop("CARTFLOW_TESTING", None)
    site = Site(vendor, env)
    if vendor == "sqlite":
        env.pop("DATABASE_URL", None)
    else:
        _postgres(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
        _postgres(f'CREATE DATABASE "{BENCH_DATABASE}"')
        env["DATABASE_URL"] = server_url().rsplit("/", 1)[0] + "/" + BENCH_DATABASE
        site.database = BENCH_DATABASE
    site.run("demo", "--no-serve")
    site.token = json.loads(site.run("token", "issue", "courier", "--name", "bench", "--json"))[
        "token"
    ]
    return site


SNAPSHOT_SUFFIX = "_snapshot"


def _sqlite_files(site: Site) -> list[Path]:
    database = Path(site.env["CARTFLOW_DATA"]) / "cartflow.sqlite3"
    return [database, *(database.with_name(database.name + s) for s in ("-wal", "-shm"))]


def snapshot(site: Site) -> None:
    """Keep the database as it is now (the server stopped), for :func:`restore`."""
    if site.database:
        copy = site.database + SNAPSHOT_SUFFIX
        _postgres(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
        _postgres(f'CREATE DATABASE "{copy}" TEMPLATE "{site.database}"')
        return
    for path in _sqlite_files(site):
        if path.exists():
            shutil.copyfile(path, path.with_name(path.name + SNAPSHOT_SUFFIX))


def restore(site: Site) -> None:
    """The database back as :func:`snapshot` kept it (the server stopped)."""
    if site.database:
        copy = site.database + SNAPSHOT_SUFFIX
        _postgres(f'DROP DATABASE IF EXISTS "{site.database}" WITH (FORCE)')
        _postgres(f'CREATE DATABASE "{site.database}" TEMPLATE "{copy}"')
        return
    for path in _sqlite_files(site):
        kept = path.with_name(path.name + SNAPSHOT_SUFFIX)
        if kept.exists():
            shutil.copyfile(kept, path)
        else:
            path.unlink(missing_ok=True)


def drop(site: Site) -> None:
    if site.database:
        for name in (site.database, site.database + SNAPSHOT_SUFFIX):
            _postgres(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Server:
    """`cartflow serve` in its own process group, so that kill -9 reaches every worker."""

    def __init__(self, site: Site, workers: int, threads: int) -> None:
        self.site, self.workers, self.threads = site, workers, threads
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = Path(site.env["CARTFLOW_DATA"]) / "serve.log"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    *CARTFLOW,
                    "serve",
                    "--port",
                    str(self.port),
                    "--workers",
                    str(self.workers),
                    "--threads",
                    str(self.threads),
                ],
                env=self.site.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                status, _ = Client(self.port).get("/login/")
                if status == 200:
                    return
            except OSError:
                pass
            if self.process.poll() is not None:
                raise SystemExit(f"cartflow serve stopped: see {self.log}")
            time.sleep(0.2)
        raise SystemExit(f"cartflow serve did not answer in 120 s: see {self.log}")

    def kill9(self) -> None:
        """SIGKILL to the master and every worker at once: nothing is flushed or finished."""
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill9()

    def cpu_seconds(self) -> float:
        """User and system CPU of the server's processes (master and workers) so far."""
        assert self.process is not None
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # a process that ended while the folder was read
            # after the name: state, ppid, pgrp, ..., utime (12th), stime (13th)
            if int(fields[2]) == self.process.pid:
                total += int(fields[11]) + int(fields[12])
        return total / tick

    @property
    def bound(self) -> int:
        """The most PostgreSQL connections the server may hold: one pool per worker."""
        return self.workers * self.threads


class Client:
    """One client with one kept-alive connection (opened again after an error)."""

    def __init__(self, port: int, token: str = "", session: str = "", timeout: float = 60):
        self.port, self.token, self.session, self.timeout = port, token, session, timeout
        self.connection: http.client.HTTPConnection | None = None

    def _request(self, method: str, path: str, body: bytes | None, headers: dict[str, str]):
        reused = self.connection is not None
        try:
            return self._send(method, path, body, headers)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # A kept-alive connection the server closed while it sat idle (past gunicorn's
            # keep-alive): sent again once on a fresh connection, as HTTP clients do. An
            # append carries its Idempotency-Key, so one the server did receive is answered
            # again, never recorded twice.
            if not reused:
                raise
            return self._send(method, path, body, headers)

    def _send(self, method: str, path: str, body: bytes | None, headers: dict[str, str]):
        if self.connection is None:
            self.connection = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
        all_headers = dict(headers)
        if self.token:
            all_headers["Authorization"] = f"Bearer {self.token}"
        if self.session:
            all_headers["Cookie"] = self.session
        try:
            self.connection.request(method, path, body=body, headers=all_headers)
            response = self.connection.getresponse()
            data = response.read()
        except OSError:
            self.close()
            raise
        except http.client.HTTPException as exc:
            # An answer cut off mid-body (a server killed while it wrote): to a client, a
            # connection error like any other, so the same request is sent again.
            self.close()
            raise ConnectionError(f"{type(exc).__name__}: {exc}") from exc
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        return response.status, data, response

    def get(self, path: str) -> tuple[int, bytes]:
        status, data, _ = self._request("GET", path, None, {})
        return status, data

    def post_json(self, path: str, payload: Any, key: str = "") -> tuple[int, bytes]:
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Idempotency-Key"] = key
        status, data, _ = self._request("POST", path, json.dumps(payload).encode(), headers)
        return status, data

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def login(port: int, username: str) -> str:
    """A signed-in session's cookie header (the demo's passwords are ``demo-`` + name)."""
    client = Client(port)
    status, data, response = client._request("GET", "/login/", None, {})
    cookies = {}
    for name, value in response.getheaders():
        if name.lower() == "set-cookie":
            pair = value.split(";", 1)[0]
            cookies[pair.split("=", 1)[0]] = pair.split("=", 1)[1]
    csrf = cookies["csrftoken"]
    form = f"csrfmiddlewaretoken={csrf}&username={username}&password=demo-{username}".encode()
    status, data, response = client._request(
        "POST",
        "/login/",
        form,
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={csrf}",
            "Referer": f"http://{HOST}:{port}/login/",
        },
    )
    for name, value in response.getheaders():
        if name.lower() == "set-cookie":
            pair = value.split(";", 1)[0]
            cookies[pair.split("=", 1)[0]] = pair.split("=", 1)[1]
    if status != 302 or "sessionid" not in cookies:
        raise SystemExit(f"could not sign in as {username}: {status} {data[:200]!r}")
    client.close()
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


TEMPERATURE = "/api/cases/{coi}/custody/temperatures"


def writable_cases(site: Site, port: int, want: int = 8) -> list[str]:
    """Cases on which the courier's token may record a shipper temperature."""
    client = Client(port, token=site.token)
    status, data = client.get("/api/cases")
    if status != 200:
        raise SystemExit(f"GET /api/cases: {status} {data[:200]!r}")
    found = []
    for case in json.loads(data):
        status, _ = client.post_json(
            TEMPERATURE.format(coi=case["coi"]),
            {"celsius": -150, "location": "bench probe"},
            key=f"probe-{uuid.uuid4()}",
        )
        if status == 201:
            found.append(case["coi"])
        if len(found) >= want:
            break
    client.close()
    if not found:
        raise SystemExit("no case takes a temperature from the courier's token")
    return found


def postgres_connections(database: str) -> int:
    """Connections to ``database`` now (pg_stat_activity), this probe's own not counted."""
    rows = _postgres(
        f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{database}' "
        "AND pid <> pg_backend_pid()"
    )
    return int(rows[0][0])
