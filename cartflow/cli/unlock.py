"""``cartflow unlock USER [--address IP]``: let a locked-out user sign in and sign again.

Clears the failed password checks django-axes counted for the user (at one address, or at
all), and writes an audit row that says who was unlocked.
"""

from __future__ import annotations

import argparse
from typing import Any

from cartflow.cli.common import add_json_flag, emit
from cartflow.cli.django_setup import setup_django


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("unlock", help="unlock a user locked out by wrong passwords")
    parser.add_argument("username")
    parser.add_argument("--address", help="only the lockout at this address")
    add_json_flag(parser)
    parser.set_defaults(handler=_unlock)


def _unlock(args: argparse.Namespace) -> int:
    setup_django()
    from cartflow.clinic.services.authentication import unlock
    from cartflow.clinic.services.context import RequestMeta

    cleared = unlock(
        args.username,
        address=args.address,
        acting_user=None,
        request_meta=RequestMeta.command_line(),
    )
    emit(
        args,
        {"user": args.username, "cleared": cleared},
        lambda r: f"unlocked {r['user']}: {r['cleared']} lockout record(s) cleared",
    )
    return 0
