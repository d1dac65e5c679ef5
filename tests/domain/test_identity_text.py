"""Identity text that cannot deceive: lookalikes of a record number or name are refused."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartflow.domain.errors import InvalidInput
from cartflow.domain.identity_text import (
    normalise_identity_text,
    normalise_name,
    normalise_record_number,
)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("TEST-MRN-\u200b0017", "invisible"),  # zero-width space
        ("TEST-MRN-\u041e017", "mixes the scripts"),  # Cyrillic capital O
        ("TEST-MRN-\u202e7100", "bidirectional"),  # right-to-left override
        ("TEST-MRN-\u20660017", "bidirectional"),  # left-to-right isolate
        ("TEST\u0085MRN", "control"),  # NEXT LINE
        ("TEST-MRN-0017\ufe0f", "shows as nothing"),
        ("TEST-MRN-\U000e0041", "invisible"),  # a tag character
    ],
)
def test_a_lookalike_record_number_is_refused_with_a_clear_message(text: str, why: str) -> None:
    with pytest.raises(InvalidInput, match=why) as refused:
        normalise_record_number(text)
    assert str(refused.value).startswith("record_number: ")


def test_the_message_names_the_character_not_the_text() -> None:
    with pytest.raises(InvalidInput) as refused:
        normalise_name("given_name", "Ann\u200ba")
    assert "U+200B" in str(refused.value)
    assert "Ann" not in str(refused.value)


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("\uff34\uff25\uff33\uff34-1", "TEST-1"),  # full-width letters
        ("  TEST   1 ", "TEST 1"),
        ("TEST\u00a01", "TEST 1"),  # a no-break space is a space
    ],
)
def test_record_numbers_are_normalised(text: str, normal: str) -> None:
    assert normalise_record_number(text) == normal


@pytest.mark.parametrize(
    "name",
    [
        "O'Brien-Smith",
        "\u5f20\u00b7\u4e09",  # Han with the middle dot of transcribed names
        "\u5c71\u7530\u305f\u308d\u3046",  # Han with Hiragana
        "\u30ab\u30bf\u30ab\u30ca\u30fc",  # Katakana with the prolonged sound mark
        "\uae40\u6c11\u4fca",  # Hangul with Han
        "\u0418\u0432\u0430\u043d",  # all Cyrillic
        "Zo\u00eb",  # a precomposed Latin letter
        "Zoe\u0308",  # the same with a combining mark: NFKC composes it
    ],
)
def test_real_names_of_one_script_or_an_allowed_mix_pass(name: str) -> None:
    assert normalise_name("family_name", name) == unicodedata.normalize("NFKC", name)


@pytest.mark.parametrize(
    "name", ["P\u0430ul", "\u0391nna", "\u5c71\u7530\u0430", "Ann\u200da", "Ann\nA"]
)
def test_mixed_or_hidden_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput):
        normalise_name("given_name", name)


@settings(deadline=None, max_examples=300)
@given(st.text(max_size=20))
def test_whatever_passes_is_already_normal_and_passes_again_unchanged(text: str) -> None:
    try:
        normal = normalise_identity_text("name", text)
    except InvalidInput:
        return
    assert unicodedata.normalize("NFKC", normal) == normal
    assert normalise_identity_text("name", normal) == normal
    assert normal == normal.strip() and "  " not in normal
    assert all(unicodedata.category(c)[0] != "C" for c in normal)


@settings(deadline=None, max_examples=200)
@given(
    st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-", min_size=1, max_size=12),
    st.sampled_from(["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u202e", "\u2066"]),
    st.integers(min_value=0, max_value=12),
)
def test_no_invisible_character_slips_into_a_record_number(
    number: str, hidden: str, at: int
) -> None:
    with pytest.raises(InvalidInput):
        normalise_record_number(number[:at] + hidden + number[at:])
