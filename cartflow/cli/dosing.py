"""``cartflow dose`` and ``cartflow lymphodepletion``: a patient's CAR-T dose range and
lymphodepletion plan for one product and indication."""

from __future__ import annotations

import argparse
import math
from typing import Any

from cartflow.catalog_file import load_catalog
from cartflow.cli.common import (
    add_json_flag,
    domain_errors_as_cli,
    emit,
    parse_on,
    site_values_for,
)
from cartflow.domain.catalog import REGIONS
from cartflow.domain.dosing import dose_for, lymphodepletion_plan
from cartflow.domain.renal import RENAL_UNITS


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _region(text: str) -> str:
    if text.upper() not in REGIONS:
        raise argparse.ArgumentTypeError(f"expected one of {', '.join(REGIONS)}, got {text!r}")
    return text.upper()


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--product", required=True, metavar="ID", help="e.g. tisagenlecleucel")
    parser.add_argument(
        "--indication",
        required=True,
        metavar="ID|DISEASE",
        help="an indication id (tisagenlecleucel/b-all), its short name (b-all) or a disease",
    )
    parser.add_argument("--weight-kg", required=True, type=_number, metavar="W")
    parser.add_argument("--region", type=_region, metavar="R", help=", ".join(REGIONS))
    parser.add_argument("--on", metavar="YYYY-MM-DD", help="the date (default: today)")
    parser.add_argument(
        "--site",
        metavar="SLUG",
        help="a treatment site: its signed protocol values in force on the date fill the facts "
        "the catalog does not know (reads the clinic's database)",
    )
    add_json_flag(parser)


def _site_values(args: argparse.Namespace, on: Any) -> tuple[Any, ...]:
    """The site's register values in force on ``on`` (none without ``--site``)."""
    if not getattr(args, "site", None):
        return ()
    return site_values_for(str(args.site), on)


def _cells(value: int | None) -> str:
    return "unknown (not in the label)" if value is None else f"{value:.3g}"


def _dose_human(payload: dict[str, Any]) -> str:
    lines = [
        f"{payload['indication']}: {_cells(payload['min_cells'])} to "
        f"{_cells(payload['max_cells'])} CAR-positive viable T cells",
        f"  {payload['basis']} ({payload['source']})",
    ]
    for comp in payload.get("components", []):
        lines.append(f"  {comp['name']}: {comp['min_cells']:.3g} to {comp['max_cells']:.3g}")
    return "\n".join(lines)


@domain_errors_as_cli
def run_dose(args: argparse.Namespace) -> int:
    on = parse_on(args.on)
    catalog = load_catalog()
    indication = catalog.find_indication(args.product, args.indication)
    found = dose_for(indication, args.weight_kg, on, args.region, _site_values(args, on))
    payload = {"product": indication.product, "indication": indication.id, **found.to_dict()}
    emit(args, payload, _dose_human)
    return 0


def _ld_human(payload: dict[str, Any]) -> str:
    lines = [f"{payload['indication']}: BSA {payload['bsa_m2']} m2 (Mosteller)"]
    for drug in payload["regimen"]:
        lines.append(
            f"  {drug['drug']} {drug['mg_per_m2']:g} mg/m2 = {drug['daily_mg']:g} mg daily "
            f"x {drug['days']} day(s)"
        )
    for alt in payload["alternatives"]:
        lines.append(f"  or {alt['id']} when {alt['use_when']}:")
        for drug in alt["drugs"]:
            lines.append(
                f"    {drug['drug']} {drug['mg_per_m2']:g} mg/m2 = {drug['daily_mg']:g} mg "
                f"daily x {drug['days']} day(s)"
            )
    window = payload["infusion_window_days"]
    if window is not None:
        lines.append(f"  infuse {window[0]}-{window[1]} days after lymphodepletion ends")
    lines.extend(f"  warning: {w}" for w in payload["warnings"])
    lines.extend(f"  note: {n}" for n in payload["notes"])
    return "\n".join(lines)


@domain_errors_as_cli
def run_lymphodepletion(args: argparse.Namespace) -> int:
    on = parse_on(args.on)
    catalog = load_catalog()
    indication = catalog.find_indication(args.product, args.indication)
    plan = lymphodepletion_plan(
        indication,
        args.height_cm,
        args.weight_kg,
        on,
        args.region,
        args.crcl,
        _site_values(args, on),
        crcl_unit=args.crcl_unit,
    )
    payload = {"product": indication.product, **plan.to_dict()}
    emit(args, payload, _ld_human)
    return 0


def register(subparsers: Any) -> None:
    dose = subparsers.add_parser(
        "dose",
        help="the CAR-T cell dose range for a patient's weight",
        description="The label's dose range (CAR-positive viable T cells) for a weight.",
    )
    _common(dose)
    dose.set_defaults(handler=run_dose)
    ld = subparsers.add_parser(
        "lymphodepletion",
        help="the lymphodepletion plan: BSA, daily mg per drug, infusion window",
        description="Body surface area (Mosteller), daily doses per drug and the infusion "
        "window after lymphodepletion.",
    )
    _common(ld)
    ld.add_argument("--height-cm", required=True, type=_number, metavar="H")
    ld.add_argument("--crcl", type=_number, metavar="CLEARANCE", help="creatinine clearance")
    ld.add_argument(
        "--crcl-unit",
        choices=RENAL_UNITS,
        default="mL/min",
        help="the clearance's unit; a site's renal schedule refuses another unit than its own",
    )
    ld.set_defaults(handler=run_lymphodepletion)
