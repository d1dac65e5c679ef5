"""A second factor at signing: a time-based code (TOTP, RFC 6238) through django-otp.

Optional, per user: an administrator enrols a user who signs (``cartflow otp enroll``), the
user adds the key to an authenticator app and confirms it with one code (``cartflow otp
confirm``). From then on every signature of that user needs, besides the password, the app's
current code: from a page, in the signing form's code field; through the API, in the
``X-Authenticator-Code`` header (the second person at a bedside:
``X-Second-Authenticator-Code``). The signature records the method, ``password+totp``. A user
without a confirmed key signs with the password alone, as before. django-otp refuses a code
used once already and, after a wrong one, any code for a growing delay; the wrong passwords
are counted by django-axes as for every signing.
"""

from __future__ import annotations

import base64
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from cartflow.clinic.services.context import RequestMeta
from cartflow.clinic.services.errors import NotFound, SignatureRefused
from cartflow.domain.errors import InvalidInput

METHOD_PASSWORD_TOTP = "password+totp"
CODE_FIELD = "authenticator_code"
CODE_HEADER = "X-Authenticator-Code"
SECOND_CODE_FIELD = "second_authenticator_code"
SECOND_CODE_HEADER = "X-Second-Authenticator-Code"
DEVICE_NAME = "authenticator app"


def confirmed_device(user: Any) -> TOTPDevice | None:
    if getattr(user, "pk", None) is None:
        return None
    device: TOTPDevice | None = (
        TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).order_by("pk").first()
    )
    return device


def needs_code(user: Any) -> bool:
    """Whether ``user`` signs with a code from an authenticator app besides the password."""
    return confirmed_device(user) is not None


def code_from(request: Any, *, second_person: bool = False) -> str:
    """The code a page form or an API request carries (the form field, else the header)."""
    field, header = (
        (SECOND_CODE_FIELD, SECOND_CODE_HEADER) if second_person else (CODE_FIELD, CODE_HEADER)
    )
    posted = getattr(request, "POST", None)
    code = posted.get(field, "") if posted is not None else ""
    if not code:
        headers = getattr(request, "headers", None)
        code = headers.get(header, "") if headers is not None else ""
    return "".join(str(code).split())  # "123 456" as an app shows it


def check_code(user: Any, request: Any, *, second_person: bool = False) -> str | None:
    """For a user with a confirmed key: the request's code checked, :class:`SignatureRefused`
    when it is missing or wrong; the method to record, or ``None`` for a user without one."""
    device = confirmed_device(user)
    if device is None:
        return None
    code = code_from(request, second_person=second_person)
    if not code:
        raise SignatureRefused(
            _(
                "signing needs the 6-digit code of the authenticator app too: nothing was "
                "signed"
            )
        )
    allowed, _why = device.verify_is_allowed()
    if not allowed:  # django-otp's growing delay after a wrong code
        raise SignatureRefused(
            _(
                "too many wrong codes from the authenticator app: wait a minute and use the "
                "next code; nothing was signed"
            )
        )
    if not device.verify_token(code):
        raise SignatureRefused(
            _(
                "the code of the authenticator app is not correct (or was used already): "
                "nothing was signed"
            )
        )
    return METHOD_PASSWORD_TOTP


def _user(username: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        raise NotFound(f"no user {username}")
    return user


def enroll(username: str, *, acting_user: User | None, request_meta: RequestMeta) -> dict[str, str]:
    """A new, unconfirmed key for ``username`` (any earlier unconfirmed one is dropped).

    The answer holds the key (base32) and the ``otpauth://`` address an app reads: hand them
    to the user only. The key in use, if any, stays until the new one is confirmed.
    """
    from cartflow.clinic.services.records import write_audit

    user = _user(username)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
        write_audit(
            "second_factor_enrolled",
            acting_user=acting_user,
            request_meta=request_meta,
            summary={"user": username[:150]},
        )
    secret = base64.b32encode(device.bin_key).decode()
    return {"user": username, "key": secret, "otpauth": str(device.config_url)}


def confirm(
    username: str, code: str, *, acting_user: User | None, request_meta: RequestMeta
) -> None:
    """The user's new key confirmed with a code from the app; it replaces any key before."""
    from cartflow.clinic.services.records import write_audit

    user = _user(username)
    pending = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if pending is None:
        raise InvalidInput(f"{username} has no key waiting: run `cartflow otp enroll` first")
    if not pending.verify_token("".join(code.split())):
        raise InvalidInput(
            "code: not the app's current code for the new key (6 digits, changing every 30 s)"
        )
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        pending.confirmed = True
        pending.save(update_fields=["confirmed"])
        write_audit(
            "second_factor_confirmed",
            acting_user=acting_user,
            request_meta=request_meta,
            summary={"user": username[:150]},
        )


def remove(username: str, *, acting_user: User | None, request_meta: RequestMeta) -> int:
    """Every key of the user removed (a lost phone): they sign with the password alone."""
    from cartflow.clinic.services.records import write_audit

    user = _user(username)
    with transaction.atomic():
        removed, _by_model = TOTPDevice.objects.filter(user=user).delete()
        write_audit(
            "second_factor_removed",
            acting_user=acting_user,
            request_meta=request_meta,
            summary={"user": username[:150], "removed": removed},
        )
    return int(removed)
