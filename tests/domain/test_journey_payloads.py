"""Typed event payloads: every event type has one, each reads back what it writes, and the
mapping it writes is byte for byte what was stored before the payloads were typed."""

from __future__ import annotations

import dataclasses
import inspect
import json
import types
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartflow.domain.events import Event
from cartflow.domain.hashchain import canonical_bytes
from cartflow.domain.journey import Step
from cartflow.domain.journey import event_types as T
from cartflow.domain.journey import payloads as P
from cartflow.domain.journey.apply import HANDLERS
from tests.domain.journey_cases import Journey

FIXTURE = Path(__file__).parent.parent / "fixtures" / "demo_events_before_typed_state.json"
STORE_ONLY = {"signature.applied"}
"""Written by the store itself (signatures); not an event of the journey."""

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

# --- strategies: a payload of any class, built from its fields' types ------------------------

SAFE = 2**53 - 1
"""The integers RFC 8785 writes (those a JSON double holds exactly)."""
ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=30))]
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-SAFE, max_value=SAFE)
    # Beyond 1e15 a float's JSON reads back as a whole number that may differ from it.
    | st.floats(min_value=-1e15, max_value=1e15)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
SPECIAL: dict[type[Any], st.SearchStrategy[Any]] = {
    # A drug names its days or its count of days; a payload never holds an empty day list.
    P.RegimenDrug: st.one_of(
        st.builds(
            P.RegimenDrug,
            drug=st.text(max_size=12),
            mg_per_m2=st.floats(min_value=0, max_value=5000),
            days=st.integers(min_value=1, max_value=7),
            on_days=st.none(),
            reduced_by_percent=st.none() | st.floats(min_value=0, max_value=99),
        ),
        st.builds(
            P.RegimenDrug,
            drug=st.text(max_size=12),
            mg_per_m2=st.floats(min_value=0, max_value=5000),
            days=st.none() | st.integers(min_value=1, max_value=7),
            on_days=st.lists(st.integers(min_value=-7, max_value=7), min_size=1, max_size=4).map(
                tuple
            ),
        ),
    ),
    # The clinic's record said what matched, by name, in words.
    P.BedsideVerifiedV1: st.builds(
        P.BedsideVerifiedV1, matched=st.dictionaries(st.text(max_size=8), st.text(max_size=8))
    ),
}


def strategy(hint: Any) -> st.SearchStrategy[Any]:
    """Values of the type ``hint`` as a payload holds them (JSON-safe numbers, aware times)."""
    if hint in SPECIAL:
        return SPECIAL[hint]
    simple: dict[Any, st.SearchStrategy[Any]] = {
        str: st.text(max_size=16),
        bool: st.booleans(),
        int: st.integers(min_value=-SAFE, max_value=SAFE),
        float: st.floats(allow_nan=False, allow_infinity=False),
        date: st.dates(),
        datetime: st.datetimes(
            min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=ZONES
        ),
        Any: json_values,
        type(None): st.none(),
    }
    if hint in simple:
        return simple[hint]
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        return st.one_of(*(strategy(a) for a in args))
    if origin is tuple:
        return st.lists(strategy(args[0]), max_size=3).map(tuple)
    if origin is Mapping:
        return st.dictionaries(st.text(max_size=8), strategy(args[1]), max_size=3)
    if dataclasses.is_dataclass(hint):
        assert isinstance(hint, type)
        hints = get_type_hints(hint)
        fields = {f.name: strategy(hints[f.name]) for f in dataclasses.fields(hint)}
        return st.builds(hint, **fields)
    raise AssertionError(f"no strategy for {hint!r}")


ALL_CLASSES = sorted([*P.PAYLOADS.values(), *P.LEGACY.values()], key=lambda c: c.__name__)
payloads = st.sampled_from(ALL_CLASSES).flatmap(strategy)


# --- the registry ----------------------------------------------------------------------------


def test_every_event_type_has_a_payload_of_the_version_decide_writes() -> None:
    """A new event type without a payload fails here."""
    assert set(P.PAYLOADS) == set(T.CURRENT_VERSION)
    assert {t: p.VERSION for t, p in P.PAYLOADS.items()} == T.CURRENT_VERSION
    assert all(t == p.TYPE for t, p in P.PAYLOADS.items())


def test_every_readable_version_has_a_payload_and_older_ones_are_upgraded() -> None:
    for event_type, versions in T.READABLE_VERSIONS.items():
        for version in versions:
            cls = P.payload_class(event_type, version)
            assert (event_type, version) == (cls.TYPE, cls.VERSION)
            if version != T.CURRENT_VERSION[event_type]:
                assert (event_type, version) in P.LEGACY
    assert all(v < T.CURRENT_VERSION[t] for t, v in P.LEGACY)
    with pytest.raises(KeyError):
        P.payload_class(T.CASE_REFERRED, 3)


@pytest.mark.parametrize("event_type", sorted(T.CURRENT_VERSION))
def test_apply_folds_each_event_type_from_the_payload_the_registry_names(event_type: str) -> None:
    handler = HANDLERS[event_type]
    *_, payload = inspect.signature(handler).parameters
    assert get_type_hints(handler)[payload] is P.PAYLOADS[event_type]


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
def test_every_payload_is_a_frozen_dataclass_with_slots(cls: type[Any]) -> None:
    assert dataclasses.is_dataclass(cls)
    assert cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
    assert "__slots__" in cls.__dict__
    names = {f.name for f in dataclasses.fields(cls)}
    assert not names & set(P.DECISION_KEYS)


# --- round trip ------------------------------------------------------------------------------


@settings(max_examples=600, deadline=None, derandomize=True)
@given(payloads)
def test_a_payload_reads_back_from_the_mapping_it_writes(payload: Any) -> None:
    cls = type(payload)
    data = payload.to_data()
    assert cls.from_data(data) == payload
    # and from the stored bytes: what the clinic reads back is the canonical JSON
    stored = json.loads(canonical_bytes(data))
    assert cls.from_data(stored) == payload
    assert canonical_bytes(cls.from_data(stored).to_data()) == canonical_bytes(data)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.sampled_from(sorted(P.LEGACY.values(), key=lambda c: c.__name__)).flatmap(strategy))
def test_an_older_version_is_upgraded_to_the_payload_of_today(payload: Any) -> None:
    event = Event(payload.TYPE, T0, "nurse-7", payload.to_data(), payload.VERSION, "site-a")
    upgraded = P.read(event)
    assert type(upgraded) is P.PAYLOADS[payload.TYPE]
    assert type(upgraded).from_data(upgraded.to_data()) == upgraded


def test_the_upgrades_keep_what_the_old_versions_said() -> None:
    referral = P.CaseReferredV1("G1234", "p", "p/x", "US", "Europe/Paris", ("US",))
    assert P.read(Event(T.CASE_REFERRED, T0, "a", referral.to_data(), 1)) == P.CaseReferred(
        "G1234", "p", "p/x", "US", "Europe/Paris", ("US",)
    )
    ld = P.read(Event(T.LD_STARTED, T0, "a", {"regimen": "flu/cy", "repeat": False}, 1))
    assert isinstance(ld, P.LdStarted)
    assert (ld.regimen, ld.regimen_drugs, ld.scheduled_days) == ("flu/cy", (), None)
    signed = P.SignedBy("dr-1", "physician", "signs", T0.isoformat())
    old = P.ProductInfusedV1("B1", 1, signed, "G1", "G1", "B1")
    infused = P.read(Event(T.PRODUCT_INFUSED, T0, "dr-1", old.to_data(), 1))
    assert isinstance(infused, P.ProductInfused)
    assert infused.performer_id == "dr-1" and infused.signature == signed
    check = {"matched": {"bag": "B1", "wristband": "matched"}}
    bedside = P.read(Event(T.BEDSIDE_VERIFIED, T0, "nurse-7", check, 1))
    assert isinstance(bedside, P.BedsideVerified)
    assert (bedside.bag_id, bedside.performer.user_id, bedside.witness) == ("B1", "nurse-7", "")
    # A withdrawal or a death of version 1 was not signed: it reads as an unsigned version 2.
    withdrawn = P.read(Event(T.CASE_WITHDRAWN, T0, "a", {"reason": "r", "after_infusion": True}, 1))
    assert withdrawn == P.CaseWithdrawn("r", True, None)
    deceased = P.read(Event(T.CASE_DECEASED, T0, "a", {"reason": "r"}, 1))
    assert deceased == P.CaseDeceased("r", None)


# --- malformed data --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_type", "data", "field"),
    [
        (T.PRODUCT_RELEASED, {"bags": "not a list"}, "dose_range"),
        (T.PATIENT_WEIGHED, {"weight_kg": "70"}, "weight_kg"),
        (T.PATIENT_WEIGHED, {"weight_kg": True}, "weight_kg"),
        (T.APHERESIS_SCHEDULED, {"slot_at": "2026-03-02T09:30:00"}, "slot_at"),
        (T.SLOT_BOOKED, {"slot": "s", "kind": "k", "site": "x", "day": "soon"}, "day"),
        (T.DEVIATION_OPENED, {"kind": "k", "summary": "s", "details": [1]}, "details"),
        (T.OOS_ACCEPTED, {"reason": "r", "signature": {"signer_id": "q"}}, "role"),
        (T.LABEL_APPLIED, {"label_ids": ["L001", 2]}, "label_ids"),
    ],
)
def test_malformed_data_is_refused_naming_the_field(
    event_type: str, data: dict[str, Any], field: str
) -> None:
    cls = P.PAYLOADS[event_type]
    with pytest.raises(P.MalformedData, match=field):
        cls.from_data(data)


# --- the bytes stay the same -----------------------------------------------------------------


def _payload_and_decision(body: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    data = dict(body["data"])
    decision = {k: data.pop(k) for k in P.DECISION_KEYS if k in data}
    return data, decision


def _assert_rewritten_identically(body: Mapping[str, Any]) -> None:
    data, decision = _payload_and_decision(body)
    cls = P.payload_class(body["type"], body["schema_version"])
    rewritten = cls.from_data(body["data"]).to_data()
    assert rewritten == data, body["type"]
    assert canonical_bytes({**rewritten, **decision}) == canonical_bytes(body["data"])


FIXTURE_EVENTS = [
    e
    for case in json.loads(FIXTURE.read_text(encoding="utf-8"))["cases"]
    for e in case["events"]
    if e["type"] not in STORE_ONLY
]


def test_every_event_stored_in_the_demo_fixture_is_rewritten_byte_for_byte() -> None:
    kinds = {(e["type"], e["schema_version"]) for e in FIXTURE_EVENTS}
    assert len(kinds) >= 30 and (T.BEDSIDE_VERIFIED, 1) in kinds
    for body in FIXTURE_EVENTS:
        _assert_rewritten_identically(body)
        P.read(Event.from_body(body))  # and it reads at today's version


DECIDED_BEFORE = (
    Path(__file__).parent.parent / "fixtures" / ("decided_events_before_typed_payloads.jsonl")
)
"""The canonical data of events ``decide`` wrote before the payloads were typed (commit
67e85c9, while tests/domain ran): for each event type, one line per shape (keys, nulls and
regimen drugs) it was written in."""


def test_every_shape_decide_wrote_before_the_payloads_is_rewritten_byte_for_byte() -> None:
    lines = DECIDED_BEFORE.read_text(encoding="utf-8").splitlines()
    decided = [json.loads(line) for line in lines]
    assert len({d["type"] for d in decided}) >= 45
    for line, d in zip(lines, decided, strict=True):
        body = {"type": d["type"], "schema_version": d["v"], "data": d["data"]}
        _assert_rewritten_identically(body)
        assert canonical_bytes(d).decode() == line


def test_every_event_decide_writes_along_the_journey_is_rewritten_byte_for_byte() -> None:
    journey = Journey().walk_to(Step.LONG_TERM_FOLLOW_UP)
    assert len({b["type"] for b in journey.log}) >= 15
    for body in journey.log:
        assert body["schema_version"] == T.CURRENT_VERSION[body["type"]]
        _assert_rewritten_identically(body)
