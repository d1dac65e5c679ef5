"""``cartflow coi new`` and ``cartflow coi check``: chain-of-identity identifiers.

The rules live in :mod:`cartflow.domain.identifiers`. This edge may read today's date (for a
default 2-digit year) and draw a random sequence; the domain does neither. Uniqueness of a
sequence is the database's job: a random one here is for set-up and demonstrations.
"""

from __future__ import annotations

import argparse
import secrets
from datetime import UTC, datetime
from typing import Any

from cartflow.cli.common import CliError, add_json_flag, emit
from cartflow.domain.errors import InvalidInput
from cartflow.domain.identifiers import Din, new_identifier, parse_scan


def _payload(din: Din) -> dict[str, Any]:
    return {
        "coi": din.eye_readable,
        "compact": din.compact,
        "barcode": din.barcode,
        "facility": din.facility,
        "year": f"{din.year:02d}",
        "sequence": f"{din.sequence:06d}",
        "check_character": din.check_character,
    }


def _text(payload: dict[str, Any]) -> str:
    return f"{payload['coi']}\nbarcode: {payload['barcode']}"


def _new(args: argparse.Namespace) -> int:
    year = args.year if args.year is not None else datetime.now(UTC).year % 100
    sequence = args.sequence if args.sequence is not None else secrets.randbelow(1_000_000)
    try:
        din = new_identifier(args.facility, year, sequence)
    except InvalidInput as exc:
        raise CliError(str(exc)) from exc
    emit(args, _payload(din), _text)
    return 0


def _check(args: argparse.Namespace) -> int:
    text = " ".join(args.identifier)
    try:
        scan = parse_scan(text)
    except InvalidInput as exc:
        reason = str(exc)
        if args.json:
            emit(args, {"valid": False, "reason": reason})
        raise CliError(f"invalid identifier: {reason}", status=1) from exc
    emit(args, {"valid": True, "checked": scan.checked, **_payload(scan.din)}, _checked_text)
    return 0


def _checked_text(payload: dict[str, Any]) -> str:
    if payload["checked"]:
        return f"valid: {payload['coi']}"
    return (
        f"valid, unchecked (barcode flags 00 carry no check character: it can match this "
        f"identifier, not register it): {payload['coi']}"
    )


def _two_digit_year(text: str) -> int:
    if not (len(text) == 2 and text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a 2-digit year (00 to 99)")
    return int(text)


def _sequence(text: str) -> int:
    if not (1 <= len(text) <= 6 and text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a sequence of 1 to 6 digits")
    return int(text)


def register(subparsers: Any) -> None:
    coi = subparsers.add_parser("coi", help="chain-of-identity identifiers (ISBT 128 DIN form)")
    actions = coi.add_subparsers(dest="coi_action", metavar="ACTION", parser_class=type(coi))
    actions.required = True

    new = actions.add_parser("new", help="make a new identifier")
    new.add_argument(
        "--facility", required=True, metavar="CODE",
        help="5-character facility code: a letter, then 4 letters or digits",
    )
    new.add_argument(
        "--year", type=_two_digit_year, metavar="YY", help="2-digit year (default: this year)"
    )
    new.add_argument(
        "--sequence", type=_sequence, metavar="N", help="sequence 0-999999 (default: random)"
    )
    add_json_flag(new)
    new.set_defaults(handler=_new)

    check = actions.add_parser(
        "check", help="check an identifier: exit 0 if valid, 1 with the reason if not"
    )
    check.add_argument(
        "identifier", nargs="+", metavar="ID",
        help="eye-readable (with or without spaces) or scanned barcode (=...)",
    )
    add_json_flag(check)
    check.set_defaults(handler=_check)
