"""Every page of the demo network, for every role, reads as words: no Python value, no code
name, no catalog identifier where a name belongs; and no page offers a link that answers 403,
404 or a server error.

The crawl starts at each role's landing page and follows the links the pages offer (at most
two pages of each shape, e.g. two case pages, so the sweep stays quick). Text inside ``code``
and ``pre`` (identifiers, the auditor's raw event) and form values are not prose, and are
not read.
"""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client

from cartflow.clinic import demo_seed
from cartflow.clinic.services.machine import catalog

pytestmark = pytest.mark.django_db

ROLES = (
    "coordinator",
    "physician",
    "apheresis",
    "manufacturing",
    "courier",
    "pharmacy",
    "quality",
    "auditor",
    "admin",
)
SKIP = ("/static/", "/api/", "/logout/", "/i18n/", "/my/", "/access/")
PER_SHAPE = 2
PYTHON = re.compile(r"\{'|\['|\bTrue\b|\bFalse\b|\bNone\b")
SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
OPAQUE = re.compile(r"/[0-9A-Z]{10,}|/[0-9a-f-]{36}")


class _Text(HTMLParser):
    """The text a reader sees: text nodes and the labels read aloud, not code or styles."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "code", "pre", "textarea"):
            self._skip += 1
        for name, value in attrs:
            if name in ("aria-label", "title", "placeholder", "alt") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "code", "pre", "textarea") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def identifiers() -> list[str]:
    cat = catalog()
    ids = [i.id for i in cat.indications()]
    ids += [p.id for p in cat.products if "-" in p.id]
    return sorted(ids, key=len, reverse=True)


def problems(text: str) -> list[str]:
    found = [m.group(0) for m in PYTHON.finditer(text)]
    found += [m.group(0) for m in SNAKE.finditer(text)]
    found += [i for i in identifiers() if i in text]
    return found


def _shape(path: str) -> str:
    return OPAQUE.sub("/*", path)


def crawl(client: Client, start: str) -> dict[str, tuple[int, str]]:
    """Every page reachable from ``start`` by links, at most PER_SHAPE of each shape."""
    seen: dict[str, tuple[int, str]] = {}
    shapes: dict[str, int] = {}
    queue = deque([start])
    while queue:
        url = queue.popleft()
        if url in seen:
            continue
        shape = _shape(url.split("#")[0])
        if shapes.get(shape, 0) >= PER_SHAPE:
            continue
        shapes[shape] = shapes.get(shape, 0) + 1
        answer = client.get(url, follow=True)
        html = answer.content.decode() if answer.status_code == 200 else ""
        seen[url] = (answer.status_code, html)
        for link in re.findall(r'href="(/[^"#?]*)', html):
            if not link.startswith(SKIP) and link not in seen:
                queue.append(link)
    return seen


@pytest.fixture
def seeded() -> Any:
    return demo_seed.seed()


def test_no_page_shows_a_python_value_a_code_name_or_a_catalog_identifier(seeded: Any) -> None:
    failures: list[str] = []
    for username in ROLES:
        client = Client()
        assert client.login(username=username, password=demo_seed.password_for(username))
        for url, (status, html) in crawl(client, "/").items():
            if status in (403, 404) or status >= 500:
                failures.append(f"{username} {url}: offered link answered {status}")
                continue
            found = problems(visible_text(html))
            if found:
                failures.append(f"{username} {url}: {sorted(set(found))[:8]}")
    assert not failures, "\n".join(failures)
