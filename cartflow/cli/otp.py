"""``cartflow otp enroll|confirm|remove|status USER``: a second factor at signing (TOTP).

``enroll`` makes a new key and prints it with the ``otpauth://`` address an authenticator
app reads (hand both to the user only); ``confirm USER CODE`` turns it on with one code from
the app; from then on every signature of the user needs the app's current code besides the
password. ``remove`` turns it off (a lost phone). Each is audited.
"""

from __future__ import annotations

import argparse
from typing import Any

from cartflow.cli.common import CliError, add_json_flag, emit
from cartflow.cli.django_setup import setup_django


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("otp", help="a second factor (authenticator app) at signing")
    actions = parser.add_subparsers(dest="action", required=True)
    enroll = actions.add_parser("enroll", help="a new key for USER, to confirm with a code")
    enroll.add_argument("username")
    add_json_flag(enroll)
    enroll.set_defaults(handler=_enroll)
    confirm = actions.add_parser("confirm", help="turn USER's new key on with a code from it")
    confirm.add_argument("username")
    confirm.add_argument("code", help="the app's current 6-digit code")
    add_json_flag(confirm)
    confirm.set_defaults(handler=_confirm)
    remove = actions.add_parser("remove", help="USER signs with the password alone again")
    remove.add_argument("username")
    add_json_flag(remove)
    remove.set_defaults(handler=_remove)
    status = actions.add_parser("status", help="whether USER signs with a code")
    status.add_argument("username")
    add_json_flag(status)
    status.set_defaults(handler=_status)


def _meta() -> Any:
    from cartflow.clinic.services.context import RequestMeta

    return RequestMeta.command_line()


def _call(run: Any) -> Any:
    from cartflow.clinic.services.errors import ServiceError
    from cartflow.domain.errors import InvalidInput

    try:
        return run()
    except (ServiceError, InvalidInput) as exc:
        raise CliError(str(exc)) from None


def _enroll(args: argparse.Namespace) -> int:
    setup_django()
    from cartflow.clinic.services import second_factor

    answer = _call(
        lambda: second_factor.enroll(args.username, acting_user=None, request_meta=_meta())
    )
    emit(
        args,
        answer,
        lambda r: (
            f"a new key for {r['user']} (not in use until confirmed):\n"
            f"  key: {r['key']}\n  app address: {r['otpauth']}\n"
            f"then: cartflow otp confirm {r['user']} CODE"
        ),
    )
    return 0


def _confirm(args: argparse.Namespace) -> int:
    setup_django()
    from cartflow.clinic.services import second_factor

    _call(
        lambda: second_factor.confirm(
            args.username, args.code, acting_user=None, request_meta=_meta()
        )
    )
    emit(
        args,
        {"user": args.username, "second_factor": True},
        lambda r: f"{r['user']} now signs with the password and the authenticator app's code",
    )
    return 0


def _remove(args: argparse.Namespace) -> int:
    setup_django()
    from cartflow.clinic.services import second_factor

    removed = _call(
        lambda: second_factor.remove(args.username, acting_user=None, request_meta=_meta())
    )
    emit(
        args,
        {"user": args.username, "removed": removed, "second_factor": False},
        lambda r: f"{r['user']} signs with the password alone ({r['removed']} key(s) removed)",
    )
    return 0


def _status(args: argparse.Namespace) -> int:
    setup_django()
    from django.contrib.auth.models import User

    from cartflow.clinic.services import second_factor

    user = User.objects.filter(username=args.username).first()
    if user is None:
        raise CliError(f"no user {args.username}")
    on = second_factor.needs_code(user)
    emit(
        args,
        {"user": args.username, "second_factor": on},
        lambda r: f"{r['user']} signs with "
        + ("the password and the authenticator app's code" if on else "the password alone"),
    )
    return 0
