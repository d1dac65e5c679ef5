"""``cartflow catalog``: what the product catalog knows, by indication and region."""

from __future__ import annotations

import argparse
from typing import Any

from cartflow.catalog_file import load_catalog
from cartflow.cli.common import add_json_flag, domain_errors_as_cli, emit, parse_on
from cartflow.domain.catalog import Catalog
from cartflow.domain.catalog_summary import approval_rows, markdown_table, unknown_counts


def _catalog(args: argparse.Namespace) -> Catalog:
    return load_catalog(args.catalog) if args.catalog else load_catalog()


@domain_errors_as_cli
def run_table(args: argparse.Namespace) -> int:
    catalog = _catalog(args)
    on = parse_on(args.on) if args.on else catalog.as_of
    payload = {
        "catalog_version": catalog.version,
        "on": on.isoformat(),
        "unknown": unknown_counts(catalog).to_dict(),
        "rows": [row.to_dict() for row in approval_rows(catalog, on)],
    }
    emit(args, payload, lambda _: markdown_table(catalog, on))
    return 0


@domain_errors_as_cli
def run_unknowns(args: argparse.Namespace) -> int:
    catalog = _catalog(args)
    counts = unknown_counts(catalog)
    payload = {"catalog_version": catalog.version, **counts.to_dict()}
    emit(args, payload, lambda _: f"catalog {catalog.version}: {counts.sentence()}")
    return 0


def _common(parser: Any) -> None:
    parser.add_argument(
        "--catalog", metavar="FILE", help="a catalog data file (default: the packaged one)"
    )
    add_json_flag(parser)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "catalog",
        help="what the product catalog knows",
        description="What the product catalog knows: every approval by region, and the facts "
        "it does not know.",
    )
    commands = parser.add_subparsers(dest="catalog_command", metavar="COMMAND")
    commands.required = True
    table = commands.add_parser(
        "table",
        help="every product and indication by region: approval date and unknown facts",
        description="Every product and indication by region, with its approval date and how "
        "many of its facts in force are unknown, as the Markdown table of docs/catalog.md.",
    )
    table.add_argument(
        "--on", metavar="YYYY-MM-DD", help="the facts in force on this date (default: as_of)"
    )
    _common(table)
    table.set_defaults(handler=run_table)
    unknowns = commands.add_parser(
        "unknowns",
        help="count the fact versions the catalog stores as unknown",
        description="Count the fact versions the catalog stores as unknown (UNCONFIRMED).",
    )
    _common(unknowns)
    unknowns.set_defaults(handler=run_unknowns)
