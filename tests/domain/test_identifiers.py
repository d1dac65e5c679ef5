"""Chain-of-identity identifiers: ISBT 128 DIN structure, Mod 37-2 check, one parser."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, seed, settings
from hypothesis import strategies as st
from stdnum.iso7064 import mod_37_2

from cartflow.domain.errors import InvalidInput
from cartflow.domain.identifiers import (
    ALPHABET,
    BagLabel,
    Din,
    Scan,
    check_character,
    identifiers_match,
    new_identifier,
    parse_identifier,
    parse_scan,
)

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
FACILITY_REST = LETTERS + "0123456789"

facilities = st.builds(
    lambda first, rest: first + "".join(rest),
    st.sampled_from(LETTERS),
    st.lists(st.sampled_from(FACILITY_REST), min_size=4, max_size=4),
)
dins = st.builds(
    Din,
    facilities,
    st.integers(min_value=0, max_value=99),
    st.integers(min_value=0, max_value=999_999),
)

SETTINGS = settings(deadline=None, derandomize=True, max_examples=200)

WORKED = Din("G1234", 98, 654321)


def _is_valid(compact: str) -> bool:
    try:
        parse_identifier(compact)
    except InvalidInput:
        return False
    return True


# --- the worked example --------------------------------------------------------------------


def test_the_worked_example_g123498654321_has_check_character_h_and_flag_77() -> None:
    assert WORKED.check_character == "H"
    assert WORKED.check_value == 17
    assert WORKED.flags == "77"
    assert check_character("G123498654321") == "H"


def test_an_identifier_is_written_eye_readable_compact_and_as_a_barcode() -> None:
    assert WORKED.eye_readable == "G1234 98 654321 H"
    assert str(WORKED) == "G1234 98 654321 H"
    assert WORKED.compact == "G123498654321H"
    assert WORKED.barcode == "=G12349865432177"


def test_new_identifier_pads_year_and_sequence_and_upper_cases_the_facility() -> None:
    din = new_identifier("w0001", 5, 42)
    assert din.facility == "W0001"
    assert din.compact.startswith("W000105000042")
    assert len(din.compact) == 14


def test_a_check_value_of_36_is_written_as_star_and_flag_96() -> None:
    star = next(
        Din("A0000", 0, seq) for seq in range(1000) if Din("A0000", 0, seq).check_character == "*"
    )
    assert star.flags == "96"
    assert parse_identifier(star.eye_readable) == star
    assert parse_identifier(star.barcode) == star


# --- round trips ------------------------------------------------------------------------


@SETTINGS
@given(dins)
def test_every_written_form_parses_back_to_the_same_identifier(din: Din) -> None:
    assert parse_identifier(din.eye_readable) == din
    assert parse_identifier(din.compact) == din
    assert parse_identifier(din.barcode) == din
    assert parse_identifier(din.eye_readable.lower()) == din
    assert parse_identifier(f"  {din.barcode}\n") == din


def test_the_parser_accepts_other_groupings_of_spaces() -> None:
    assert parse_identifier("G123 498 654 321 H") == WORKED
    assert parse_identifier("g1234  98\t654321 h") == WORKED


# --- the check character catches errors -----------------------------------------------------


@settings(deadline=None, derandomize=True, max_examples=25)
@given(dins)
def test_every_single_character_substitution_is_caught(din: Din) -> None:
    compact = din.compact
    for position in range(len(compact)):
        for replacement in ALPHABET:
            if replacement == compact[position]:
                continue
            typo = compact[:position] + replacement + compact[position + 1 :]
            assert not _is_valid(typo), f"{typo} (position {position}) was accepted"
            # and the check character alone catches it, format rules aside
            assert not mod_37_2.is_valid(typo), f"{typo} passes the Mod 37-2 check"


@settings(deadline=None, derandomize=True, max_examples=100)
@given(dins)
def test_every_transposition_of_adjacent_different_characters_is_caught(din: Din) -> None:
    compact = din.compact
    swaps = 0
    for position in range(len(compact) - 1):
        a, b = compact[position], compact[position + 1]
        if a == b:
            continue
        swapped = compact[:position] + b + a + compact[position + 2 :]
        swaps += 1
        assert not _is_valid(swapped), f"{swapped} (positions {position}, {position + 1})"
        assert not mod_37_2.is_valid(swapped), f"{swapped} passes the Mod 37-2 check"
    assert swaps > 0


def test_the_substitution_check_would_notice_an_accepted_typo() -> None:
    # The property above is not vacuous: the checker sees a valid identifier as valid.
    assert _is_valid(WORKED.compact)


# --- what the parser refuses --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("G1234 98 654321", "13 characters without spaces, 14 are expected"),
        ("G1234 98 6543210 H", "15 characters"),
        ("1G234 98 654321 H", "facility code must be 5 characters"),
        ("G12-4 98 654321 H", "only letters, digits"),
        ("G1234 9X 654321 H", "year (characters 6-7) must be 2 digits"),
        ("G1234 98 65432A H", "sequence (characters 8-13) must be 6 digits"),
        ("G1234 98 654321 J", "check character does not match"),
        ("=G12349865432100", "flag characters are 00 (no flag)"),
        ("=G12349865432159", "flag characters '59' are not accepted"),
        ("=G12349865432197", "flag characters '97' are not accepted"),
        ("=G1234986543217X", "flag characters '7X' are not accepted"),
        ("=G12349865432178", "flag characters do not match"),
        ("=G123498654321", "16 characters"),
        ("=1G2349865432177", "facility code"),
    ],
)
def test_a_malformed_identifier_is_refused_with_what_was_wrong(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(message)):
        parse_identifier(text)


def test_a_wrong_check_character_is_refused_without_revealing_the_right_one() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_identifier("G1234 98 654321 J")
    assert "does not match" in str(caught.value)
    assert re.search(r"\bH\b", str(caught.value)) is None


def test_a_length_error_says_what_is_accepted() -> None:
    with pytest.raises(InvalidInput, match=re.escape("e.g. G1234 98 654321 H")):
        parse_identifier("G12349865")


@pytest.mark.parametrize(
    ("facility", "year", "sequence"),
    [
        ("12345", 1, 1),
        ("G123", 1, 1),
        ("G12345", 1, 1),
        ("G12*4", 1, 1),
        ("G1234", 100, 1),
        ("G1234", -1, 1),
        ("G1234", 1, 1_000_000),
        ("G1234", 1, -1),
    ],
)
def test_new_identifier_refuses_out_of_range_parts(facility: str, year: int, sequence: int) -> None:
    with pytest.raises(InvalidInput):
        new_identifier(facility, year, sequence)


# --- matching at a hand-off -----------------------------------------------------------------


def test_a_scan_of_the_same_identifier_in_any_form_matches() -> None:
    assert identifiers_match("=G12349865432177", WORKED)
    assert identifiers_match("g123498654321h", WORKED)


def test_a_scan_of_another_or_an_invalid_identifier_does_not_match() -> None:
    other = Din("G1234", 98, 654322)
    assert not identifiers_match(other.barcode, WORKED)
    assert not identifiers_match("G1234 98 654321 J", WORKED)
    assert not identifiers_match("", WORKED)


# --- barcode flags: 00 means "no flag", 60-96 carry the check, nothing else is accepted ------
# ISBT 128 labels print flags 00 when they carry no flag; the Code 128 symbol checks its own
# read, so a flag-00 scan matches, but it carries no check against a typing error made when
# the number was printed, so no new identifier is registered from it.

FLAG_SETTINGS = settings(deadline=None, max_examples=200)
FLAG_SEED = 20261130


def test_a_flag_00_scan_of_the_worked_example_matches_it() -> None:
    assert identifiers_match("=G12349865432100", WORKED)
    assert parse_scan("=G12349865432100") == Scan(WORKED, checked=False)
    assert parse_scan("G1234 98 654321 H") == Scan(WORKED, checked=True)


@seed(FLAG_SEED)
@FLAG_SETTINGS
@given(dins)
def test_a_flag_00_scan_matches_its_identifier_unchecked_and_never_registers(din: Din) -> None:
    unflagged = f"={din.data}00"
    scan = parse_scan(unflagged)
    assert (scan.din, scan.checked) == (din, False)
    assert identifiers_match(unflagged, din)
    with pytest.raises(InvalidInput, match=r"00 \(no flag\).*cannot register"):
        parse_identifier(unflagged)


@seed(FLAG_SEED)
@FLAG_SETTINGS
@given(dins)
def test_every_checked_form_reads_as_checked(din: Din) -> None:
    for text in (din.barcode, din.eye_readable, din.compact):
        assert parse_scan(text) == parse_scan(din.barcode)
        assert parse_scan(text).checked


@seed(FLAG_SEED)
@FLAG_SETTINGS
@given(dins, st.integers(min_value=60, max_value=96))
def test_flags_60_to_96_must_carry_the_check_character(din: Din, flags: int) -> None:
    text = f"={din.data}{flags:02d}"
    if flags == din.check_value + 60:
        assert parse_scan(text).checked and parse_identifier(text) == din
    else:
        with pytest.raises(InvalidInput, match="do not match the identifier"):
            parse_scan(text)
        assert not identifiers_match(text, din)


@seed(FLAG_SEED)
@FLAG_SETTINGS
@given(
    dins,
    st.one_of(
        st.integers(min_value=1, max_value=59).map(lambda n: f"{n:02d}"),
        st.integers(min_value=97, max_value=99).map(str),
        st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789*-", min_size=2, max_size=2).filter(
            lambda f: not f.isdigit()
        ),
    ),
)
def test_any_other_flag_value_is_refused_naming_it(din: Din, flags: str) -> None:
    text = f"={din.data}{flags}"
    for read in (parse_scan, parse_identifier):
        with pytest.raises(InvalidInput) as caught:
            read(text)
        assert f"flag characters {flags!r} are not accepted" in str(caught.value)
    assert not identifiers_match(text, din)


@seed(FLAG_SEED)
@FLAG_SETTINGS
@given(dins, dins)
def test_a_flag_00_scan_of_another_identifier_does_not_match(din: Din, other: Din) -> None:
    assert identifiers_match(f"={other.data}00", din) is (other == din)


# --- bag labels ---------------------------------------------------------------------------


def test_a_bag_label_keeps_the_manufacturers_identifier_and_lot_trimmed() -> None:
    bag = BagLabel(" KTE-BAG-0001 ", "LOT 24A07\n")
    assert bag.to_dict() == {"bag_id": "KTE-BAG-0001", "lot": "LOT 24A07"}


@pytest.mark.parametrize(
    ("bag_id", "lot", "message"),
    [
        ("", "L1", "identifier is empty"),
        ("B1", "   ", "lot is empty"),
        ("B" * 65, "L1", "at most 64"),
        ("B1", "L\x001", "printable ASCII"),
        ("B1\u00e9", "L1", "printable ASCII"),
    ],
)
def test_a_malformed_bag_label_is_refused(bag_id: str, lot: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        BagLabel(bag_id, lot)
