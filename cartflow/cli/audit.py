"""``cartflow audit``: prove the record intact, and rebuild the projections from it.

``cartflow audit verify`` checks every case's hash chain and the network ledger (or one case
with ``--case``) and reports the first broken link; exit status 1 when something is broken.
``cartflow audit rebuild`` folds each case's events again into its projection.
"""

from __future__ import annotations

import argparse
from typing import Any

from cartflow.cli.common import CliError, add_json_flag, domain_errors_as_cli, emit
from cartflow.cli.django_setup import setup_django

BROKEN_STATUS = 1


def register(subparsers: Any) -> None:
    audit = subparsers.add_parser("audit", help="verify the audit trail, rebuild projections")
    commands = audit.add_subparsers(dest="audit_command", metavar="ACTION")
    commands.required = True

    verify = commands.add_parser("verify", help="check every hash chain and the ledger")
    verify.add_argument("--case", metavar="COI", help="only this case (any written form)")
    add_json_flag(verify)
    verify.set_defaults(handler=_verify)

    rebuild = commands.add_parser("rebuild", help="rebuild case projections from their events")
    rebuild.add_argument("--case", metavar="COI", help="only this case (any written form)")
    add_json_flag(rebuild)
    rebuild.set_defaults(handler=_rebuild)


def _coi(text: str) -> str:
    from cartflow.domain.identifiers import parse_scan

    # names a case already registered, so an unchecked (flag 00) scan may find it
    return parse_scan(text).din.compact


def _human_case(report: dict[str, Any]) -> str:
    if report["ok"]:
        return f"ok: case {report['case']}, {report['entries']} events, head {report['head']}"
    return (
        f"BROKEN: case {report['case']} at event {report['broken_at']} (0-based): "
        f"{report['reason']}"
    )


def _human_network(report: dict[str, Any]) -> str:
    ledger = report["ledger"]
    lines = []
    if report["ok"]:
        lines.append(
            f"ok: {report['cases_checked']} cases, {ledger['entries']} ledger entries, "
            "every link intact"
        )
    if ledger["broken_at"] is not None:
        lines.append(f"BROKEN: ledger at entry {ledger['broken_at']}: {ledger['reason']}")
    lines.extend(_human_case(case) for case in report["broken_cases"])
    return "\n".join(lines)


@domain_errors_as_cli
def _verify(args: argparse.Namespace) -> int:
    setup_django()
    from cartflow.clinic.models import TherapyCase
    from cartflow.clinic.services.audit import verify_case, verify_ledger

    if args.case:
        coi = _coi(args.case)
        if not TherapyCase.objects.filter(coi=coi).exists():
            from cartflow.clinic.models import LedgerEntry

            if not LedgerEntry.objects.filter(case_coi=coi).exists():
                raise CliError(f"no therapy case {coi}")
        case_report = verify_case(coi).to_dict()
        emit(args, case_report, _human_case)
        return 0 if case_report["ok"] else BROKEN_STATUS
    report = verify_ledger().to_dict()
    emit(args, report, _human_network)
    return 0 if report["ok"] else BROKEN_STATUS


@domain_errors_as_cli
def _rebuild(args: argparse.Namespace) -> int:
    setup_django()
    from cartflow.clinic.services.audit import rebuild_all, rebuild_projection
    from cartflow.clinic.services.errors import NotFound

    try:
        changed = int(rebuild_projection(_coi(args.case))) if args.case else rebuild_all()
    except NotFound as exc:
        raise CliError(str(exc)) from exc
    emit(args, {"changed": changed}, lambda p: f"rebuilt: {p['changed']} projections changed")
    return 0
