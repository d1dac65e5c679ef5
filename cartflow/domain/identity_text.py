"""Identity text that cannot deceive: a patient's record number and names, normalised and checked.

Two records that a person reads as the same must be stored as the same text, or a second
patient is registered under a lookalike of the first one's record number and the cells of
one reach the other. So every identity field is normalised (Unicode NFKC: full-width letters,
ligatures and compatibility forms become their plain form) and then refused when it still holds
what a reader cannot see or cannot trust:

- control characters (including U+0085 NEXT LINE), format characters (zero-width spaces and
  joiners, bidirectional embeddings, overrides and isolates, tag characters), line and
  paragraph separators, private-use, unassigned and surrogate code points, variation
  selectors and fillers that render as nothing;
- a token (a run without spaces) that mixes scripts in the way Unicode's UTS #39 calls
  confusable: a Cyrillic or Greek letter among Latin ones, say. As in UTS #39's "highly
  restrictive" level, Han may be written with Hiragana and Katakana (Japanese) or with
  Hangul (Korean), each of those with Latin too; the middle dot U+00B7 of transcribed Chinese
  names and the katakana middle dot are allowed in any name.

The script of a character is read from its Unicode name (the standard library has no script
property); characters whose name names no script (digits, punctuation, combining marks) take
the script of the letters around them.
"""

from __future__ import annotations

import unicodedata
from typing import Final

from cartflow.domain.errors import InvalidInput

NAME_PUNCTUATION: Final = frozenset("-'.,\u00b7\u30fb\u2019")
"""Punctuation a personal name may hold: hyphen, apostrophes, period, comma, middle dots."""

RECORD_NUMBER_PUNCTUATION: Final = frozenset("-./_:#")

INVISIBLE_LETTERS: Final = frozenset(
    {
        "\u115f",  # HANGUL CHOSEONG FILLER
        "\u1160",  # HANGUL JUNGSEONG FILLER
        "\u3164",  # HANGUL FILLER
        "\uffa0",  # HALFWIDTH HANGUL FILLER
        "\u2800",  # BRAILLE PATTERN BLANK
        "\u034f",  # COMBINING GRAPHEME JOINER
        "\u17b4",  # KHMER VOWEL INHERENT AQ
        "\u17b5",  # KHMER VOWEL INHERENT AA
    }
)
"""Characters of a letter or mark category that render as nothing."""

REFUSED_CATEGORIES: Final = {
    "Cc": "a control character",
    "Cf": "an invisible formatting or bidirectional character",
    "Co": "a private-use character",
    "Cn": "an unassigned code point",
    "Cs": "a surrogate code point",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
}

# Words of a character name that name a script, mapped to the script (UTS #24 names).
_SCRIPT_WORDS: Final = {
    "CJK": "Han",
    "IDEOGRAPHIC": "Han",
    "KANGXI": "Han",
    "HIRAGANA": "Hiragana",
    "KATAKANA": "Katakana",
    "HANGUL": "Hangul",
    "BOPOMOFO": "Bopomofo",
}

ALLOWED_MIXES: Final = (
    frozenset({"Latin", "Han", "Hiragana", "Katakana"}),
    frozenset({"Latin", "Han", "Hangul"}),
    frozenset({"Latin", "Han", "Bopomofo"}),
)
"""Sets of scripts one token may combine (UTS #39 "highly restrictive")."""


def script_of(char: str) -> str | None:
    """The script of a letter, read from its Unicode name; ``None`` for a script-neutral one.

    Digits, punctuation, spaces and combining marks are neutral: they count with the letters
    around them (UTS #24's Common and Inherited).
    """
    category = unicodedata.category(char)
    if not category.startswith("L"):
        return None
    name = unicodedata.name(char, "")
    if not name:
        return "Unknown"
    first = name.split(" ", 1)[0]
    if first in _SCRIPT_WORDS:
        return _SCRIPT_WORDS[first]
    if first == "KATAKANA-HIRAGANA":
        return None  # the prolonged sound mark: both kana scripts use it
    if first in {"MODIFIER", "FULLWIDTH", "HALFWIDTH"}:
        return None
    return first.title()


def _scripts_fit(scripts: set[str]) -> bool:
    if len(scripts) <= 1:
        return True
    return any(scripts <= allowed for allowed in ALLOWED_MIXES)


def _describe(char: str) -> str:
    return f"U+{ord(char):04X} {unicodedata.name(char, 'unnamed')}"


def normalise_identity_text(field: str, value: str, *, record_number: bool = False) -> str:
    """``value`` in NFKC with its edges trimmed and inner spaces single, or :class:`InvalidInput`.

    The message names the field and the offending character by code point, never the value
    itself: identity text does not belong in an error that may be logged.
    """
    text = unicodedata.normalize("NFKC", value)
    for char in text:
        category = unicodedata.category(char)
        if category in REFUSED_CATEGORIES:
            raise InvalidInput(
                f"{field}: holds {REFUSED_CATEGORIES[category]} ({_describe(char)}); "
                "type the text again without it"
            )
        if char in INVISIBLE_LETTERS or "VARIATION SELECTOR" in unicodedata.name(char, ""):
            raise InvalidInput(
                f"{field}: holds a character that shows as nothing ({_describe(char)}); "
                "type the text again without it"
            )
        if category == "Zs" and char != " ":
            raise InvalidInput(f"{field}: holds an unusual space ({_describe(char)})")
        allowed_punctuation = RECORD_NUMBER_PUNCTUATION if record_number else NAME_PUNCTUATION
        if category[0] in "PS" and char not in allowed_punctuation:
            raise InvalidInput(
                f"{field}: {_describe(char)} is not accepted here; use letters, digits and "
                + " ".join(sorted(allowed_punctuation))
            )
    text = " ".join(text.split())
    if not text:
        raise InvalidInput(f"{field}: must not be empty")
    for token in text.split(" "):
        scripts = {s for s in (script_of(c) for c in token) if s is not None}
        if not _scripts_fit(scripts):
            raise InvalidInput(
                f"{field}: one word mixes the scripts {', '.join(sorted(scripts))}, which can "
                "make one text look like another; write each word in one script"
            )
    return text


def normalise_record_number(value: str) -> str:
    """A hospital record number, normalised and checked (see the module's doc)."""
    return normalise_identity_text("record_number", value, record_number=True)


def normalise_name(field: str, value: str) -> str:
    """A given or family name, normalised and checked (see the module's doc)."""
    return normalise_identity_text(field, value)
