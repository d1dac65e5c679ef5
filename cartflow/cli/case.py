"""``cartflow case``: the signed ends of a case, deviation review, and what blocks a case,
through the same services as the pages and the API.

    cartflow case blocks COI                       # the next steps' blocks, with their dates
    cartflow case withdraw COI --as USER --reason TEXT
    cartflow case death COI --as USER --reason TEXT
    cartflow case dispose COI --as USER --reason TEXT
    cartflow case review-deviations COI --as USER --numbers 1,2 --comment TEXT

A signed act re-authenticates the signer: the password is read from ``CARTFLOW_PASSWORD``
or asked for (never an argument, so it stays out of the shell's history). A refusal is
printed in the words the pages show (``clinic/refusal_words.py``) and exits with status 2.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from typing import Any

from cartflow.cli.common import CliError, add_json_flag, emit
from cartflow.cli.django_setup import setup_django

SIGNED = {
    "withdraw": ("withdraw_case", "withdrawal of the case"),
    "death": ("record_death", "record of the patient's death"),
    "dispose": ("dispose_product", "disposal of the unused product"),
}


def register(subparsers: Any) -> None:
    case = subparsers.add_parser("case", help="signed ends of a case, deviation review, blocks")
    commands = case.add_subparsers(dest="case_command", metavar="ACTION")
    commands.required = True

    blocks = commands.add_parser("blocks", help="what blocks the case's next steps today")
    blocks.add_argument("coi", help="the case's chain-of-identity identifier")
    add_json_flag(blocks)
    blocks.set_defaults(handler=_blocks)

    for name, (_service, what) in SIGNED.items():
        sub = commands.add_parser(name, help=f"sign the {what}")
        sub.add_argument("coi", help="the case's chain-of-identity identifier")
        sub.add_argument("--as", dest="username", required=True, help="the signer's user name")
        sub.add_argument("--reason", required=True, help="why, in words")
        add_json_flag(sub)
        sub.set_defaults(handler=_signed, act=name)

    review = commands.add_parser("review-deviations", help="review deviations, signed")
    review.add_argument("coi", help="the case's chain-of-identity identifier")
    review.add_argument("--as", dest="username", required=True, help="the reviewer's user name")
    review.add_argument(
        "--numbers", required=True, help="the deviations' numbers on the case, e.g. 1,2"
    )
    review.add_argument("--comment", required=True, help="what was found and what was done")
    add_json_flag(review)
    review.set_defaults(handler=_review)


def _user(username: str) -> Any:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CliError(f"no active user {username!r}: give the user name of the signer")
    return user


def _password() -> str:
    secret = os.environ.get("CARTFLOW_PASSWORD")
    if secret is not None:
        return secret
    if not sys.stdin.isatty():
        raise CliError("signing needs your password: set CARTFLOW_PASSWORD or run in a terminal")
    return getpass.getpass("Your password, entered again to sign: ")


def _case_for(user: Any, coi: str, action: Any) -> Any:
    from cartflow.clinic import access
    from cartflow.clinic.services.errors import NotFound

    try:
        return access.get_case_for_user(user, coi, action)
    except NotFound:
        raise CliError(f"no case {coi!r} that {user.get_username()} may see") from None
    except access.Forbidden:
        raise CliError(f"{user.get_username()} holds no role that may do this on {coi}") from None


def _refused(exc: Exception) -> CliError:
    from cartflow.clinic.refusal_words import refusal_text
    from cartflow.domain.journey import JourneyError

    if isinstance(exc, JourneyError):
        return CliError(f"refused: {refusal_text(exc)} (source: {exc.source})")
    return CliError(f"not recorded: {exc}")


def _record(run: Callable[[], Any]) -> Any:
    from django.utils import translation

    from cartflow.clinic.services.errors import ServiceError
    from cartflow.domain.errors import DomainError

    with translation.override("en"):
        try:
            return run()
        except (DomainError, ServiceError) as exc:
            raise _refused(exc) from exc


def _done(args: argparse.Namespace, case: Any, done: str, result: Any) -> int:
    from cartflow.clinic.case_state import case_state
    from cartflow.clinic.worklist import ROLE_WORDS, waiting_words, waits_on

    case.refresh_from_db()
    state = case_state(case)
    who = ", ".join(str(ROLE_WORDS[r]) for r in waits_on(state))
    payload = {
        "coi": case.coi,
        "recorded": done,
        "step": state.step.value,
        "next": waiting_words(state),
        "by": who,
        "events": [e.hash for e in result.events] if hasattr(result, "events") else [],
    }
    emit(
        args,
        payload,
        lambda p: (
            f"{p['recorded']} on {p['coi']}. "
            + (
                f"Next: {p['next']}" + (f", by {p['by']}." if p["by"] else ".")
                if p["next"]
                else "The case is closed."
            )
        ),
    )
    return 0


def _signed(args: argparse.Namespace) -> int:
    setup_django()
    from cartflow.clinic.services import treatment
    from cartflow.clinic.services.context import RequestMeta
    from cartflow.clinic.services.signatures import printed_name
    from cartflow.domain.roles import Action

    service_name, what = SIGNED[args.act]
    action = {
        "withdraw": Action.WITHDRAW_CASE,
        "death": Action.RECORD_DEATH,
        "dispose": Action.DISPOSE_PRODUCT,
    }[args.act]
    user = _user(args.username)
    case = _case_for(user, args.coi, action)
    password = _password()
    service = getattr(treatment, service_name)
    result = _record(
        lambda: service(
            case,
            acting_user=user,
            request_meta=RequestMeta.command_line(),
            password=password,
            reason=args.reason,
        )
    )
    return _done(args, case, f"Signed by {printed_name(user)}: the {what}", result)


def _review(args: argparse.Namespace) -> int:
    setup_django()
    from cartflow.clinic.services.context import RequestMeta
    from cartflow.clinic.services.deviations import review_deviation
    from cartflow.clinic.services.signatures import printed_name
    from cartflow.domain.roles import Action

    try:
        numbers = [int(n) for n in args.numbers.split(",") if n.strip()]
    except ValueError:
        raise CliError("--numbers: the deviations' numbers, e.g. 1,2") from None
    if not numbers:
        raise CliError("--numbers: the deviations' numbers, e.g. 1,2")
    user = _user(args.username)
    case = _case_for(user, args.coi, Action.REVIEW_DEVIATION)
    password = _password()
    result = _record(
        lambda: review_deviation(
            case,
            numbers,
            comment=args.comment,
            password=password,
            acting_user=user,
            request_meta=RequestMeta.command_line(),
        )
    )
    done = (
        f"Deviation(s) {', '.join(map(str, numbers))} reviewed and signed by {printed_name(user)}"
    )
    return _done(args, case, done, result)


def _blocks(args: argparse.Namespace) -> int:
    setup_django()
    from django.utils import timezone, translation

    from cartflow.clinic.case_banner import foreseen
    from cartflow.clinic.case_state import case_state
    from cartflow.clinic.models import TherapyCase

    case = TherapyCase.objects.filter(coi=args.coi).select_related("projection").first()
    if case is None:
        raise CliError(f"no case {args.coi!r}")
    with translation.override("en"):
        found = foreseen(case_state(case), timezone.now())
    rows = [
        {
            "rule_id": f["rule_id"],
            "blocks": f["blocked"],
            "words": f["words"],
            "source": f["source"],
        }
        for f in found
    ]
    emit(
        args,
        {"coi": case.coi, "foreseen": rows},
        lambda p: (
            "\n".join(
                (f"Not yet possible: {r['blocks']}. " if r["blocks"] else "")
                + f"{r['words']} ({r['source']})"
                for r in p["foreseen"]
            )
            or "Nothing blocks this case's next steps today."
        ),
    )
    return 0
