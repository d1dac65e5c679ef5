"""An optional second factor at signing: an authenticator app's code (TOTP, django-otp).

A user enrolled and confirmed signs with the password and the app's current code, from a
page form or through the API's header; the signature records ``password+totp``. Without the
code, with a wrong one, or with one used already, nothing is signed. A user not enrolled signs
with the password alone. Enrolling, confirming and removing are audited.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from cartflow.cli import main as cli_main
from cartflow.clinic import services
from cartflow.clinic.models import AuditRow, Event, Signature, TherapyCase
from cartflow.clinic.services import second_factor
from cartflow.clinic.services.context import RequestMeta
from cartflow.clinic.services.errors import SignatureRefused
from cartflow.domain.errors import InvalidInput
from tests.clinic.fixtures import PASSWORD
from tests.clinic.test_site_register import CNCT19, cn_center, cn_physician  # noqa: F401

pytestmark = pytest.mark.django_db

META = RequestMeta.command_line()


def _code(device: TOTPDevice, steps_ahead: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def _delay_passed(device: TOTPDevice) -> None:
    """As if the delay django-otp set after a wrong code had passed."""
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()


def _enrolled(user: Any) -> TOTPDevice:
    second_factor.enroll(user.username, acting_user=None, request_meta=META)
    pending = TOTPDevice.objects.get(user=user, confirmed=False)
    second_factor.confirm(user.username, _code(pending), acting_user=None, request_meta=META)
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    # the confirming code is spent: a signature needs the next one
    return device


def _sign(client: Client, case: TherapyCase, headers: dict[str, str]) -> Any:
    event = Event.objects.get(case=case, seq=1)
    return client.post(
        f"/api/cases/{case.coi}/events/{event.hash}/signatures",
        data=json.dumps({"password": PASSWORD, "meaning": "review"}),
        content_type="application/json",
        headers=headers,
    )


def test_a_user_not_enrolled_signs_with_the_password_alone(
    case: TherapyCase, physician: Any
) -> None:
    signature = services.sign(physician, PASSWORD, "review", Event.objects.get(case=case, seq=1))
    assert signature.method == "password"


def test_an_enrolled_signer_needs_the_app_s_current_code_through_the_api(
    case: TherapyCase, physician: Any
) -> None:
    device = _enrolled(physician)
    client = Client()
    client.force_login(physician)

    missing = _sign(client, case, {})
    assert missing.status_code == 403
    assert "6-digit code of the authenticator app" in missing.json()["detail"]

    wrong = _sign(client, case, {"X-Authenticator-Code": "000000"})
    assert wrong.status_code == 403
    assert Signature.objects.count() == 0

    _delay_passed(device)
    right = _sign(client, case, {"X-Authenticator-Code": _code(device, steps_ahead=1)})
    assert right.status_code == 201, right.content
    assert Signature.objects.get().method == "password+totp"


def test_a_wrong_code_delays_even_the_right_one(case: TherapyCase, physician: Any) -> None:
    device = _enrolled(physician)
    client = Client()
    client.force_login(physician)
    assert _sign(client, case, {"X-Authenticator-Code": "000000"}).status_code == 403
    throttled = _sign(client, case, {"X-Authenticator-Code": _code(device, steps_ahead=1)})
    assert throttled.status_code == 403
    assert "too many wrong codes" in throttled.json()["detail"]


def test_a_code_is_accepted_once(case: TherapyCase, physician: Any) -> None:
    device = _enrolled(physician)
    client = Client()
    client.force_login(physician)
    code = _code(device, steps_ahead=1)
    assert _sign(client, case, {"X-Authenticator-Code": code}).status_code == 201
    again = _sign(client, case, {"X-Authenticator-Code": code})
    assert again.status_code == 403
    assert Signature.objects.count() == 1


def test_a_page_form_asks_an_enrolled_signer_for_the_code(physician: Any, center: Any) -> None:
    client = Client()
    client.force_login(physician)
    page = f"/sites/{center.slug}/register/"
    assert 'name="authenticator_code"' not in client.get(page).content.decode()
    _enrolled(physician)
    assert 'name="authenticator_code"' in client.get(page).content.decode()


def test_enrolling_confirming_and_removing_are_audited(physician: Any) -> None:
    answer = second_factor.enroll(physician.username, acting_user=None, request_meta=META)
    assert answer["otpauth"].startswith("otpauth://totp/")
    assert "issuer=cartflow" in answer["otpauth"]
    assert not second_factor.needs_code(physician)  # not in use until confirmed
    with pytest.raises(InvalidInput, match="current code"):
        second_factor.confirm(physician.username, "000000", acting_user=None, request_meta=META)
    pending = TOTPDevice.objects.get(user=physician)
    _delay_passed(pending)
    second_factor.confirm(physician.username, _code(pending), acting_user=None, request_meta=META)
    assert second_factor.needs_code(physician)
    assert second_factor.remove(physician.username, acting_user=None, request_meta=META) == 1
    assert not second_factor.needs_code(physician)
    operations = list(AuditRow.objects.order_by("seq").values_list("operation", flat=True))
    assert operations[-3:] == [
        "second_factor_enrolled",
        "second_factor_confirmed",
        "second_factor_removed",
    ]


def test_a_missing_code_refuses_in_the_service_too(case: TherapyCase, physician: Any) -> None:
    _enrolled(physician)
    with pytest.raises(SignatureRefused, match="authenticator app"):
        services.sign(physician, PASSWORD, "review", Event.objects.get(case=case, seq=1))


def test_the_command_line_enrols_and_says_what_to_do_next(
    physician: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["otp", "status", physician.username]) == 0
    assert "password alone" in capsys.readouterr().out
    assert cli_main(["otp", "enroll", physician.username]) == 0
    out = capsys.readouterr().out
    assert "otpauth://totp/" in out and f"cartflow otp confirm {physician.username}" in out
    assert cli_main(["otp", "confirm", physician.username, "12"]) == 2
    assert "current code" in capsys.readouterr().err
    assert cli_main(["otp", "enroll", "nobody-here"]) == 2


def test_a_page_signature_without_the_code_is_refused_and_with_it_signed(
    cn_center: Any,  # noqa: F811
    cn_physician: Any,  # noqa: F811
) -> None:
    device = _enrolled(cn_physician)
    client = Client()
    client.force_login(cn_physician)
    form = {
        "indication": CNCT19,
        "fact": "infusion_window_days",
        "value": "[2, 14]",
        "document_ref": "EAST-SOP-window (synthetic)",
        "effective_from": "2026-01-01",
        "password": PASSWORD,
    }
    page = f"/sites/{cn_center.slug}/register/"
    refused = client.post(page, form)
    assert "6-digit code of the authenticator app" in refused.content.decode()
    signed = client.post(
        page, {**form, "authenticator_code": _code(device, steps_ahead=1)}, follow=True
    )
    assert "Signed into the register of Test Center East" in signed.content.decode()


def test_every_request_is_known_to_the_services_it_calls() -> None:
    from django.conf import settings
    from django.http import HttpResponse
    from django.test import RequestFactory

    from cartflow.clinic.request_context import CurrentRequestMiddleware
    from cartflow.clinic.services.context import current_request

    seen = []
    middleware = CurrentRequestMiddleware(
        lambda request: seen.append(current_request.get()) or HttpResponse()
    )
    request = RequestFactory().post("/", {"authenticator_code": "123 456"})
    middleware(request)
    assert seen == [request] and current_request.get() is None
    assert second_factor.code_from(seen[0]) == "123456"
    assert "cartflow.clinic.request_context.CurrentRequestMiddleware" in settings.MIDDLEWARE
