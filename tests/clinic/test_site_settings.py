"""The site's 24-hour number, kept by the site's administrator: a page (in both languages),
the command line and the same audited service (the patient view and wallet card read
``Site.emergency_phone``: ``test_patient_pages.py``)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from cartflow.cli import main
from cartflow.clinic import access, services
from cartflow.clinic.models import AuditRow, Site
from cartflow.clinic.services.network import set_emergency_phone
from cartflow.domain.errors import InvalidInput
from tests.clinic.fixtures import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def site_admin(django_user_model: Any, center: Site, admin_user: Any) -> Any:
    user = django_user_model.objects.create_user("site-admin", password=PASSWORD)
    services.grant_role(user, center, "admin", acting_user=admin_user)
    return user


def signed_in(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.get_username(), password=PASSWORD)
    return client


def test_the_admin_changes_the_number_sees_it_confirmed_and_the_audit_keeps_the_old_one(
    center: Site, site_admin: Any
) -> None:
    center.emergency_phone = "+49 30 1111"
    center.save()
    client = signed_in(site_admin)
    network = client.get("/network/").content.decode()
    assert f'href="/sites/{center.slug}/"' in network and "+49 30 1111" in network
    answer = client.post(f"/sites/{center.slug}/", {"emergency_phone": " +49 30 450 50 "})
    assert answer.status_code == 302
    page = client.get(answer["Location"]).content.decode()
    assert "Saved: the 24-hour number of Test Center North is now +49 30 450 50." in page
    center.refresh_from_db()
    assert center.emergency_phone == "+49 30 450 50"
    row = AuditRow.objects.filter(operation="set_emergency_phone").get()
    assert row.summary == {"site": center.slug, "from": "+49 30 1111", "to": "+49 30 450 50"}
    assert row.username == "site-admin"


@pytest.mark.parametrize("bad", ["call the ward", "12", "+1 " + "5" * 45, "555-0100 ext. 4"])
def test_a_wrong_number_is_refused_with_a_plain_message_and_nothing_changes(
    center: Site, site_admin: Any, bad: str
) -> None:
    answer = signed_in(site_admin).post(f"/sites/{center.slug}/", {"emergency_phone": bad})
    assert answer.status_code == 422
    assert "a telephone number: digits, spaces" in answer.content.decode()
    center.refresh_from_db()
    assert center.emergency_phone == ""
    assert not AuditRow.objects.filter(operation="set_emergency_phone").exists()


def test_only_an_administrator_of_that_site_may_change_it(
    center: Site, other_center: Site, site_admin: Any, physician: Any
) -> None:
    refused = signed_in(physician).post(f"/sites/{center.slug}/", {"emergency_phone": "911"})
    assert refused.status_code == 403
    # an administrator elsewhere: the page answers 403, the service refuses
    assert signed_in(site_admin).get(f"/sites/{other_center.slug}/").status_code == 403
    with pytest.raises(access.Forbidden):
        set_emergency_phone(other_center, "911", acting_user=site_admin)
    assert signed_in(site_admin).get("/sites/no-such-site/").status_code == 404
    # no link to a page the role may not open
    assert "/sites/" not in signed_in(physician).get("/board/").content.decode()


def test_emptying_the_number_clears_it_and_the_patient_view_says_to_ask(
    center: Site, site_admin: Any
) -> None:
    set_emergency_phone(center, "+49 30 450 50", acting_user=site_admin)
    answer = signed_in(site_admin).post(
        f"/sites/{center.slug}/", {"emergency_phone": ""}, follow=True
    )
    assert "has no 24-hour number now" in answer.content.decode()
    center.refresh_from_db()
    assert center.emergency_phone == ""


def test_the_page_in_chinese(center: Site, site_admin: Any) -> None:
    client = signed_in(site_admin)
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    page = client.get(f"/sites/{center.slug}/").content.decode()
    assert "24 小时电话" in page and "保存电话号码" in page
    refused = client.post(f"/sites/{center.slug}/", {"emergency_phone": "x"}).content.decode()
    assert "电话号码" in refused


def test_the_command_line_sets_it_through_the_same_service(
    center: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["site", "phone", center.slug, "+49 30 777", "--json"]) == 0
    assert '"emergency_phone": "+49 30 777"' in capsys.readouterr().out
    center.refresh_from_db()
    assert center.emergency_phone == "+49 30 777"
    assert AuditRow.objects.filter(operation="set_emergency_phone").get().username
    with translation.override("en"):  # as a fresh process answers (a page may set Chinese)
        assert main(["site", "phone", center.slug, "not a number"]) == 2
    assert "a telephone number" in capsys.readouterr().err
    with pytest.raises(InvalidInput):
        set_emergency_phone(center, "abc", acting_user=None)


def test_a_post_without_the_box_changes_nothing(center: Site, site_admin: Any) -> None:
    set_emergency_phone(center, "+49 30 450 50", acting_user=site_admin)
    answer = signed_in(site_admin).post(f"/sites/{center.slug}/", {})
    assert answer.status_code == 422 and "Enter the number in the box" in answer.content.decode()
    center.refresh_from_db()
    assert center.emergency_phone == "+49 30 450 50"
