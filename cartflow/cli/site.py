"""``cartflow site phone SLUG NUMBER``: set a site's 24-hour number (the one the patient view
shows after the infusion), as the administrator's page does; audited. An empty NUMBER
("") clears it."""

from __future__ import annotations

import argparse
from typing import Any

from cartflow.cli.common import CliError, add_json_flag, domain_errors_as_cli, emit
from cartflow.cli.django_setup import setup_django


def register(subparsers: Any) -> None:
    site = subparsers.add_parser("site", help="a site's settings")
    commands = site.add_subparsers(dest="site_command", required=True)
    phone = commands.add_parser("phone", help="set the site's 24-hour number")
    phone.add_argument("slug", help="the site's short name, e.g. demo-childrens")
    phone.add_argument("number", help='the number, e.g. "+1 212 555 0100"; "" clears it')
    add_json_flag(phone)
    phone.set_defaults(handler=_phone)


@domain_errors_as_cli
def _phone(args: argparse.Namespace) -> int:
    setup_django()
    from cartflow.clinic.models import Site
    from cartflow.clinic.services.context import RequestMeta
    from cartflow.clinic.services.network import set_emergency_phone

    found = Site.objects.filter(slug=args.slug).first()
    if found is None:
        raise CliError(f"no site {args.slug!r}: `cartflow manage shell` lists Site.objects")
    saved = set_emergency_phone(
        found, args.number, acting_user=None, request_meta=RequestMeta.command_line()
    )
    emit(
        args,
        {"site": saved.slug, "emergency_phone": saved.emergency_phone},
        lambda r: f"{r['site']}: 24-hour number {r['emergency_phone'] or '(none)'}",
    )
    return 0
