"""``cartflow plan show|accept|release COI``: the plan on a case, through the same service as
the coordinator's page and the API (``clinic/services/plans.py``).

``--as USER`` names the user who acts; they must hold a role at the case's sites that may do
it, exactly as on the page.
"""

from __future__ import annotations

import argparse
from typing import Any

from cartflow.cli.common import CliError, add_json_flag, domain_errors_as_cli, emit
from cartflow.cli.django_setup import setup_django


def add_commands(plan: argparse.ArgumentParser) -> None:
    """``show``, ``accept`` and ``release`` under ``cartflow plan`` (which alone still plans
    the network)."""
    commands = plan.add_subparsers(dest="plan_command", metavar="CASE COMMAND")
    commands.required = False
    show = commands.add_parser("show", help="a case's proposed and accepted plan")
    show.add_argument("coi", metavar="COI")
    show.add_argument("--as", dest="user", required=True, metavar="USER")
    add_json_flag(show)
    show.set_defaults(handler=_show)
    accept = commands.add_parser(
        "accept", help="accept a case's proposed plan (books the chair and manufacturing slot)"
    )
    accept.add_argument("coi", metavar="COI")
    accept.add_argument("--as", dest="user", required=True, metavar="USER")
    accept.add_argument("--proposal", default="", help="the proposal shown by `plan show`")
    add_json_flag(accept)
    accept.set_defaults(handler=_accept)
    release = commands.add_parser("release", help="release a case's plan to re-plan it")
    release.add_argument("coi", metavar="COI")
    release.add_argument("--as", dest="user", required=True, metavar="USER")
    release.add_argument("--reason", required=True)
    add_json_flag(release)
    release.set_defaults(handler=_release)


def _case(args: argparse.Namespace, action: str) -> tuple[Any, Any]:
    setup_django()
    from django.contrib.auth import get_user_model

    from cartflow.clinic import access
    from cartflow.clinic.services.errors import NotFound

    user = get_user_model().objects.filter(username=args.user, is_active=True).first()
    if user is None:
        raise CliError(f"no active user {args.user!r}")
    try:
        return access.get_case_for_user(user, args.coi, action), user
    except NotFound:
        raise CliError(f"no therapy case {args.coi} that {args.user} may see") from None
    except access.Forbidden:
        who = args.user
        raise CliError(f"{who} holds no role at this case's sites that may {action}") from None


def _show_text(p: dict[str, Any]) -> str:
    lines = [f"case {p['coi']}, today {p['today']}"]
    if p["accepted"]:
        a = p["accepted"]
        lines.append(f"accepted plan ({a['status']}):")
        lines += [f"  {leg['leg']:<22} {leg['on']}" for leg in a["legs"]]
    if p["proposed"]:
        q = p["proposed"]
        lines.append(f"proposed plan {q['proposal']} ({q['vein_to_vein_days']} days vein to vein):")
        lines += [f"  {leg['leg']:<22} {leg['on']}" for leg in q["legs"]]
    elif p["no_plan"]:
        lines.append(f"no plan proposed: {p['no_plan']}")
    return "\n".join(lines)


def _jsonable(p: dict[str, Any]) -> dict[str, Any]:
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    loaded: dict[str, Any] = json.loads(json.dumps(p, cls=DjangoJSONEncoder))
    return loaded


@domain_errors_as_cli
def _show(args: argparse.Namespace) -> int:
    case, _user = _case(args, "view_case")
    from cartflow.clinic.api.plans import plan_out

    emit(args, _jsonable(plan_out(case)), _show_text)
    return 0


def _written(args: argparse.Namespace, result: Any, done: str) -> None:
    emit(
        args,
        {"coi": result.case.coi, "step": result.step, "events": [e.type for e in result.events]},
        lambda r: f"{done} for {r['coi']}: {', '.join(r['events'])}; the case is {r['step']}",
    )


@domain_errors_as_cli
def _accept(args: argparse.Namespace) -> int:
    case, user = _case(args, "accept_plan")
    from cartflow.clinic.services import plans
    from cartflow.clinic.services.context import RequestMeta
    from cartflow.clinic.services.errors import Conflict

    try:
        result = plans.accept_plan(
            case,
            acting_user=user,
            proposal=args.proposal,
            request_meta=RequestMeta.command_line(),
        )
    except Conflict as exc:
        raise CliError(str(exc)) from None
    _written(args, result, "plan accepted")
    return 0


@domain_errors_as_cli
def _release(args: argparse.Namespace) -> int:
    case, user = _case(args, "release_plan")
    from cartflow.clinic.services import plans
    from cartflow.clinic.services.context import RequestMeta

    result = plans.release_plan(
        case, acting_user=user, reason=args.reason, request_meta=RequestMeta.command_line()
    )
    _written(args, result, "plan released")
    return 0
