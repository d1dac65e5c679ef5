"""The ``cartflow`` command line: the domain's functions, no logic of its own.

Every command takes ``--json``. Errors go to standard error with exit status 2 and say what
was wrong and what is accepted.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from cartflow.cli.common import CliError, emit_error

# Each module registers its own sub-commands with ``register(subparsers)``.
COMMAND_MODULES = (
    "cartflow.cli.eligibility",
    "cartflow.cli.catalog",
    "cartflow.cli.grade",
    "cartflow.cli.coi",
    "cartflow.cli.dosing",
    "cartflow.cli.kinetics",
    "cartflow.cli.scheduling",
    "cartflow.cli.demo",
    "cartflow.cli.walkthrough",
    "cartflow.cli.serve",
    "cartflow.cli.audit",
    "cartflow.cli.token",
    "cartflow.cli.unlock",
    "cartflow.cli.otp",
    "cartflow.cli.site",
    "cartflow.cli.register",
    "cartflow.cli.manage",
    "cartflow.cli.export",
    "cartflow.cli.case",
)


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors end with exit status 2 and one clear line, never a traceback."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cartflow", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # a command area not built yet
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except CliError as exc:
        return emit_error(str(exc), exc.status)
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
