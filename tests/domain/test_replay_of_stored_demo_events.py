"""Events stored before the domain took over the clinic's own records still replay.

The fixture holds every case of the synthetic demo network as the code of commit aaee952
stored it (``tests/fixtures/export_demo_events.py``): the event bodies and the projection
that code folded from them, including the CRS and ICANS grades, transgene levels, bedside
checks and deviations the clinic then wrote beside the journey. Replayed by today's
``apply``, every field that projection has keeps its value, and the new fields hold what
those records said.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cartflow.domain.events import Event
from cartflow.domain.journey import CaseState, apply

FIXTURE = Path(__file__).parent.parent / "fixtures" / "demo_events_before_typed_state.json"
STORE_ONLY = {"signature.applied"}
"""Written by the store itself (signatures); never folded by the journey."""

CASES: list[dict[str, Any]] = json.loads(FIXTURE.read_text(encoding="utf-8"))["cases"]


def _replay(bodies: list[dict[str, Any]]) -> CaseState:
    state = CaseState()
    for body in bodies:
        if body["type"] not in STORE_ONLY:
            state = apply(state, Event.from_body(body))
    return state


def _keeps(old: Any, new: Any) -> bool:
    """``new`` has every value ``old`` had; a record may have gained fields, none changed."""
    if isinstance(old, dict):
        return isinstance(new, dict) and all(k in new and _keeps(v, new[k]) for k, v in old.items())
    if isinstance(old, list):
        return (
            isinstance(new, list)
            and len(old) == len(new)
            and all(_keeps(a, b) for a, b in zip(old, new, strict=True))
        )
    return bool(old == new)


def _of(case: dict[str, Any], event_type: str) -> list[dict[str, Any]]:
    return [e for e in case["events"] if e["type"] == event_type]


def test_the_fixture_holds_every_kind_of_record_the_clinic_wrote() -> None:
    kinds = {e["type"] for case in CASES for e in case["events"]}
    assert len(CASES) == 35
    assert {
        "bedside.verified",
        "deviation.opened",
        "toxicity.crs_graded",
        "toxicity.icans_graded",
        "kinetics.measured",
        "product.infused",
    } <= kinds


@pytest.mark.parametrize("case", CASES, ids=[c["coi"] for c in CASES])
def test_every_field_of_the_old_projection_keeps_its_value(case: dict[str, Any]) -> None:
    now = _replay(case["events"]).to_dict()
    old = dict(case["state"])
    # Derived, not stored: a step may accept a command it did not (an early LD stop).
    assert set(old.pop("next_actions")) <= set(now["next_actions"])
    changed = {k: (old[k], now.get(k)) for k in old if not _keeps(old[k], now.get(k))}
    assert changed == {}
    assert set(now) - set(old) - {"next_actions"} == {
        "bedside_checks",
        "crs_grades",
        "icans_grades",
        "measurements",
        "deviations",
        "bookings",
        "labels",
        "responses",
        "toxicity_resolutions",
        "patient_accesses",  # patient and family access (issue 11), empty on an old log
        "planned_dates",
        "marrow_blasts",  # the split-dose marrow count (issue 9), empty on an old log
        "plan",  # the accepted vein-to-vein plan (issue 14), none on an old log
    }
    booked = _of(case, "slot.booked")
    assert [(b["slot"], b["kind"], b["site"], b["day"]) for b in now["bookings"]] == [
        (e["data"]["slot"], e["data"]["kind"], e["data"]["site"], e["data"]["day"]) for e in booked
    ]
    assert now["anomalies"] == []


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if _of(c, "product.infused")],
    ids=[c["coi"] for c in CASES if _of(c, "product.infused")],
)
def test_the_new_fields_hold_what_the_clinics_records_said(case: dict[str, Any]) -> None:
    state = _replay(case["events"])
    crs = _of(case, "toxicity.crs_graded")
    assert [(g.grade, g.observed, g.actor) for g in state.crs_grades] == [
        (e["data"]["grade"], e["data"]["observed"], e["actor"]) for e in crs
    ]
    icans = _of(case, "toxicity.icans_graded")
    assert [g.grade for g in state.icans_grades] == [e["data"]["grade"] for e in icans]
    levels = _of(case, "kinetics.measured")
    assert [(m.day, m.copies_per_ug, m.lloq, m.censored) for m in state.measurements] == [
        (e["data"]["day"], e["data"]["copies_per_ug"], e["data"]["lloq"], e["data"]["censored"])
        for e in levels
    ]
    deviations = _of(case, "deviation.opened")
    assert [(d.kind, d.summary, d.details) for d in state.deviations] == [
        (e["data"]["kind"], e["data"]["summary"], e["data"]["details"]) for e in deviations
    ]
    checks = _of(case, "bedside.verified")
    assert [(c.bag_id, c.performer_id) for c in state.bedside_checks] == [
        (e["data"]["matched"]["bag"], e["actor"]) for e in checks
    ]
    # Before the infusion became one command, the physician who signed also gave it.
    assert all(i.performer_id == i.signer_id for i in state.infusions)
