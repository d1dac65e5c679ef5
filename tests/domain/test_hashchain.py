"""Hash chains over RFC 8785 canonical JSON: every kind of tampering is found."""

from __future__ import annotations

import hashlib
from itertools import pairwise
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartflow.domain.hashchain import (
    GENESIS,
    PREV_KEY,
    build_chain,
    canonical_bytes,
    entry_hash,
    link,
    verify_chain,
)

BODIES: list[dict[str, Any]] = [{"n": n, "what": f"step {n}"} for n in range(5)]


def _chain() -> list[dict[str, Any]]:
    return build_chain(BODIES)


def test_canonical_bytes_sort_keys_and_drop_whitespace() -> None:
    assert canonical_bytes({"b": 1, "a": [1.5, "x"]}) == b'{"a":[1.5,"x"],"b":1}'


def test_the_canonical_form_does_not_depend_on_key_order() -> None:
    assert entry_hash({"a": 1, "b": 2}) == entry_hash({"b": 2, "a": 1})


def test_an_entry_hash_is_the_sha256_of_its_canonical_bytes() -> None:
    entry = {"x": "é", "n": 1e21}
    assert entry_hash(entry) == hashlib.sha256(canonical_bytes(entry)).hexdigest()


def test_each_entry_carries_the_hash_of_the_one_before_it() -> None:
    chain = _chain()
    assert chain[0][PREV_KEY] == GENESIS
    for before, after in pairwise(chain):
        assert after[PREV_KEY] == entry_hash(before)


def test_a_read_only_mapping_hashes_like_the_same_dict() -> None:
    entry = {"a": 1, "nested": {"b": [1, {"c": "x"}]}}
    frozen = MappingProxyType({"a": 1, "nested": MappingProxyType({"b": (1, {"c": "x"})})})
    assert canonical_bytes(frozen) == canonical_bytes(entry)
    assert entry_hash(frozen) == entry_hash(entry)


def test_an_integer_json_cannot_hold_exactly_is_refused_not_rounded() -> None:
    with pytest.raises(ValueError):
        canonical_bytes({"n": 2**53})


def test_a_body_may_not_bring_its_own_prev() -> None:
    with pytest.raises(ValueError, match="prev"):
        link({"prev": "x"}, GENESIS)


def test_an_untouched_chain_verifies_with_its_head_and_length() -> None:
    chain = _chain()
    report = verify_chain(chain, expected_head=entry_hash(chain[-1]), expected_length=5)
    assert report.ok
    assert report.to_dict() == {
        "ok": True,
        "entries": 5,
        "head": entry_hash(chain[-1]),
        "broken_at": None,
        "reason": "",
    }


def test_an_empty_chain_verifies_with_the_genesis_head() -> None:
    assert verify_chain([]).ok
    assert verify_chain([]).head == GENESIS


def test_an_edited_entry_breaks_the_link_to_its_successor() -> None:
    chain = _chain()
    chain[2] = {**chain[2], "what": "changed"}
    report = verify_chain(chain)
    assert not report.ok
    assert report.broken_at == 3
    assert "edited, removed or moved" in report.reason


def test_an_edited_last_entry_is_found_against_the_recorded_head() -> None:
    chain = _chain()
    head = entry_hash(chain[-1])
    chain[-1] = {**chain[-1], "what": "changed"}
    assert verify_chain(chain).ok  # nothing inside the chain can tell
    report = verify_chain(chain, expected_head=head)
    assert not report.ok
    assert report.broken_at == 5


def test_a_deleted_entry_is_found_where_the_gap_is() -> None:
    chain = _chain()
    del chain[1]
    report = verify_chain(chain)
    assert (report.ok, report.broken_at) == (False, 1)


def test_a_deleted_first_entry_is_found_at_the_start() -> None:
    report = verify_chain(_chain()[1:])
    assert (report.ok, report.broken_at) == (False, 0)


def test_reordered_entries_are_found_at_the_first_moved_one() -> None:
    chain = _chain()
    chain[1], chain[3] = chain[3], chain[1]
    report = verify_chain(chain)
    assert (report.ok, report.broken_at) == (False, 1)


def test_a_cut_tail_is_found_against_the_recorded_length() -> None:
    chain = _chain()
    report = verify_chain(chain[:3], expected_length=5)
    assert (report.ok, report.broken_at) == (False, 3)
    assert "3 entries" in report.reason and "recorded 5" in report.reason


def test_a_cut_tail_is_found_against_the_recorded_head() -> None:
    chain = _chain()
    report = verify_chain(chain[:3], expected_head=entry_hash(chain[-1]))
    assert (report.ok, report.broken_at) == (False, 3)


def test_an_appended_entry_is_found_against_the_recorded_length() -> None:
    chain = _chain()
    extra = link({"n": 99}, entry_hash(chain[-1]))
    report = verify_chain([*chain, extra], expected_length=5)
    assert (report.ok, report.broken_at) == (False, 5)


def test_a_chain_that_continues_another_verifies_from_its_start() -> None:
    first = _chain()
    second = build_chain([{"n": 10}], start=entry_hash(first[-1]))
    assert verify_chain(second, start=entry_hash(first[-1])).ok
    assert verify_chain(second).broken_at == 0


@settings(deadline=None, derandomize=True, max_examples=100)
@given(
    st.lists(
        st.dictionaries(st.sampled_from("abcd"), st.integers(-(2**53) + 1, 2**53 - 1), min_size=1),
        min_size=2,
        max_size=8,
    ),
    st.data(),
)
def test_any_edit_of_any_entry_but_the_last_breaks_the_chain_right_after_it(
    bodies: list[dict[str, Any]], data: st.DataObject
) -> None:
    chain = build_chain(bodies)
    index = data.draw(st.integers(min_value=0, max_value=len(chain) - 2))
    chain[index] = {**chain[index], "tampered": True}
    assert verify_chain(chain).broken_at == index + 1
