"""``cartflow demo [--port N]``: migrate the SQLite database, seed the synthetic network
(once), print the address and one demo login per role, and serve.

The data lives in the data folder (``CARTFLOW_DATA``, default ``./data``); running it again
keeps what is there and adds nothing. The demo logins' passwords are printed on purpose:
they are for a demo on this machine.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cartflow.cli.django_setup import setup_django
from cartflow.cli.serve import add_port, address, run_server


def demo(args: argparse.Namespace) -> int:
    setup_django()
    from django.conf import settings
    from django.core.management import call_command

    from cartflow.clinic import demo_seed

    call_command("migrate", interactive=False, verbosity=0)
    report = demo_seed.seed()
    database = settings.DATABASES["default"]["NAME"]
    out = sys.stdout
    if report.created:
        out.write(f"Seeded the synthetic demo network: {report.cases} therapy cases.\n")
    else:
        out.write(f"The demo network is already there ({report.cases} therapy cases).\n")
    out.write(f"Database: {database}\n\n")
    out.write(f"Open {address(args.port)} and sign in as one of (user / password / role):\n")
    width = max(len(u) for u, _, _ in report.logins)
    for username, password, role in report.logins:
        out.write(f"  {username:<{width}}  {password:<{width + 5}}  {role}\n")
    if report.patient_logins:
        out.write("\nThe patient and family view (synthetic patients), one login per language:\n")
        for username, password, role in report.patient_logins:
            out.write(f"  {username:<{width}}  {password:<{width + 5}}  {role}\n")
    base = address(args.port)
    out.write(f"\nAPI docs: {base}api/docs  (schema: {base}api/openapi.json)\n")
    if args.no_serve:
        return 0
    out.write("Serving; Ctrl-C stops it.\n")
    out.flush()
    run_server(args.port)
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="seed a synthetic network and serve it on http://127.0.0.1:8000",
        description="Migrate the SQLite database, seed the synthetic demo network once, print "
        "the demo logins and serve.",
    )
    add_port(parser)
    parser.add_argument(
        "--no-serve", action="store_true", help="migrate and seed, print the logins, and stop"
    )
    parser.set_defaults(handler=demo)
