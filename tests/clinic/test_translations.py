"""The translation check: pages rendered in Chinese show no English words outside names,
identifiers and units.

It covers the patient and family view at every step a demo case at the children's centre
stands in, its set-up and refusal pages, the sign-in page and the coordinator's access page.
The main staff pages, role by role, are checked in ``test_staff_chinese.py``.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from cartflow.clinic import demo_seed
from cartflow.clinic.models import PatientAccess, Site, TherapyCase
from cartflow.clinic.patient_view import product_name
from cartflow.clinic.services import patient_access as pa
from cartflow.domain.journey.patient_access import AccessRefused

pytestmark = pytest.mark.django_db

ALLOWED = {"CAR-T", "cartflow", "JSON", "API"}
"""Names and acronyms a Chinese page keeps in Latin letters."""
UNIT = re.compile(r"°C|\bmg\b|\bkg\b")
CHECKED_STAFF_PAGES = ("/login/",)
PASSWORD = "a long family passphrase"


class _Text(HTMLParser):
    """The text a reader sees: text nodes and the labels read aloud, not code or styles."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "code"):
            self._skip += 1
        for name, value in attrs:
            if name in ("aria-label", "title", "placeholder", "alt") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "code") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def english_words(html: str, names: list[str]) -> list[str]:
    parser = _Text()
    parser.feed(html)
    text = " ".join(parser.parts)
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, " ")
    text = UNIT.sub(" ", text)
    return [w for w in re.findall(r"[A-Za-z][A-Za-z'’-]*", text) if w not in ALLOWED]


def _names() -> list[str]:
    sites = list(Site.objects.all())
    names = [s.name for s in sites] + [s.emergency_phone for s in sites]
    products = TherapyCase.objects.values_list("product", flat=True).distinct()
    # Each language names itself on the switch.
    names += [product_name(p) for p in products] + ["English"]
    return [n for n in names if n]


def chinese(client: Client) -> Client:
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    return client


@pytest.fixture
def seeded() -> Any:
    return demo_seed.seed()


def test_the_patient_view_shows_no_english_in_chinese_at_any_step(seeded: Any) -> None:
    coordinator = get_user_model().objects.get(username="coordinator")
    names = _names()
    seen: set[str] = set()
    cases = TherapyCase.objects.filter(treating_site__slug="demo-childrens").select_related(
        "projection"
    )
    for number, case in enumerate(cases):
        step = case.projection.step
        if step in seen or PatientAccess.objects.filter(case=case).exists():
            continue
        try:
            issued = pa.issue_patient_access(case, holder="patient", acting_user=coordinator)
        except AccessRefused:  # a closed case opens to nobody
            continue
        seen.add(step)
        client = chinese(Client())
        setup = client.get(f"/access/{issued.token}/").content.decode()
        assert english_words(setup, names) == [], ("set-up", step)
        pa.set_up_patient_access(issued.token, username=f"zh-check-{number}", password=PASSWORD)
        assert client.login(username=f"zh-check-{number}", password=PASSWORD)
        for path in ("/my/", "/my/card/"):
            html = client.get(path).content.decode()
            assert english_words(html, names) == [], (path, step)
    assert len(seen) >= 10, seen
    refused = chinese(Client()).get("/access/no-such-link/").content.decode()
    assert english_words(refused, names) == []


def test_the_sign_in_and_the_coordinator_s_access_page_show_no_english(seeded: Any) -> None:
    names = _names()
    client = chinese(Client())
    for path in CHECKED_STAFF_PAGES:
        assert english_words(client.get(path).content.decode(), names) == [], path
    assert client.login(username="coordinator", password="demo-coordinator")
    case = TherapyCase.objects.filter(treating_site__slug="demo-childrens").first()
    assert case is not None
    html = client.get(f"/cases/{case.coi}/patient-access/").content.decode()
    signed_in = ["Demo Coordinator", "coordinator", case.coi]  # names and the identifier
    assert english_words(html, names + signed_in) == []
