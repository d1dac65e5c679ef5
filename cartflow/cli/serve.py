"""``cartflow serve [--port N]``: serve the application on http://127.0.0.1:8000.

Django's own server, bound to the loopback address, serving the API docs' static files too:
enough for a demo or a single workstation. In production, run ``cartflow.wsgi`` under a
WSGI server behind a proxy instead.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cartflow.cli.common import CliError
from cartflow.cli.django_setup import setup_django

HOST = "127.0.0.1"
DEFAULT_PORT = 8000


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


def serve(args: argparse.Namespace) -> int:
    setup_django()
    pending = pending_migrations()
    if pending:
        raise CliError(
            f"the database needs {len(pending)} migration(s) ({', '.join(pending[:3])}...): "
            "run `cartflow migrate` first (or `cartflow demo` for the demo network)"
        )
    sys.stdout.write(f"cartflow serving on {address(args.port)} (Ctrl-C stops it)\n")
    sys.stdout.flush()
    run_server(args.port)
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve the application on http://127.0.0.1:8000 (no demo data)",
        description="Serve the pages and the API on the loopback address.",
    )
    add_port(parser)
    parser.set_defaults(handler=serve)
