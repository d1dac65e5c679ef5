"""``cartflow export fhir COI``: a case's FHIR Bundle on standard output.

Run by an operator on the server, it names the patient only with ``--identified``; by default
the Bundle is pseudonymised (the chain-of-identity identifier, no name or birth date).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cartflow.cli.common import CliError, domain_errors_as_cli
from cartflow.cli.django_setup import setup_django


def register(subparsers: Any) -> None:
    export = subparsers.add_parser("export", help="export a case (FHIR)")
    commands = export.add_subparsers(dest="export_command", metavar="FORMAT")
    commands.required = True
    fhir = commands.add_parser("fhir", help="the case as a FHIR R4 Bundle (JSON)")
    fhir.add_argument("coi", metavar="COI", help="the chain-of-identity identifier")
    fhir.add_argument(
        "--identified", action="store_true", help="name the patient (default: pseudonymised)"
    )
    fhir.set_defaults(handler=_fhir)


@domain_errors_as_cli
def _fhir(args: argparse.Namespace) -> int:
    setup_django()
    from cartflow.clinic.models import TherapyCase
    from cartflow.clinic.services.fhir_export import export_fhir
    from cartflow.domain.identifiers import parse_scan

    coi = parse_scan(args.coi).din.compact
    case = TherapyCase.objects.filter(coi=coi).first()
    if case is None:
        raise CliError(f"no therapy case {coi}")
    sys.stdout.write(export_fhir(case, reader=None, identified=args.identified) + "\n")
    return 0
