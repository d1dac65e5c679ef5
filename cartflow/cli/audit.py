"""``cartflow audit``: prove the record intact, and rebuild the projections from it.

``cartflow audit verify`` checks everything a page or the API shows against hashed bytes
(``cartflow.clinic.services.verification``): every case's chain and the network ledger, the
shown columns of every event, the audit trail's own chain, each patient's identity, each
signature, and each case folded again against its cached state; ``--case`` checks one case's
chain. ``--read-only`` opens the database so that nothing is written (a copy that may not be
changed). Exit status: 0 intact, 1 broken (every break is named), 3 could not check (the
database could not be opened or read; nothing is known).
``cartflow audit rebuild`` folds each case's events again into its projection and reports every
difference it repaired (also in an audit row).
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from cartflow.cli.common import CliError, add_json_flag, domain_errors_as_cli, emit
from cartflow.cli.django_setup import setup_django

INTACT_STATUS = 0
BROKEN_STATUS = 1
UNCHECKED_STATUS = 3


def register(subparsers: Any) -> None:
    audit = subparsers.add_parser("audit", help="verify the audit trail, rebuild projections")
    commands = audit.add_subparsers(dest="audit_command", metavar="ACTION")
    commands.required = True

    verify = commands.add_parser(
        "verify",
        help="check everything shown against the hashed record (exit 0 intact, 1 broken, "
        "3 could not check)",
    )
    verify.add_argument("--case", metavar="COI", help="only this case's chain (any written form)")
    verify.add_argument(
        "--read-only",
        action="store_true",
        help="open the SQLite database read-only and write nothing (a copy)",
    )
    verify.add_argument(
        "--no-replay", action="store_true", help="skip folding each case again through apply"
    )
    verify.add_argument(
        "--workers",
        type=_workers,
        metavar="N",
        help="processes to check in, at most 8 (default: one per core from 20,000 events on; "
        "1: this process only)",
    )
    add_json_flag(verify)
    verify.set_defaults(handler=_verify)

    rebuild = commands.add_parser("rebuild", help="rebuild case projections from their events")
    rebuild.add_argument("--case", metavar="COI", help="only this case (any written form)")
    add_json_flag(rebuild)
    rebuild.set_defaults(handler=_rebuild)


def _workers(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(
            f"expected a whole number of processes, 1 or more, got {text!r}"
        )
    return count


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


SHOWN_PER_KIND = 20
"""Findings printed of each kind; the JSON answer holds them all."""


def _human_findings(report: dict[str, Any]) -> str:
    if report["ok"]:
        counts = ", ".join(
            f"{value} {name.replace('_', ' ')}" for name, value in report["checked"].items()
        )
        return f"ok: intact ({counts})"
    # The chains' first broken links first, in the words they always had.
    lines = [line for line in _human_network(report).splitlines() if line.startswith("BROKEN")]
    lines.append(
        f"BROKEN: {len(report['findings'])} finding(s) of kind {', '.join(report['kinds'])}"
    )
    # Kind by kind, the chains first; a few of each, so that one broken chain is not lost
    # below thousands of caches that differ because of it (--json lists every finding).
    from cartflow.clinic.services.verification import KINDS  # Django is set up by now

    order = {kind: index for index, kind in enumerate(KINDS)}
    for kind in sorted(report["kinds"], key=lambda kind: order.get(kind, len(order))):
        of_kind = [f for f in report["findings"] if f["kind"] == kind]
        lines.extend(f"  [{kind}] {f['where']}: {f['detail']}" for f in of_kind[:SHOWN_PER_KIND])
        if len(of_kind) > SHOWN_PER_KIND:
            lines.append(
                f"  [{kind}] ... and {len(of_kind) - SHOWN_PER_KIND} more "
                "(`cartflow audit verify --json` lists every finding)"
            )
    return "\n".join(lines)


def _verify(args: argparse.Namespace) -> int:
    if args.read_only:
        os.environ["CARTFLOW_READ_ONLY"] = "1"
    from django.db import DatabaseError

    try:
        return _verify_checked(args)
    except (DatabaseError, OSError) as exc:
        # Not "broken": nothing is known about the record when it cannot be read.
        print(f"could not check: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
        return UNCHECKED_STATUS


@domain_errors_as_cli
def _verify_checked(args: argparse.Namespace) -> int:
    setup_django()
    from cartflow.clinic.models import TherapyCase
    from cartflow.clinic.services.audit import verify_case
    from cartflow.clinic.services.verification import verify_everything

    if args.case:
        coi = _coi(args.case)
        if not TherapyCase.objects.filter(coi=coi).exists():
            from cartflow.clinic.models import LedgerEntry

            if not LedgerEntry.objects.filter(case_coi=coi).exists():
                raise CliError(f"no therapy case {coi}")
        case_report = verify_case(coi).to_dict()
        emit(args, case_report, _human_case)
        return INTACT_STATUS if case_report["ok"] else BROKEN_STATUS
    report = verify_everything(replay=not args.no_replay, workers=args.workers).to_dict()
    emit(args, report, _human_findings)
    return INTACT_STATUS if report["ok"] else BROKEN_STATUS


def _human_repairs(report: dict[str, Any]) -> str:
    lines = [f"rebuilt: {report['changed']} projections changed"]
    for coi, differences in report["repaired"].items():
        parts = []
        for name, value in differences.items():
            if name == "state":
                parts.append(f"state ({', '.join(value)})")
            else:
                parts.append(f"{name} {value[0]} -> {value[1]}")
        lines.append(f"  case {coi}: " + "; ".join(parts))
    return "\n".join(lines)


@domain_errors_as_cli
def _rebuild(args: argparse.Namespace) -> int:
    setup_django()
    from cartflow.clinic.services.audit import repair_all, repair_projection
    from cartflow.clinic.services.errors import NotFound

    try:
        if args.case:
            coi = _coi(args.case)
            found = repair_projection(coi)
            repaired = {coi: found} if found else {}
        else:
            repaired = repair_all()
    except NotFound as exc:
        raise CliError(str(exc)) from exc
    emit(args, {"changed": len(repaired), "repaired": repaired}, _human_repairs)
    return 0
