"""``cartflow walkthrough``: one synthetic patient through all six steps, in the terminal."""

from __future__ import annotations

import argparse
import sys

from cartflow.cli.common import add_json_flag, emit
from cartflow.walkthrough import run


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "walkthrough",
        help="walk one synthetic patient through all six steps, printing each decision",
        description=__doc__,
    )
    add_json_flag(parser)
    parser.set_defaults(handler=_walkthrough)


def _walkthrough(args: argparse.Namespace) -> int:
    lines = run()
    if args.json:
        emit(args, {"lines": lines})
    else:
        sys.stdout.write("\n".join(lines) + "\n")
    return 0
