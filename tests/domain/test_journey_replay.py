"""Recording is separate from deciding: ``apply`` reads no catalog and never raises, so any log
replays to the same state after the catalog changes, and every schema version stays readable."""

from __future__ import annotations

import inspect
import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cartflow.domain.catalog import Catalog, Indication
from cartflow.domain.events import Event
from cartflow.domain.journey import CaseState, Step, apply, replay
from cartflow.domain.journey import event_types as T
from cartflow.domain.journey.apply import HANDLERS
from tests.domain.journey_cases import COI, Journey, with_fact, without_fact

T0 = datetime(2026, 1, 5, 14, 0, tzinfo=UTC)


def full_log() -> tuple[Journey, list[dict[str, Any]]]:
    j = Journey().walk_to(Step.LONG_TERM_FOLLOW_UP)
    return j, list(j.log)


def test_apply_takes_no_catalog_and_reads_none() -> None:
    assert list(inspect.signature(apply).parameters) == ["state", "event"]
    source = inspect.getsource(inspect.getmodule(apply))  # type: ignore[arg-type]
    assert "Catalog" not in source and ".resolve(" not in source


def test_replaying_the_log_rebuilds_the_state_the_decisions_built() -> None:
    j, log = full_log()
    assert replay(log) == j.state
    assert replay([Event.from_body(b) for b in log]) == j.state
    assert json.loads(json.dumps(j.state.to_dict())) == replay(log).to_dict()


def test_a_log_replays_the_same_after_the_catalog_is_changed_or_emptied(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    j, log = full_log()
    changed = with_fact(j.catalog, "tisagenlecleucel/lbcl", "infusion_window_days", [5, 6])
    changed = without_fact(changed, "tisagenlecleucel/lbcl", "post_thaw_minutes")
    emptied = replace(j.catalog, products=(), version="0-empty")
    assert changed.indication("tisagenlecleucel/lbcl").facts["infusion_window_days"]
    assert emptied.products == ()

    def no_catalog(*args: object, **kwargs: object) -> object:
        raise AssertionError("apply read the catalog")

    monkeypatch.setattr(Catalog, "indication", no_catalog)
    monkeypatch.setattr(Indication, "resolve", no_catalog)
    assert replay(log) == j.state


def test_deciding_under_the_changed_catalog_would_refuse_what_the_log_recorded() -> None:
    """The replay above is meaningful: the same infusion decided today would be refused."""
    j = Journey().walk_to(Step.THAWED)
    j.catalog = with_fact(j.catalog, "tisagenlecleucel/lbcl", "infusion_window_days", [5, 6])
    from cartflow.domain.journey import JourneyError

    with pytest.raises(JourneyError, match="5 to 6 days"):
        j.do(j.infuse())


def test_every_decision_event_records_the_catalog_version_and_the_facts_it_used() -> None:
    j, log = full_log()
    assert j.catalog.version.startswith("2026.")
    for body in log:
        assert body["data"]["catalog_version"] == j.catalog.version
        assert isinstance(body["data"]["facts"], list)
        assert body["schema_version"] == T.CURRENT_VERSION[body["type"]]
    infused = next(b for b in log if b["type"] == T.PRODUCT_INFUSED)
    names = {f["name"]: f for f in infused["data"]["facts"]}
    assert names["infusion_window_days"]["value"] == [2, 11]
    assert names["infusion_window_days"]["status"] == "label"
    assert names["post_thaw_minutes"]["value"] == 30


def test_every_event_type_has_a_schema_version_and_an_apply_handler() -> None:
    assert set(T.CURRENT_VERSION) == set(HANDLERS)
    assert all(v >= 1 for v in T.CURRENT_VERSION.values())


def test_apply_reads_both_versions_of_the_referral() -> None:
    data = {
        "coi": COI.compact,
        "product": "tisagenlecleucel",
        "indication": "tisagenlecleucel/lbcl",
        "region": "US",
    }
    v1 = Event(T.CASE_REFERRED, T0, "p", {**data, "tz": "Europe/Paris"}, 1, "site-a")
    v2 = Event(T.CASE_REFERRED, T0, "p", {**data, "site_timezone": "Europe/Paris"}, 2, "site-a")
    one, two = apply(CaseState(), v1), apply(CaseState(), v2)
    assert one.site_timezone == two.site_timezone == "Europe/Paris"
    assert replace(one, anomalies=()) == two and one.anomalies == ()
    assert T.CURRENT_VERSION[T.CASE_REFERRED] == 2


def test_an_unknown_type_or_version_or_malformed_data_is_an_anomaly_not_an_error() -> None:
    _j, log = full_log()
    state = replay(log[:3])
    unknown = Event("case.teleported", T0.replace(year=2027), "x", {})
    future = Event(T.ANTIGEN_TESTED, T0.replace(year=2027), "x", {}, schema_version=9)
    broken = Event(T.PRODUCT_RELEASED, T0.replace(year=2027), "x", {"bags": "not a list"})
    after = apply(apply(apply(state, unknown), future), broken)
    assert after.step == state.step and len(after.anomalies) == 3
    assert "unknown event type" in after.anomalies[0]
    assert "schema version 9" in after.anomalies[1]
    assert "malformed" in after.anomalies[2]
    assert after.events_applied == state.events_applied + 3


def test_an_event_out_of_the_machines_order_is_applied_and_noted() -> None:
    _j, log = full_log()
    infused = next(b for b in log if b["type"] == T.PRODUCT_INFUSED)
    state = replay([log[0], infused])
    assert state.infusions and any("does not allow" in a for a in state.anomalies)


def test_an_unreadable_body_is_noted_and_the_replay_goes_on() -> None:
    _j, log = full_log()
    state = replay([log[0], {"type": "x"}, log[1]])
    assert state.step is Step.ANTIGEN_TESTED and len(state.anomalies) == 1


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(
    max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    st.sampled_from([*sorted(T.CURRENT_VERSION), "nonsense"]),
    st.integers(min_value=0, max_value=3),
    st.dictionaries(
        st.sampled_from(
            [
                "coi",
                "bags",
                "signature",
                "reason",
                "celsius",
                "limit_celsius",
                "excursion",
                "bag_id",
                "dose_range",
                "dose_cells",
                "in_range",
                "regimen",
                "tz",
                "din",
            ]
        ),
        json_values,
        max_size=6,
    ),
    st.integers(min_value=0, max_value=12),
)
def test_apply_never_raises_on_any_recorded_event(
    event_type: str, version: int, data: dict[str, Any], prefix: int
) -> None:
    _j, log = LOG_FOR_FUZZ
    state = replay(log[:prefix])
    event = Event(event_type, T0.replace(year=2027), "x", data, schema_version=version)
    after = apply(state, event)
    # Records beside the steps (grades, levels, checks, deviations) leave the steps' count.
    counted = 0 if event_type in T.OBSERVATION_TYPES else 1
    assert after.events_applied == state.events_applied + counted
    json.dumps(after.to_dict())


LOG_FOR_FUZZ = full_log()
