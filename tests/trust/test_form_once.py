"""A page form sent twice with its one-time token is answered once and appends once."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from cartflow.clinic.models import Event, IdempotentAnswer
from cartflow.domain.identifiers import parse_identifier
from tests.browser.network import build_network, journey
from tests.clinic.test_pages_journey import Pages

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="form_once" value="([^"]+)"')


@pytest.fixture
def pages() -> Pages:
    built = Pages(build_network(timezone.now()))
    built.register_and_refer()
    return built


def _first_step_form(pages: Pages) -> tuple[str, dict[str, str]]:
    step = journey(pages.net, parse_identifier(pages.coi).barcode)[0]
    page = pages.as_(step.who).get(f"/cases/{pages.coi}/").content.decode()
    tokens = TOKEN.findall(page)
    assert tokens, "the case page's step form carries a one-time token"
    form = pages.form(step)
    form.pop("expected_version")  # not what stops the second post here: the token is
    return step.who, {**form, "form_once": tokens[0]}


def _events(pages: Pages) -> int:
    return Event.objects.filter(case__coi=pages.coi).count()


def test_a_page_form_posted_twice_appends_once_and_answers_the_same(pages: Pages) -> None:
    who, form = _first_step_form(pages)
    before = _events(pages)
    first = pages.as_(who).post(f"/cases/{pages.coi}/step/", form)
    assert first.status_code == 302, first.content.decode()[:2000]
    after_first = _events(pages)
    assert after_first > before
    again = pages.as_(who).post(f"/cases/{pages.coi}/step/", form)
    assert (again.status_code, again["Location"]) == (302, first["Location"])
    assert _events(pages) == after_first
    assert IdempotentAnswer.objects.filter(key=f"form:{form['form_once']}").count() == 1


def test_the_same_token_with_other_values_is_refused_and_records_nothing(pages: Pages) -> None:
    who, form = _first_step_form(pages)
    assert pages.as_(who).post(f"/cases/{pages.coi}/step/", form).status_code == 302
    count = _events(pages)
    changed = {**form, "occurred_at": form.get("occurred_at", "") + "x"}
    refused = pages.as_(who).post(f"/cases/{pages.coi}/step/", changed)
    assert refused.status_code == 409
    assert "already sent with other values" in refused.content.decode()
    assert _events(pages) == count


def test_each_rendered_form_gets_a_new_token(pages: Pages) -> None:
    step = journey(pages.net, parse_identifier(pages.coi).barcode)[0]
    one = TOKEN.findall(pages.as_(step.who).get(f"/cases/{pages.coi}/").content.decode())
    two = TOKEN.findall(pages.as_(step.who).get(f"/cases/{pages.coi}/").content.decode())
    assert one and two and set(one).isdisjoint(two)
