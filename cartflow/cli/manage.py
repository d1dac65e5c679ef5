"""``cartflow migrate`` and ``cartflow manage ...``: Django's management commands."""

from __future__ import annotations

import argparse
from typing import Any

from cartflow.cli.django_setup import setup_django


def register(subparsers: Any) -> None:
    migrate = subparsers.add_parser("migrate", help="create or update the database tables")
    migrate.set_defaults(handler=_migrate)
    manage = subparsers.add_parser(
        "manage", help="run a Django management command (cartflow manage showmigrations)"
    )
    manage.add_argument("arguments", nargs=argparse.REMAINDER, help="the command and its options")
    manage.set_defaults(handler=_manage)


def _migrate(args: argparse.Namespace) -> int:
    setup_django()
    from django.core.management import call_command

    call_command("migrate", interactive=False)
    return 0


def _manage(args: argparse.Namespace) -> int:
    setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["cartflow manage", *args.arguments])
    return 0
