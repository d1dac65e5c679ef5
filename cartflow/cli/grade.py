"""``cartflow grade crs`` and ``cartflow grade icans``: ASTCT 2019 grading from the command line.

The rules live in :mod:`cartflow.domain.grading`; this module only reads arguments and prints.
"""

from __future__ import annotations

import argparse
from typing import Any

from cartflow.cli.common import add_json_flag, domain_errors_as_cli, emit
from cartflow.domain.grading import (
    Consciousness,
    Edema,
    Hypotension,
    Motor,
    Oxygen,
    Seizure,
    grade_crs,
    grade_icans,
)


def _values(kind: type[Any]) -> list[str]:
    return [member.value for member in kind]


def _crs_text(payload: dict[str, Any]) -> str:
    return f"CRS grade {payload['grade']}\n{payload['reason']}"


def _icans_text(payload: dict[str, Any]) -> str:
    return f"ICANS grade {payload['grade']} ({payload['instrument']})\n{payload['reason']}"


@domain_errors_as_cli
def _crs(args: argparse.Namespace) -> int:
    result = grade_crs(
        args.temperature, args.hypotension, args.oxygen, fever_masked=args.fever_masked
    )
    emit(args, result.to_dict(), _crs_text)
    return 0


@domain_errors_as_cli
def _icans(args: argparse.Namespace) -> int:
    result = grade_icans(
        consciousness=args.consciousness,
        seizure=args.seizure,
        motor=args.motor,
        edema=args.edema,
        ice=args.ice,
        capd=args.capd,
        age_years=args.age,
        developmental_delay=args.developmental_delay,
    )
    emit(args, result.to_dict(), _icans_text)
    return 0


def register(subparsers: Any) -> None:
    grade = subparsers.add_parser(
        "grade", help="grade CRS or ICANS by ASTCT 2019 consensus (Lee et al.)"
    )
    kinds = grade.add_subparsers(dest="grade_kind", metavar="KIND", parser_class=type(grade))
    kinds.required = True

    crs = kinds.add_parser("crs", help="cytokine release syndrome")
    crs.add_argument(
        "--temperature", type=float, required=True, metavar="C",
        help="highest temperature in °C (25 to 45)",
    )
    crs.add_argument("--hypotension", required=True, choices=_values(Hypotension))
    crs.add_argument("--oxygen", required=True, choices=_values(Oxygen))
    crs.add_argument(
        "--fever-masked", action="store_true",
        help="fever masked by antipyretics, tocilizumab or steroids after CRS began",
    )
    add_json_flag(crs)
    crs.set_defaults(handler=_crs)

    icans = kinds.add_parser("icans", help="immune effector cell-associated neurotoxicity")
    icans.add_argument("--consciousness", required=True, choices=_values(Consciousness))
    score = icans.add_mutually_exclusive_group()
    score.add_argument("--ice", type=int, metavar="N", help="ICE score 0-10 (age 12 and over)")
    score.add_argument(
        "--capd", type=int, metavar="N",
        help="CAPD score 0-32 (under 12, or with developmental delay)",
    )
    icans.add_argument(
        "--age", type=float, metavar="YEARS", help="age in years (without it: 12 or over)"
    )
    icans.add_argument("--developmental-delay", action="store_true")
    icans.add_argument("--seizure", required=True, choices=_values(Seizure))
    icans.add_argument("--motor", required=True, choices=_values(Motor))
    icans.add_argument("--edema", required=True, choices=_values(Edema))
    add_json_flag(icans)
    icans.set_defaults(handler=_icans)
