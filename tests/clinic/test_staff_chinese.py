"""The staff pages in Simplified Chinese: every entry of the Chinese catalogue is translated,
and the main staff pages, rendered in Chinese for the roles that work on them, show no
English sentence of the English catalogue and no English word outside names, identifiers,
numbers and units.

The pages come from a crawl of the demo network (each role's landing page and the links it
offers, at most two pages of a shape), the same crawl as the visible-text check.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from cartflow.clinic import demo_seed
from cartflow.clinic.case_state import case_state
from cartflow.clinic.models import Patient, Site, TherapyCase
from cartflow.clinic.services import treatment
from cartflow.clinic.services.machine import catalog
from cartflow.domain.identifiers import parse_identifier
from tests.clinic.test_visible_text import _Text, crawl

ROOT = Path(__file__).resolve().parents[2]
CHINESE_PO = ROOT / "cartflow" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"

ROLES = ("coordinator", "physician", "apheresis", "manufacturing", "pharmacy", "quality", "admin")
MAIN_PAGES = re.compile(
    r"^/$|^/board/$|^/cases/[^/]+/$|^/quality/$|^/cases/[^/]+/bedside/$"
    r"|^/cases/[^/]+/(labels|audit|patient-access)/$|^/sites/[^/]+/(registry/)?$"
    r"|^/network/$|^/patients/$|^/patients/new/$|^/audit/$"
    r"|^/cases/[^/]+/plan/$|^/capacity/$|^/register/$"
)
"""The main staff pages (work queue, board, case, quality, bedside) and the pages beside them
a role's links lead to. Not among them: the eligibility page (it shows the domain's
eligibility reasons, worded in English in the domain), a patient's page (its referral form
offers the catalog's indication titles, which the catalog words in English) and a site's
register of protocol values (its products are listed by the catalog's indication titles, and
a signed renal schedule is described in the domain's English words)."""
ALLOWED = {"CAR-T", "cartflow", "BiPAP", "qPCR"}
"""Names, acronyms and instrument names a Chinese page keeps in Latin letters."""
UNIT = re.compile(
    r"°C|\bmg/m2\b|\bmg\b|\bkg\b|\bcopies/µg\b|\bµg\b|\bL/min\b|\bcm\b|\bd\b"
    r"|\bAUC\S*|\bCmax\b|\bTmax\b|\b[A-Z]{2,}[0-9]*\b"
)
"""Units, and acronyms in capitals (CRS, ICANS, DIN, ISBT, LLOQ, CDT, EEG) kept as written."""


class _Shown(_Text):
    """The visible text, less what the page marks ``translate="no"``: text a person recorded
    (a method, a reason, a storage place), shown as written in any language."""

    def __init__(self) -> None:
        super().__init__()
        self._kept: list[str] = []  # the open elements: "no" for a translate="no" one

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "input", "img", "meta", "link", "hr"):
            return super().handle_starttag(tag, attrs)
        self._kept.append("no" if ("translate", "no") in attrs else tag)
        super().handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if self._kept:
            self._kept.pop()
        super().handle_endtag(tag)

    def handle_data(self, data: str) -> None:
        if "no" not in self._kept:
            super().handle_data(data)


def visible_text(html: str) -> str:
    parser = _Shown()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def _unquote(line: str) -> str:
    quoted = line[line.index('"') + 1 : line.rindex('"')]
    return re.sub(r"\\(.)", lambda m: ESCAPES.get(m.group(1), m.group(0)), quoted)


def catalogue_entries(po: Path) -> list[dict[str, Any]]:
    """The entries of a .po file: msgid, msgid_plural, the msgstr forms, flags."""
    entries: list[dict[str, Any]] = []
    entry: dict[str, Any] = {"flags": set(), "msgstr": {}}
    key: tuple[str, int] | None = None
    for raw in [*po.read_text(encoding="utf-8").splitlines(), ""]:
        line = raw.strip()
        if not line:
            if "msgid" in entry:
                entries.append(entry)
            entry, key = {"flags": set(), "msgstr": {}}, None
        elif line.startswith("#,"):
            entry["flags"] |= {f.strip() for f in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith("msgid_plural "):
            entry["msgid_plural"], key = _unquote(line), ("msgid_plural", 0)
        elif line.startswith("msgid "):
            entry["msgid"], key = _unquote(line), ("msgid", 0)
        elif line.startswith("msgstr["):
            number = int(line[7 : line.index("]")])
            entry["msgstr"][number], key = _unquote(line), ("msgstr", number)
        elif line.startswith("msgstr "):
            entry["msgstr"][0], key = _unquote(line), ("msgstr", 0)
        elif line.startswith('"') and key is not None:
            if key[0] == "msgstr":
                entry["msgstr"][key[1]] += _unquote(line)
            else:
                entry[key[0]] += _unquote(line)
    return [e for e in entries if e["msgid"]]  # the header has an empty msgid


def test_every_chinese_entry_has_a_translation_and_none_is_fuzzy() -> None:
    entries = catalogue_entries(CHINESE_PO)
    assert len(entries) > 400
    failures = [
        e["msgid"]
        for e in entries
        if "fuzzy" in e["flags"]
        or not e["msgstr"]
        or any(not text.strip() for text in e["msgstr"].values())
        or (e["msgstr"].get(0) == e["msgid"] and re.search(r"[a-z]{3}", e["msgid"]))
    ]
    assert failures == [], failures[:20]


def test_the_catalogue_parser_reads_plural_multiline_and_fuzzy_entries(tmp_path: Path) -> None:
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: zh_Hans\\n"\n\n'
        '#, fuzzy\nmsgid "one"\nmsgstr "一"\n\n'
        'msgid ""\n"two "\n"lines"\nmsgstr ""\n"两行"\n\n'
        'msgid "%(n)s case"\nmsgid_plural "%(n)s cases"\nmsgstr[0] ""\n',
        encoding="utf-8",
    )
    one, two, plural = catalogue_entries(po)
    assert one["flags"] == {"fuzzy"} and one["msgstr"] == {0: "一"}
    assert two["msgid"] == "two lines" and two["msgstr"] == {0: "两行"}
    assert plural["msgid_plural"] == "%(n)s cases" and plural["msgstr"] == {0: ""}


def english_sentences() -> list[str]:
    """The catalogue's English texts of three words or more, cut at their placeholders and
    markup into the runs of words a page would show."""
    runs: set[str] = set()
    for entry in catalogue_entries(CHINESE_PO):
        for text in (entry["msgid"], entry.get("msgid_plural", "")):
            for run in re.split(r"%\(\w+\)[sd]|%[sd]|\{\{[^}]*\}\}|<[^>]+>|[:;()\[\]\"“”]", text):
                run = " ".join(run.split()).strip(" .,·-—")
                if len(re.findall(r"[A-Za-z]{2,}", run)) >= 3:
                    runs.add(run)
    return sorted(runs, key=len, reverse=True)


def _names() -> list[str]:
    """Names a Chinese page shows as they are: sites, people, products, diseases, sources."""
    names = ["English"]
    for site in Site.objects.all():
        zone = site.time_zone
        names += [site.name, site.slug, site.emergency_phone, zone, zone.replace("_", " ")]
    for patient in Patient.objects.all():
        names += [f"{patient.family_name}, {patient.given_name}", patient.record_number]
    for user in get_user_model().objects.all():
        names += [user.get_full_name(), user.get_username()]
    cat = catalog()
    for product in cat.products:
        names += [product.id, product.id.replace("-", " "), product.brand, product.manufacturer]
    names += [i.id for i in cat.indications()]
    names += ["flu-cy", "cy-flu", "bendamustine"]  # the labels' regimen identifiers
    names += list(TherapyCase.objects.values_list("coi", flat=True))
    return sorted((n for n in names if n), key=len, reverse=True)


def english_words(text: str, names: list[str]) -> list[str]:
    for name in names:
        text = text.replace(name, " ")
    text = UNIT.sub(" ", text)
    text = re.sub(r"https?://\S+|\[[^\]]*\]", " ", text)  # sources and their keys
    return [w for w in re.findall(r"[A-Za-z][A-Za-z'’-]+", text) if w not in ALLOWED]


def bedside_screens(client: Client) -> dict[str, str]:
    """The bedside check of a case whose bag the pharmacy thaws here (the demo network holds
    none thawed): its first screen, the second after the wristband, and a mismatch."""
    pharmacy = get_user_model().objects.get(username="pharmacy")
    screens: dict[str, str] = {}
    for case in TherapyCase.objects.filter(projection__step="lymphodepleted").select_related(
        "patient"
    ):
        state = case_state(case)
        treatment.thaw_bag(
            case,
            acting_user=pharmacy,
            now=timezone.now() + timedelta(days=2),  # the demo's chemotherapy ended today
            scanned_coi=parse_identifier(case.coi).barcode,
            scanned_bag_id=state.bags[0].bag_id,
        )
        url = f"/cases/{case.coi}/bedside/"
        screens[url] = client.get(url).content.decode()
        scanned = {"stage": "wristband", "wristband": case.patient.record_number}
        screens[url + "#identity"] = client.post(url, scanned).content.decode()
        screens[url + "#wrong"] = client.post(url, {"wristband": "WRONG-1"}).content.decode()
        break
    return screens


@pytest.fixture
def seeded(db: None) -> Any:
    return demo_seed.seed()


@pytest.mark.django_db
def test_the_main_staff_pages_in_chinese_show_no_english(seeded: Any) -> None:
    sentences = english_sentences()
    names = _names()
    checked: set[str] = set()
    failures: list[str] = []
    for username in ROLES:
        client = Client()
        assert client.login(username=username, password=demo_seed.password_for(username))
        client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
        pages = {url: html for url, (status, html) in crawl(client, "/").items() if status == 200}
        if username == "pharmacy":  # the bedside check, at its first and second screen
            pages.update(bedside_screens(client))
        for url, html in pages.items():
            if not MAIN_PAGES.match(url.split("#")[0]):
                continue
            checked.add(re.sub(r"/cases/[^/]+/", "/cases/*/", url.split("#")[0]))
            assert 'lang="zh-Hans"' in html, url
            text = visible_text(html)
            shown = [s for s in sentences if s in text]
            words = english_words(text, names)
            if shown or words:
                failures.append(f"{username} {url}: {shown[:3]} {sorted(set(words))[:40]}")
    main = {"/", "/board/", "/cases/*/", "/quality/", "/cases/*/bedside/", "/cases/*/labels/"}
    assert checked >= main, checked
    assert any(re.fullmatch(r"/sites/[^/]+/registry/", url) for url in checked), checked
    assert {"/cases/*/plan/", "/capacity/", "/register/"} <= checked, checked
    assert failures == [], "\n".join(failures)


def test_the_check_sees_english_and_skips_only_what_is_marked_as_recorded() -> None:
    html = (
        '<p>Record the CRS grade: 39.1 °C, 6 L/min</p><p translate="no">flow cytometry</p>'
        "<p>记录 <code>W1234 26 000001 X</code> Demo Site</p>"
    )
    text = visible_text(html)
    assert "flow cytometry" not in text and "W1234" not in text
    assert english_words(text, ["Demo Site"]) == ["Record", "the", "grade"]
    assert "Record the CRS grade" in english_sentences()
