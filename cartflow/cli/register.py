"""``cartflow register``: a site's register of signed protocol values.

- ``cartflow register show --site SLUG [--on DATE]``: per product, the facts the catalog does
  not know in the site's region and the values the site signed;
- ``cartflow register sign --site SLUG --user NAME --indication ID --fact FACT --value JSON
  --document REF [--from DATE] [--to DATE]``: sign a value (the password is asked for, or read
  from standard input with ``--password-stdin``); the same service as the page and the API;
- ``cartflow register review --site SLUG [--indication ID --fact FACT --value JSON ...]
  [--catalog PATH] [--on DATE]``: the open cases of the site whose eligibility or dose range
  changes under a proposed value or another catalog version, for a physician's review.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import date
from typing import Any

from cartflow.cli.common import CliError, add_json_flag, domain_errors_as_cli, emit
from cartflow.cli.django_setup import setup_django


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _json_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text  # a word; the domain says what shape the fact needs


def _value_arguments(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument(
        "--indication", required=required, help="e.g. inaticabtagene-autoleucel/b-all"
    )
    parser.add_argument("--fact", required=required, help="e.g. infusion_window_days")
    parser.add_argument("--value", type=_json_value, required=required, help="JSON, e.g. '[2, 14]'")
    parser.add_argument("--document", help="the site's protocol document it comes from")
    parser.add_argument("--from", dest="effective_from", type=_date, help="first day in force")
    parser.add_argument("--to", dest="effective_to", type=_date, help="day it stops (exclusive)")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "register", help="a site's register of signed protocol values: show, sign, review"
    )
    commands = parser.add_subparsers(dest="register_command", metavar="ACTION")
    commands.required = True

    show = commands.add_parser("show", help="unknown facts per product and the signed values")
    show.add_argument("--site", required=True, help="the site's slug")
    show.add_argument("--on", type=_date, help="the date (default: today)")
    add_json_flag(show)
    show.set_defaults(handler=_show)

    sign = commands.add_parser("sign", help="sign a protocol value into the site's register")
    sign.add_argument("--site", required=True, help="the site's slug")
    sign.add_argument("--user", required=True, help="the signer's user name")
    _value_arguments(sign, required=True)
    sign.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    add_json_flag(sign)
    sign.set_defaults(handler=_sign)

    review = commands.add_parser(
        "review",
        help="open cases whose eligibility or dose range changes under a proposed value or "
        "another catalog",
    )
    review.add_argument("--site", required=True, help="the site's slug")
    review.add_argument("--on", type=_date, help="the decision date (default: today)")
    review.add_argument("--catalog", help="another catalog version (a products.json file)")
    _value_arguments(review, required=False)
    add_json_flag(review)
    review.set_defaults(handler=_review)


def _site(slug: str) -> Any:
    from cartflow.clinic.models import Site

    found = Site.objects.filter(slug=slug).first()
    if found is None:
        raise CliError(f"no site {slug!r}")
    return found


def _today(site: Any) -> date:
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    return timezone.now().astimezone(ZoneInfo(site.time_zone)).date()


def _human_show(report: dict[str, Any]) -> str:
    lines = [f"register of {report['site']} (region {report['region']}) on {report['on']}"]
    for product in report["products"]:
        for item in product["indications"]:
            unknown = ", ".join(item["unknown"]) or "none"
            open_ = ", ".join(item["open"]) or "none"
            lines.append(f"{item['indication']}: unknown in the catalog: {unknown}; open: {open_}")
            for s in item["signed"]:
                state = "in force" if s["in_force"] else "superseded" if s["superseded"] else "-"
                lines.append(
                    f"  #{s['seq']} {s['fact']} = {json.dumps(s['value'])} ({s['document_ref']}, "
                    f"from {s['effective_from']}"
                    + (f" until {s['effective_to']}" if s["effective_to"] else "")
                    + f"; {s['signer']}, {s['role']}; {state})"
                )
    return "\n".join(lines)


@domain_errors_as_cli
def _show(args: argparse.Namespace) -> int:
    setup_django()
    from cartflow.clinic.services import site_register

    site = _site(args.site)
    on = args.on or _today(site)
    products = site_register.overview(site, on)
    report = {
        "site": site.slug,
        "region": site.region,
        "on": on.isoformat(),
        "products": [
            {
                "product": p.product,
                "indications": [
                    {
                        "indication": i.indication,
                        "unknown": list(i.unknown),
                        "open": list(i.open_facts),
                        "signed": [
                            {
                                "seq": s.seq,
                                "fact": s.fact,
                                "value": s.value,
                                "document_ref": s.document_ref,
                                "effective_from": s.effective_from.isoformat(),
                                "effective_to": s.effective_to.isoformat()
                                if s.effective_to
                                else None,
                                "signer": s.signer_name,
                                "role": s.signer_role,
                                "in_force": s.in_force,
                                "superseded": s.superseded,
                            }
                            for s in i.signed
                        ],
                    }
                    for i in p.indications
                ],
            }
            for p in products
        ],
    }
    emit(args, report, _human_show)
    return 0


@domain_errors_as_cli
def _sign(args: argparse.Namespace) -> int:
    setup_django()
    from django.contrib.auth import get_user_model

    from cartflow.clinic.services import site_register
    from cartflow.clinic.services.context import RequestMeta
    from cartflow.clinic.services.errors import ServiceError

    site = _site(args.site)
    user = get_user_model().objects.filter(username=args.user, is_active=True).first()
    if user is None:
        raise CliError(f"no active user {args.user!r}")
    if not args.document:
        raise CliError("--document: the site's protocol document the value comes from")
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password of {args.user}, to sign: ")
    try:
        row = site_register.sign_entry(
            site,
            indication=args.indication,
            fact=args.fact,
            value=args.value,
            document_ref=args.document,
            effective_from=args.effective_from or _today(site),
            effective_to=args.effective_to,
            acting_user=user,
            password=password,
            request_meta=RequestMeta.command_line(),
        )
    except ServiceError as exc:
        raise CliError(str(exc)) from exc
    result = {
        "site": site.slug,
        "seq": row.seq,
        "indication": row.indication,
        "fact": row.fact,
        "effective_from": row.effective_from.isoformat(),
        "effective_to": row.effective_to.isoformat() if row.effective_to else None,
        "signer": row.signer_name,
        "role": row.signer_role,
        "hash": row.hash,
    }
    emit(
        args,
        result,
        lambda r: (
            f"signed into the register of {r['site']} as entry {r['seq']}: {r['fact']} "
            f"for {r['indication']}, in force from {r['effective_from']} (signed by {r['signer']}, "
            f"{r['role']})"
        ),
    )
    return 0


def _human_review(report: dict[str, Any]) -> str:
    if not report["changes"]:
        return f"no open case of {report['site']} changes on {report['on']}"
    lines = [f"{len(report['changes'])} change(s) at {report['site']} on {report['on']}:"]
    for c in report["changes"]:
        lines.append(f"{c['coi']} ({c['indication']}, {c['step']}) {c['what']}:")
        lines.append(f"  now:      {c['before']}")
        lines.append(f"  proposed: {c['after']}")
    return "\n".join(lines)


@domain_errors_as_cli
def _review(args: argparse.Namespace) -> int:
    setup_django()
    from cartflow.catalog_file import load_catalog
    from cartflow.clinic.services import site_register

    site = _site(args.site)
    on = args.on or _today(site)
    proposed = None
    if args.fact or args.indication or args.value is not None:
        if not (args.fact and args.indication and args.value is not None):
            raise CliError("a proposed value needs --indication, --fact and --value")
        proposed = {
            "indication": args.indication,
            "fact": args.fact,
            "value": args.value,
            "document_ref": args.document,
            "effective_from": args.effective_from,
            "effective_to": args.effective_to,
        }
    after = load_catalog(args.catalog) if args.catalog else None
    if proposed is None and after is None:
        raise CliError("give a proposed value (--indication, --fact, --value) or --catalog")
    found = site_register.review(site, on, proposed=proposed, catalog_after=after)
    emit(args, {"site": site.slug, "on": on.isoformat(), "changes": found}, _human_review)
    return 0
