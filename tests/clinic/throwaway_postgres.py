"""A throwaway PostgreSQL server for the test run, as pytest-postgresql starts one.

Used when the suite runs on PostgreSQL without a ``DATABASE_URL``: ``initdb`` a cluster in a
temporary folder, start it on a free local port with trust authentication, and remove it at
exit. PostgreSQL refuses to run as root, so as root the server runs as an unprivileged user
(``nobody``, or ``CARTFLOW_PG_USER``).
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SEARCH_PATHS = ("/usr/local/bin", "/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin")


def find_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for pattern in SEARCH_PATHS:
        for candidate in sorted(glob.glob(os.path.join(pattern, name)), reverse=True):
            if os.access(candidate, os.X_OK):
                return candidate
    return None


def available() -> bool:
    return find_binary("initdb") is not None and find_binary("pg_ctl") is not None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    root: Path
    port: int
    user: str | None

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"


def _run_as(user: str | None) -> dict[str, object]:
    if user is None:
        return {}
    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _unprivileged_user() -> str:
    """``CARTFLOW_PG_USER``, else the first of ``nobody`` and ``postgres`` that exists."""
    wanted = os.environ.get("CARTFLOW_PG_USER")
    for name in [wanted] if wanted else ["nobody", "postgres"]:
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise RuntimeError(
        "PostgreSQL refuses to run as root and no unprivileged user was found: "
        "set CARTFLOW_PG_USER to one, or DATABASE_URL to a running server"
    )


def start() -> Server:
    """Start a cluster; stopped and removed when the process exits."""
    initdb, pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise RuntimeError("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
    user = _unprivileged_user() if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="cartflow-pg-"))
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    data, sockets = root / "data", root
    as_user = _run_as(user)
    env = {**os.environ, "LC_ALL": "C"}
    subprocess.run(
        [initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
        check=True,
        capture_output=True,
        env=env,
        **as_user,  # type: ignore[arg-type]
    )
    port = _free_port()
    # A throwaway cluster: durability buys nothing here, and fsync would slow every test.
    options = (
        f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
        f"-c synchronous_commit=off -c full_page_writes=off -c max_connections=50"
    )
    subprocess.run(
        [
            pg_ctl,
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(root / "log"),
            "-w",
            "-t",
            "60",
            "start",
        ],
        check=True,
        capture_output=True,
        env=env,
        **as_user,  # type: ignore[arg-type]
    )
    server = Server(root, port, user)
    atexit.register(stop, server, pg_ctl, as_user)
    return server


def stop(server: Server, pg_ctl: str, as_user: dict[str, object]) -> None:
    subprocess.run(
        [pg_ctl, "-D", str(server.root / "data"), "-m", "immediate", "-w", "stop"],
        capture_output=True,
        check=False,
        **as_user,  # type: ignore[arg-type]
    )
    for _ in range(50):
        if not (server.root / "data" / "postmaster.pid").exists():
            break
        time.sleep(0.1)
    shutil.rmtree(server.root, ignore_errors=True)
