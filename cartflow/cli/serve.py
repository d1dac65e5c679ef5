"""``cartflow serve [--port N] [--host H] [--workers W] [--threads T] [--https]``: production.

gunicorn with W worker processes (default: the machine's cores, at most 8) of T threads
each (default 4); static files from the application (whitenoise); on PostgreSQL a
connection pool of T per worker, so the server never holds more than W x T connections,
busy or idle (printed at start). ``--https`` says a proxy in front terminates TLS: cookies
are then Secure and HSTS is sent. ``cartflow demo`` keeps Django's development server
(:func:`run_server`).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from cartflow.cli.common import CliError
from cartflow.cli.django_setup import setup_django

HOST = "127.0.0.1"
DEFAULT_PORT = 8000
KEEPALIVE_S = 75
"""How long a worker keeps an idle client connection open (gunicorn's default is 2 s). Under
load a request waits longer than 2 s in the queue, so with the default nearly every request
came on a new connection, which cost the server about a tenth more CPU per request at 128
clients than at 8 (`benchmarks/serve_load.py`); 75 s is nginx's default for its clients. A
gthread worker holds an idle connection as a socket in its poller, up to 1,000 per worker."""


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"a port is a whole number 1-65535; got {text!r}"
        ) from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a whole number 1-65535; got {port}")
    return port


def add_port(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--port", type=port_number, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}"
    )


def pending_migrations() -> list[str]:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _ in plan]


def address(port: int) -> str:
    return f"http://{HOST}:{port}/"


def run_server(port: int) -> None:
    """Serve until interrupted (Ctrl-C)."""
    from django.core.management import call_command

    call_command(
        "runserver",
        f"{HOST}:{port}",
        use_reloader=False,
        use_threading=True,
        insecure_serving=True,  # the API docs' static files, without DEBUG
        skip_checks=True,
    )


def server_size(workers: int | None, threads: int | None) -> tuple[int, int]:
    """Workers and threads for this machine: one worker per core (at most 8), 4 threads."""
    return (workers or max(1, min(8, os.cpu_count() or 1)), threads or 4)


def run_production(host: str, port: int, workers: int, threads: int) -> None:
    """Serve under gunicorn until interrupted."""
    from gunicorn.app.base import BaseApplication

    from cartflow.wsgi import application

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in {
                "bind": f"{host}:{port}",
                "workers": workers,
                "threads": threads,
                "worker_class": "gthread",
                "graceful_timeout": 20,
                "keepalive": KEEPALIVE_S,
                "accesslog": "-",
                "post_fork": lambda server, worker: forget_inherited_pools(),
            }.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return application

    Server().run()


def check_database() -> str:
    """Refuse a database with pending migrations; then close every connection and pool.

    The master process must hold no connection when gunicorn forks its workers: a pool
    opened here would be inherited by every worker, its one socket then shared by all of
    them, and one request would read another's rows (another user's roles included).
    """
    from django.db import connections

    try:
        pending = pending_migrations()
        vendor = connections["default"].vendor
    finally:
        close_database()
    if pending:
        raise CliError(
            f"the database needs {len(pending)} migration(s) ({', '.join(pending[:3])}...): "
            "run `cartflow migrate` first (or `cartflow demo` for the demo network)"
        )
    return str(vendor)


def close_database() -> None:
    """Close this process's connections and PostgreSQL pools."""
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        connection.close()
        close_pool = getattr(connection, "close_pool", None)
        if close_pool is not None:
            close_pool()


def forget_inherited_pools() -> None:
    """In a freshly forked worker: drop any pool object the master left, without closing it.

    Closing would end the master's sockets for everyone; the worker opens its own pool on
    its first request.
    """
    try:
        from django.db.backends.postgresql.base import DatabaseWrapper
    except ImportError:  # pragma: no cover - psycopg missing: no pool either
        return
    DatabaseWrapper._connection_pools.clear()


def serve(args: argparse.Namespace) -> int:
    workers, threads = server_size(args.workers, args.threads)
    # Read by cartflow.settings, so set before Django starts.
    os.environ["CARTFLOW_DB_POOL_SIZE"] = str(threads)
    if args.https:
        os.environ["CARTFLOW_HTTPS"] = "1"
    setup_django()
    vendor = check_database()
    bound = ""
    if vendor == "postgresql":
        bound = f"; at most {workers * threads} PostgreSQL connections"
    scheme = "https (behind a proxy)" if args.https else "http"
    sys.stdout.write(
        f"cartflow serving on {args.host}:{args.port} over {scheme}: {workers} workers x "
        f"{threads} threads{bound} (Ctrl-C stops it)\n"
    )
    sys.stdout.flush()
    run_production(args.host, args.port, workers, threads)
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve the application with a production server (no demo data)",
        description="Serve the pages and the API under gunicorn (see the module's doc).",
    )
    add_port(parser)
    parser.add_argument("--host", default=HOST, help=f"address to bind (default {HOST})")
    parser.add_argument("--workers", type=int, help="worker processes (default: cores, max 8)")
    parser.add_argument("--threads", type=int, help="threads per worker (default 4)")
    parser.add_argument(
        "--https", action="store_true", help="served over HTTPS by a proxy: Secure cookies, HSTS"
    )
    parser.set_defaults(handler=serve)
