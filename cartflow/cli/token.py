"""``cartflow token``: API tokens for systems (a manufacturer's or courier's integration).

``cartflow token issue USERNAME --name NAME`` prints a new token once (only its hash is
stored); the token acts as that user, with that user's roles and sites.
``cartflow token revoke PREFIX`` revokes a token by the prefix shown when it was issued.
"""

from __future__ import annotations

import argparse
from typing import Any

from cartflow.cli.common import CliError, add_json_flag, emit
from cartflow.cli.django_setup import setup_django


def register(subparsers: Any) -> None:
    token = subparsers.add_parser("token", help="issue or revoke API tokens for systems")
    commands = token.add_subparsers(dest="token_command", metavar="ACTION")
    commands.required = True

    issue = commands.add_parser("issue", help="issue a token acting as USERNAME")
    issue.add_argument("username", help="the user the token acts as (their roles and sites)")
    issue.add_argument("--name", required=True, help="what the token is for, e.g. 'MES link'")
    add_json_flag(issue)
    issue.set_defaults(handler=_issue)

    revoke = commands.add_parser("revoke", help="revoke a token by its prefix")
    revoke.add_argument("prefix", help="the prefix printed when the token was issued")
    add_json_flag(revoke)
    revoke.set_defaults(handler=_revoke)


def _user(username: str) -> Any:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CliError(f"no active user {username!r}: give the username of an existing user")
    return user


def _issue(args: argparse.Namespace) -> int:
    setup_django()
    from cartflow.clinic.services.tokens import issue_token

    name = args.name.strip()
    if not name or len(name) > 100:
        raise CliError("--name must be 1 to 100 characters saying what the token is for")
    user = _user(args.username)
    row, token = issue_token(user, name, acting_user=None)
    emit(
        args,
        {"token": token, "prefix": row.prefix, "user": user.get_username(), "name": row.name},
        lambda p: (
            f"{p['token']}\n(acts as {p['user']}; shown once: keep it in the integration's "
            f"secret store; revoke with `cartflow token revoke {p['prefix']}`)"
        ),
    )
    return 0


def _revoke(args: argparse.Namespace) -> int:
    setup_django()
    from cartflow.clinic.models import ApiToken
    from cartflow.clinic.services.tokens import revoke_token

    row = ApiToken.objects.filter(prefix=args.prefix, revoked_at__isnull=True).first()
    if row is None:
        raise CliError(f"no active token with the prefix {args.prefix!r}")
    revoke_token(row, acting_user=None)
    emit(args, {"revoked": row.prefix}, lambda p: f"revoked {p['revoked']}")
    return 0
