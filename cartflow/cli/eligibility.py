"""``cartflow eligibility``: every product and indication for a patient, from a JSON file."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cartflow.catalog_file import load_catalog
from cartflow.cli.common import (
    CliError,
    add_json_flag,
    domain_errors_as_cli,
    emit,
    parse_on,
    site_values_for,
)
from cartflow.domain.eligibility import evaluate
from cartflow.domain.patient_facts import KEYS, parse_patient_json


def _read_patient(path: str | None) -> str:
    if path in (None, "-"):
        if sys.stdin.isatty():
            raise CliError(
                "give the patient facts with --patient FILE (or '-' for standard input); "
                f"a JSON object with keys {', '.join(KEYS)}"
            )
        return sys.stdin.read()
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except UnicodeDecodeError:
        raise CliError(f"the patient file {path} is not UTF-8 text; expected JSON") from None
    except OSError as exc:
        raise CliError(f"cannot read the patient file {path}: {exc.strerror}") from None


def _human(payload: dict[str, Any]) -> str:
    lines = [f"eligibility on {payload['on']} (catalog as of {payload['catalog_as_of']})"]
    for result in payload["results"]:
        where = ", ".join(result["approved_in"]) or "nowhere"
        lines.append(f"{result['indication']}: {result['status']} (approved in {where})")
        for item in result["unmet"]:
            lines.append(f"  unmet: {item['text']} [{item['source']}]")
        for item in result["missing"]:
            lines.append(f"  missing: {item['text']} [{item['source']}]")
    return "\n".join(lines)


@domain_errors_as_cli
def run_eligibility(args: argparse.Namespace) -> int:
    on = parse_on(args.on)
    patient = parse_patient_json(_read_patient(args.patient))
    catalog = load_catalog()
    values: tuple[Any, ...] = ()
    if args.site:

        values = site_values_for(args.site, on)
    results = evaluate(patient, catalog, on, values)
    payload = {
        "on": on.isoformat(),
        "site": args.site,
        "catalog_version": catalog.version,
        "catalog_as_of": catalog.as_of.isoformat(),
        "results": [r.to_dict() for r in results],
    }
    emit(args, payload, _human)
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "eligibility",
        help="judge a patient against every product and indication",
        description="Judge a patient (JSON facts) against every product and indication in the "
        "catalog, by the facts in force on the date.",
    )
    parser.add_argument(
        "--patient",
        metavar="FILE",
        help="the patient facts as a JSON file; '-' or omitted reads standard input",
    )
    parser.add_argument("--on", metavar="YYYY-MM-DD", help="the decision date (default: today)")
    parser.add_argument(
        "--site",
        metavar="SLUG",
        help="a treatment site: its signed protocol values in force on the date fill the facts "
        "the catalog does not know (reads the clinic's database)",
    )
    add_json_flag(parser)
    parser.set_defaults(handler=run_eligibility)
