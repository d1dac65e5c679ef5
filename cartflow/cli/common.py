"""What every command shares: ``--json``, printing results, and turning errors into exit 2."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import date
from typing import Any

from cartflow.domain.errors import DomainError


class CliError(Exception):
    """A usage or input error: printed to standard error, exit status ``status`` (2 by default)."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


def emit_error(message: str, status: int = 2) -> int:
    sys.stderr.write(f"cartflow: error: {message}\n")
    return status


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def emit(args: argparse.Namespace, payload: Any, human: Callable[[Any], str] | None = None) -> None:
    """Print ``payload`` as JSON with ``--json``, else as the human-readable text."""
    if getattr(args, "json", False) or human is None:
        sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(human(payload).rstrip("\n") + "\n")


def domain_errors_as_cli(func: Callable[[argparse.Namespace], int | None]) -> Callable[..., int]:
    """Turn a domain error raised by ``func`` into a CLI error (exit 2)."""

    def wrapper(args: argparse.Namespace) -> int:
        try:
            return int(func(args) or 0)
        except DomainError as exc:
            raise CliError(str(exc)) from exc

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


def parse_on(text: str | None) -> date:
    """The decision date: ``--on YYYY-MM-DD``, or today (the clock is read here, at the edge)."""
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CliError(f"--on must be a date YYYY-MM-DD; got {text!r}") from None


def site_values_for(slug: str, on: Any) -> tuple[Any, ...]:
    """The register values of the site ``slug`` in force on ``on`` (reads the database)."""
    from cartflow.cli.django_setup import setup_django

    setup_django()
    from cartflow.clinic.services import site_register
    from cartflow.clinic.services.errors import ServiceError

    try:
        return site_register.site_values(site_register.get_site(slug), on)
    except ServiceError as exc:
        raise CliError(str(exc)) from exc
