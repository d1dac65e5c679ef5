"""A case walked from referral to long-term follow-up: each step, what it waits for, what it
offers next, and the projection the clinic stores."""

from __future__ import annotations

import json
from datetime import timedelta

from cartflow.domain.events import Event
from cartflow.domain.journey import (
    COMMAND_STEPS,
    TRANSITIONS,
    BagSpec,
    CaseState,
    RecordBridgingTherapy,
    RecordCollection,
    RecordDeath,
    ScheduleApheresis,
    Step,
)
from cartflow.domain.journey.steps import TERMINAL
from cartflow.domain.roles import Role
from tests.domain.journey_cases import COI, DIN, SECOND_DIN, Journey
from tests.domain.journey_checker import check_log

ORDER = [
    Step.REFERRED,
    Step.ANTIGEN_TESTED,
    Step.ELIGIBLE,
    Step.SCREENED,
    Step.APHERESIS_SCHEDULED,
    Step.COLLECTED,
    Step.MANUFACTURING,
    Step.RELEASED,
    Step.SHIPPED,
    Step.RECEIVED,
    Step.AVAILABLE,
    Step.LYMPHODEPLETING,
    Step.LYMPHODEPLETED,
    Step.THAWED,
    Step.INFUSED,
    Step.MONITORING,
    Step.LONG_TERM_FOLLOW_UP,
]


def test_a_case_walks_every_step_from_referral_to_long_term_follow_up() -> None:
    j = Journey()
    seen = []
    for step in ORDER:
        j.walk_to(step)
        seen.append(j.state.step)
        assert j.state.waiting_for, step
        assert j.state.next_actions, step
    assert seen == ORDER
    assert j.state.coi == COI.compact and j.state.order_weight_kg == 70
    assert j.state.anomalies == () and check_log(j.log) == []


def test_the_projection_is_json_and_names_what_the_case_waits_for() -> None:
    j = Journey().walk_to(Step.THAWED)
    body = json.loads(json.dumps(j.state.to_dict()))
    assert body["step"] == "thawed"
    assert body["waiting_for"] == "infusion: bedside scan and a physician's signature"
    assert "InfuseBag" in body["next_actions"]
    assert body["bags"] == [
        {
            "bag_id": "BAG-1",
            "lot": "LOT-7",
            "part": 1,
            "day": 1,
            "tolerance_days": 0,
            "expires_at": None,
        }
    ]


def test_events_carry_clinical_and_recording_times_and_the_site() -> None:
    j = Journey().walk_to(Step.REFERRED)
    j.later(hours=5)
    from cartflow.domain.journey import RecordAntigenTest

    earlier = j.now - timedelta(hours=3)
    j.do(RecordAntigenTest(actor="p", antigen="CD19", positive=True, occurred_at=earlier))
    event = Event.from_body(j.log[-1])
    assert event.occurred_at == earlier and event.recorded_at == j.now and event.site == "site-ny"


def test_a_failed_collection_is_recollected_under_a_new_din() -> None:
    j = Journey().walk_to(Step.APHERESIS_SCHEDULED)
    j.do(
        RecordCollection(
            actor="a",
            scanned_coi=COI.barcode,
            collection_din=DIN.barcode,
            succeeded=False,
            reason="low CD3+ yield",
        )
    )
    assert j.state.step is Step.COLLECTION_FAILED and j.state.collection is None
    j.do(ScheduleApheresis(actor="c", slot_at=j.now + timedelta(days=7)))
    from cartflow.domain.journey import JourneyError

    try:
        j.do(RecordCollection(actor="a", scanned_coi=COI.barcode, collection_din=DIN.barcode))
    except JourneyError as error:
        assert "its own DIN" in str(error)
    else:
        raise AssertionError("a DIN was used twice")
    j.do(RecordCollection(actor="a", scanned_coi=COI.barcode, collection_din=SECOND_DIN.barcode))
    assert [c.succeeded for c in j.state.collections] == [False, True]


def test_bridging_therapy_is_recorded_while_the_product_is_made() -> None:
    j = Journey().walk_to(Step.COLLECTED)
    j.do(RecordBridgingTherapy(actor="p", regimen="R-GemOx"))
    assert j.state.step is Step.BRIDGING
    j.walk_to(Step.MANUFACTURING).do(RecordBridgingTherapy(actor="p", regimen="radiotherapy"))
    assert j.state.bridging == ("R-GemOx", "radiotherapy") and j.state.step is Step.MANUFACTURING


def test_a_product_of_several_bags_is_infused_bag_by_bag() -> None:
    bags = (BagSpec(bag_id="BAG-1", lot="L"), BagSpec(bag_id="BAG-2", lot="L"))
    j = Journey(bags=bags).walk_to(Step.INFUSING)
    assert [b.bag_id for b in j.state.remaining_bags] == ["BAG-2"]
    j.walk_to(Step.INFUSED)
    assert [i.bag_id for i in j.state.infusions] == ["BAG-1", "BAG-2"]


def test_death_closes_a_case_with_its_reason_and_unused_product_waits_for_disposal() -> None:
    j = Journey().walk_to(Step.AVAILABLE)
    j.do(RecordDeath(actor="p", reason="sepsis", signature=j.sign(Role.PHYSICIAN)))
    assert j.state.step is Step.DECEASED and j.state.reason == "sepsis"
    assert j.state.waiting_for == "disposal of the unused product"
    assert j.state.next_actions == ("DisposeProduct",)


def test_the_transition_table_covers_every_step_and_every_command_is_placed() -> None:
    assert set(TRANSITIONS) == set(Step)
    assert all(TRANSITIONS[s] == frozenset() for s in TERMINAL)
    assert all(steps for steps in COMMAND_STEPS.values())
    assert CaseState().step is Step.NEW and CaseState().next_actions == ("ReferPatient",)
