"""The language machinery: the committed catalogues are current, the switch remembers the
choice, and a page answers in the chosen language."""

from __future__ import annotations

import gettext
import shutil
import subprocess
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
LOCALES = sorted((ROOT / "cartflow" / "locale").glob("*/LC_MESSAGES/django.po"))


def _catalog(mo: Path) -> dict[object, str]:
    with mo.open("rb") as handle:
        return dict(gettext.GNUTranslations(handle)._catalog)  # type: ignore[attr-defined]


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext (msgfmt) is not here")
@pytest.mark.parametrize("po", LOCALES, ids=lambda p: p.parts[-3])
def test_the_committed_compiled_catalogue_matches_its_source(po: Path, tmp_path: Path) -> None:
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", str(fresh), str(po)], check=True)
    assert _catalog(po.with_suffix(".mo")) == _catalog(fresh), "run `make messages`"


def test_every_catalogue_is_translated_throughout() -> None:
    for po in LOCALES:
        text = po.read_text(encoding="utf-8")
        entries = text.split("\n\n", 1)[1]
        # msgfmt leaves a fuzzy entry out: its page would stay in English.
        assert "fuzzy" not in entries, f"{po}: a fuzzy entry (check it, then drop the flag)"
        assert '\nmsgstr ""\n\n' not in text.split("\n\n", 1)[1] + "\n", f"{po}: untranslated"


@pytest.mark.django_db
def test_the_language_switch_remembers_the_choice() -> None:
    client = Client()
    assert "Sign in" in client.get("/login/").content.decode()
    answer = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/login/"})
    assert answer.status_code == 302
    page = client.get("/login/").content.decode()
    assert "登录" in page and 'lang="zh-Hans"' in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert "Sign in" in client.get("/login/").content.decode()


@pytest.mark.django_db
def test_a_browser_asking_for_chinese_gets_chinese() -> None:
    page = Client().get("/login/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert "用户名" in page
