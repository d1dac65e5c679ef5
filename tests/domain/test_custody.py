"""The chain of custody: hand-offs, refused scans on record, tampering found."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartflow.domain.custody import (
    ACCEPTED,
    REFUSED,
    CustodyLog,
    Handoff,
    HandoffRefused,
    record_handoff,
    record_handoff_strict,
    verify_custody,
)
from cartflow.domain.errors import IdentityMismatch, InvalidInput
from cartflow.domain.hashchain import GENESIS, canonical_bytes, entry_hash
from cartflow.domain.identifiers import BagLabel, Din

CASE = Din("W1234", 26, 100001)
OTHER_CASE = Din("W1234", 26, 100002)
BAG = BagLabel("KTE-0001", "LOT24A")
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _handoff(**changes: object) -> Handoff:
    base = Handoff(
        giver="Manufacturing site Amsterdam",
        taker="Courier Cryoport",
        scanned_coi=CASE.barcode,
        scanned_bag_id="KTE-0001",
        scanned_lot="LOT24A",
        temperature_c=-180.5,
        at=T0,
        location="Amsterdam dispatch dock",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def _log_of(count: int) -> CustodyLog:
    log = CustodyLog()
    for n in range(count):
        handoff = _handoff(at=T0 + timedelta(hours=n), giver=f"party {n}", taker=f"party {n + 1}")
        log = record_handoff(log, CASE, BAG, handoff).log
    return log


# --- accepted hand-offs -------------------------------------------------------------------


def test_a_matching_hand_off_is_accepted_and_linked_to_the_start() -> None:
    result = record_handoff(CustodyLog(), CASE, BAG, _handoff())
    assert result.accepted
    assert result.reason == ""
    assert len(result.log) == 1
    entry = result.entry
    assert entry["prev"] == GENESIS
    assert entry["outcome"] == ACCEPTED
    assert entry["coi"] == "W123426100001" + CASE.check_character
    assert entry["giver"] == "Manufacturing site Amsterdam"
    assert entry["taker"] == "Courier Cryoport"
    assert entry["scanned_bag"] == {"bag_id": "KTE-0001", "lot": "LOT24A"}
    assert entry["temperature_c"] == -180.5
    assert entry["at"] == "2026-03-02T09:30:00+00:00"
    assert entry["location"] == "Amsterdam dispatch dock"
    assert result.log.head == entry_hash(entry)


def test_the_identifier_may_be_scanned_or_typed_in_any_form() -> None:
    for form in (CASE.barcode, CASE.eye_readable, CASE.compact.lower()):
        assert record_handoff(CustodyLog(), CASE, BAG, _handoff(scanned_coi=form)).accepted


def test_the_time_keeps_its_own_time_zone_in_iso_8601() -> None:
    cet = timezone(timedelta(hours=1))
    at = datetime(2026, 3, 2, 10, tzinfo=cet)
    result = record_handoff(CustodyLog(), CASE, BAG, _handoff(at=at))
    assert result.entry["at"] == "2026-03-02T10:00:00+01:00"


def test_each_entry_carries_the_hash_of_the_canonical_bytes_of_the_one_before() -> None:
    log = _log_of(3)
    for before, after in pairwise(log.entries):
        assert after["prev"] == hashlib.sha256(canonical_bytes(before)).hexdigest()


def test_recording_leaves_the_earlier_log_unchanged() -> None:
    log = _log_of(2)
    record_handoff(log, CASE, BAG, _handoff(giver="x", taker="y"))
    assert len(log) == 2


# --- refused scans ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "mismatched", "words"),
    [
        ({"scanned_coi": OTHER_CASE.barcode}, ("coi",), "names a different case"),
        ({"scanned_coi": "G1234 98 654321 J"}, ("coi",), "not a valid identifier"),
        ({"scanned_bag_id": "KTE-0002"}, ("bag_id",), "bag identifier scan does not match"),
        ({"scanned_lot": "LOT24B"}, ("lot",), "bag lot scan does not match"),
        ({"scanned_bag_id": "kte-0001"}, ("bag_id",), "bag identifier scan does not match"),
        (
            {"scanned_coi": OTHER_CASE.compact, "scanned_lot": "X"},
            ("coi", "lot"),
            "names a different case",
        ),
    ],
)
def test_a_scan_that_does_not_match_is_refused_and_logged(
    changes: dict[str, object], mismatched: tuple[str, ...], words: str
) -> None:
    log = _log_of(1)
    result = record_handoff(log, CASE, BAG, _handoff(**changes))
    assert not result.accepted
    assert result.mismatched == mismatched
    assert words in result.reason
    assert len(result.log) == 2
    assert result.entry["outcome"] == REFUSED
    assert result.entry["mismatched"] == list(mismatched)
    assert result.entry["prev"] == log.head
    assert verify_custody(result.log).ok


def test_the_strict_variant_raises_and_still_carries_the_logged_refusal() -> None:
    log = _log_of(1)
    with pytest.raises(HandoffRefused) as caught:
        record_handoff_strict(log, CASE, BAG, _handoff(scanned_coi=OTHER_CASE.barcode))
    error = caught.value
    assert isinstance(error, IdentityMismatch)
    assert error.which == ("coi",)
    assert "chain-of-identity scan" in str(error)
    assert error.result.log.entries[-1]["outcome"] == REFUSED
    assert len(error.result.log) == 2


def test_the_strict_variant_returns_the_new_log_when_all_scans_match() -> None:
    log = record_handoff_strict(CustodyLog(), CASE, BAG, _handoff())
    assert log.entries[-1]["outcome"] == ACCEPTED


def test_a_refusal_message_names_the_scan_but_no_scanned_value() -> None:
    result = record_handoff(CustodyLog(), CASE, BAG, _handoff(scanned_coi=OTHER_CASE.barcode))
    assert OTHER_CASE.barcode not in result.reason
    assert CASE.compact not in result.reason


def test_a_garbage_scan_is_kept_printable_and_bounded() -> None:
    result = record_handoff(CustodyLog(), CASE, BAG, _handoff(scanned_coi="\x1b[2J" + "X" * 500))
    assert not result.accepted
    kept = result.entry["scanned_coi"]
    assert kept.isprintable() and len(kept) == 64


# --- malformed input is refused and not logged --------------------------------------------


@pytest.mark.parametrize("temperature", [-273.16, -300.0, 60.01, 400.0, float("nan"), float("inf")])
def test_a_physically_implausible_temperature_is_refused(temperature: float) -> None:
    with pytest.raises(InvalidInput, match=r"-273\.15 to 60"):
        record_handoff(CustodyLog(), CASE, BAG, _handoff(temperature_c=temperature))


@pytest.mark.parametrize("temperature", [-273.15, -196.0, 2.0, 37.0, 60.0])
def test_temperatures_from_absolute_zero_to_60_are_accepted(temperature: float) -> None:
    result = record_handoff(CustodyLog(), CASE, BAG, _handoff(temperature_c=temperature))
    assert result.entry["temperature_c"] == temperature


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"at": datetime(2026, 3, 2, 9, 30)}, "time zone"),
        ({"giver": "  "}, "party giving is required"),
        ({"taker": ""}, "party taking is required"),
        ({"taker": "Manufacturing site Amsterdam"}, "must be different"),
        ({"location": "dock\nB"}, "printable"),
        ({"location": "L" * 121}, "at most 120"),
    ],
)
def test_malformed_hand_off_details_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        record_handoff(CustodyLog(), CASE, BAG, _handoff(**changes))


# --- tampering -----------------------------------------------------------------------------


def test_an_untouched_log_verifies_against_its_ledger_head_and_length() -> None:
    log = _log_of(4)
    report = verify_custody(log, expected_head=log.head, expected_length=4)
    assert report.ok and report.entries == 4


def test_an_edited_temperature_is_found_at_the_next_entry() -> None:
    log = _log_of(4)
    entries = list(log.entries)
    entries[1] = {**entries[1], "temperature_c": -20.0}
    report = verify_custody(entries)
    assert (report.ok, report.broken_at) == (False, 2)


def test_a_refusal_rewritten_as_accepted_is_found() -> None:
    log = record_handoff(_log_of(1), CASE, BAG, _handoff(scanned_lot="WRONG")).log
    log = record_handoff(log, CASE, BAG, _handoff(giver="b", taker="c")).log
    entries = list(log.entries)
    entries[1] = {**entries[1], "outcome": ACCEPTED}
    assert verify_custody(entries).broken_at == 2


def test_an_edited_last_entry_is_found_against_the_ledger_head() -> None:
    log = _log_of(3)
    entries = list(log.entries)
    entries[-1] = {**entries[-1], "location": "elsewhere"}
    assert verify_custody(entries).ok
    report = verify_custody(entries, expected_head=log.head)
    assert (report.ok, report.broken_at) == (False, 3)


def test_a_deleted_entry_is_found_where_it_was_removed() -> None:
    entries = list(_log_of(4).entries)
    del entries[2]
    assert verify_custody(entries).broken_at == 2


def test_reordered_entries_are_found() -> None:
    entries = list(_log_of(4).entries)
    entries[0], entries[1] = entries[1], entries[0]
    assert verify_custody(entries).broken_at == 0


def test_a_truncated_log_is_found_against_the_ledger_length() -> None:
    log = _log_of(4)
    report = verify_custody(log.entries[:2], expected_length=4)
    assert (report.ok, report.broken_at) == (False, 2)
    report = verify_custody(log.entries[:2], expected_head=log.head)
    assert (report.ok, report.broken_at) == (False, 2)


@settings(deadline=None, derandomize=True, max_examples=50)
@given(st.integers(min_value=2, max_value=6), st.data())
def test_removing_any_entry_but_the_last_breaks_the_chain_there(
    count: int, data: st.DataObject
) -> None:
    entries = list(_log_of(count).entries)
    index = data.draw(st.integers(min_value=0, max_value=count - 2))
    del entries[index]
    assert verify_custody(entries).broken_at == index
