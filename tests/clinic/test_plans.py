"""Plans on the case through the clinic: the proposal from the network's bookings, accepting
it on the page and through the API (the same events), the site's answer, and re-planning."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from cartflow.clinic import services
from cartflow.clinic.case_state import case_state
from cartflow.clinic.models import Event, Slot, SlotBooking, SlotKind, TherapyCase
from cartflow.clinic.services import plans
from cartflow.clinic.services.errors import Conflict
from cartflow.domain.roles import Role
from tests.clinic.api_network import ApiNetwork, build_network

pytestmark = pytest.mark.django_db


def _network(stage: str = "screened") -> ApiNetwork:
    net = build_network(stage=stage)
    admin = net.own[Role.ADMIN]
    today = timezone.localdate()
    for days in range(1, 60):
        day = today + timedelta(days=days)
        services.open_slot(net.sites["unit"], SlotKind.APHERESIS_CHAIR, day, 2, acting_user=admin)
        services.open_slot(net.sites["factory"], SlotKind.MANUFACTURING, day, 1, acting_user=admin)
    return net


def _state(net: ApiNetwork) -> Any:
    return case_state(TherapyCase.objects.get(pk=net.case.pk))


def _events(net: ApiNetwork, since: int) -> list[dict[str, Any]]:
    rows = Event.objects.filter(case=net.case, seq__gt=since).order_by("seq")
    out = []
    for row in rows:
        body = json.loads(bytes(row.body))
        data = {k: v for k, v in body["data"].items() if k not in ("plan_id", "facts", "slot")}
        data.pop("manufacturing_slot", None)
        out.append({"type": row.type, "data": data})
    return out


def test_the_proposal_is_the_planners_earliest_plan_on_free_places() -> None:
    net = _network()
    proposal = plans.propose(net.case)
    assert proposal.plan is not None, proposal.no_plan
    dates = proposal.dates
    assert dates["apheresis"] > proposal.today
    assert proposal.chair_slot is not None and proposal.chair_slot.day == dates["apheresis"]
    slot = proposal.manufacturing_slot
    assert slot is not None and slot.day == dates["manufacturing_start"]
    # tisagenlecleucel: the run's turnaround is the catalog's 28 days; infusion 2-11 days
    # after lymphodepletion ends (US label).
    assert (dates["release"] - dates["manufacturing_start"]).days == 28
    assert 2 <= (dates["infusion"] - dates["ld_end"]).days <= 11
    # A full day is skipped: the next proposal starts its run on another day.
    Slot.objects.filter(pk=slot.pk).update(booked=1)
    moved = plans.propose(net.case)
    assert moved.plan is not None and moved.dates["manufacturing_start"] != slot.day


@pytest.mark.parametrize("path", ["page", "api"])
def test_page_and_api_accept_with_the_same_events(path: str) -> None:
    net = _network()
    coordinator = net.own[Role.COORDINATOR]
    proposal = plans.propose(net.case)
    before = Event.objects.filter(case=net.case).count()
    client = net.client(coordinator)
    if path == "page":
        answer = client.post(
            f"/cases/{net.case.coi}/plan/", {"proposal": proposal.fingerprint}, follow=True
        )
        assert answer.status_code == 200
        text = answer.content.decode()
        assert "Plan accepted" in text
        assert proposal.dates["infusion"].isoformat() in text
    else:
        answer = client.post(
            f"/api/cases/{net.case.coi}/plan/accept",
            {"proposal": proposal.fingerprint},
            content_type="application/json",
        )
        assert answer.status_code == 201, answer.content
    events = _events(net, before)
    assert [e["type"] for e in events] == ["apheresis.scheduled", "slot.booked", "plan.accepted"]
    assert events[-1]["data"]["infusion_on"] == proposal.dates["infusion"].isoformat()
    assert events[0]["data"]["chair_day"] == proposal.dates["apheresis"].isoformat()
    # The places are taken by the same rows as a booking by hand.
    assert SlotBooking.objects.filter(case=net.case).count() == 2
    chair = Slot.objects.get(pk=proposal.chair_slot.pk)  # type: ignore[union-attr]
    assert chair.booked == 1
    state = _state(net)
    assert state.plan is not None and state.plan.status == "accepted"
    # Both paths end in these very events: the data is the proposal's, whoever accepted it.
    d = proposal.dates
    assert {k: v for k, v in events[-1]["data"].items() if k != "catalog_version"} == {
        "centre": net.sites["center"].slug,
        "manufacturing_site": net.sites["factory"].slug,
        "books_chair": True,
        "chair_day": d["apheresis"].isoformat(),
        "transit_days": plans.COURIER_TRANSIT_DAYS,
        "holds": {
            "infusion_bed": {"centre": net.sites["center"].slug, "day": d["infusion"].isoformat()},
            "monitoring_bed": {
                "centre": net.sites["center"].slug,
                "from": d["infusion"].isoformat(),
                "until": d["monitoring_end"].isoformat(),
            },
            "courier_lane": {
                "site": net.sites["factory"].slug,
                "centre": net.sites["center"].slug,
                "day": d["shipment"].isoformat(),
            },
        },
        "apheresis_on": d["apheresis"].isoformat(),
        "manufacturing_start_on": d["manufacturing_start"].isoformat(),
        "release_on": d["release"].isoformat(),
        "shipment_on": d["shipment"].isoformat(),
        "arrival_on": d["arrival"].isoformat(),
        "ld_start_on": d["ld_start"].isoformat(),
        "ld_end_on": d["ld_end"].isoformat(),
        "infusion_on": d["infusion"].isoformat(),
        "monitoring_until": d["monitoring_end"].isoformat(),
    }
    assert events[1]["data"]["day"] == d["manufacturing_start"].isoformat()


def test_a_stale_proposal_is_refused_and_nothing_is_booked() -> None:
    net = _network()
    proposal = plans.propose(net.case)
    Slot.objects.filter(pk=proposal.manufacturing_slot.pk).update(booked=1)  # type: ignore[union-attr]
    answer = net.client(net.own[Role.COORDINATOR]).post(
        f"/api/cases/{net.case.coi}/plan/accept",
        {"proposal": proposal.fingerprint},
        content_type="application/json",
    )
    assert answer.status_code == 409
    assert "reload" in answer.json()["detail"]
    assert SlotBooking.objects.filter(case=net.case).count() == 0
    assert _state(net).plan is None


def test_the_site_declines_and_the_coordinator_re_plans() -> None:
    net = _network()
    coordinator = net.client(net.own[Role.COORDINATOR])
    maker = net.client(net.own[Role.MANUFACTURING])
    first = plans.propose(net.case)
    assert (
        coordinator.post(
            f"/api/cases/{net.case.coi}/plan/accept", {}, content_type="application/json"
        ).status_code
        == 201
    )
    slot = Slot.objects.get(pk=first.manufacturing_slot.pk)  # type: ignore[union-attr]
    assert slot.booked == 1
    # The coordinator may not answer for the site, nor the site accept a plan.
    assert (
        coordinator.post(
            f"/api/cases/{net.case.coi}/plan/decline",
            {"reason": "x"},
            content_type="application/json",
        ).status_code
        == 403
    )
    # Another manufacturing site (brought into the case) does not answer for this one.
    from cartflow.clinic.services.cases import add_participant

    add_participant(net.case, net.sites["other-factory"], timezone.now())
    other = net.client(net.other[Role.MANUFACTURING])
    assert (
        other.post(
            f"/api/cases/{net.case.coi}/plan/confirm", {}, content_type="application/json"
        ).status_code
        == 403
    )
    declined = maker.post(
        f"/api/cases/{net.case.coi}/plan/decline",
        {"reason": "clean room closed for maintenance"},
        content_type="application/json",
    )
    assert declined.status_code == 201, declined.content
    assert _state(net).plan.needs_replan  # type: ignore[union-attr]
    from cartflow.clinic.worklist import waiting_words, waits_on

    assert Role.COORDINATOR in waits_on(_state(net))
    assert "re-plan" in waiting_words(_state(net))
    again = maker.post(
        f"/api/cases/{net.case.coi}/plan/confirm", {}, content_type="application/json"
    )
    assert again.status_code == 422
    assert "plan.not_proposed" in again.content.decode()
    released = coordinator.post(
        f"/api/cases/{net.case.coi}/plan/release",
        {"reason": "the site declined its slot"},
        content_type="application/json",
    )
    assert released.status_code == 201, released.content
    slot.refresh_from_db()
    assert slot.booked == 0
    row = SlotBooking.objects.get(case=net.case, slot=slot)
    assert row.released_at is not None and row.release_hash
    # The re-plan keeps the scheduled collection and books a manufacturing slot again.
    Slot.objects.filter(pk=slot.pk).update(capacity=1, booked=1)  # the declined day is gone
    second = plans.propose(net.case)
    assert second.plan is not None and not second.books_chair
    assert second.dates["apheresis"] == first.dates["apheresis"]
    assert second.dates["manufacturing_start"] != first.dates["manufacturing_start"]
    accepted = coordinator.post(
        f"/api/cases/{net.case.coi}/plan/accept",
        {"proposal": second.fingerprint},
        content_type="application/json",
    )
    assert accepted.status_code == 201, accepted.content
    types = [e["type"] for e in accepted.json()["events"]]
    assert types == ["slot.booked", "plan.accepted"]
    confirmed = maker.post(
        f"/api/cases/{net.case.coi}/plan/confirm", {}, content_type="application/json"
    )
    assert confirmed.status_code == 201
    assert _state(net).plan.status == "confirmed"  # type: ignore[union-attr]


def test_another_case_plan_holds_its_beds_and_the_get_route_shows_both() -> None:
    net = _network()
    answer = net.client(net.own[Role.COORDINATOR]).get(f"/api/cases/{net.case.coi}/plan")
    assert answer.status_code == 200
    body = answer.json()
    assert body["accepted"] is None and body["proposed"]["legs"][0]["leg"] == "apheresis"
    plans.accept_plan(net.case, acting_user=net.own[Role.COORDINATOR])
    body = net.client(net.own[Role.MANUFACTURING]).get(f"/api/cases/{net.case.coi}/plan").json()
    assert body["accepted"]["status"] == "accepted"
    assert body["proposed"] is None or body["proposed"]["legs"]
    weeks = net.client(net.own[Role.COORDINATOR]).get("/api/capacity?weeks=12").json()
    assert sum(w["infusions_planned"] for w in weeks) == 1
    assert sum(w["manufacturing_taken"] for w in weeks) == 1
    assert net.client(net.own[Role.PHYSICIAN]).get("/api/capacity").status_code == 403


def test_no_plan_names_the_missing_fact() -> None:
    net = build_network(stage="screened", indication_id="tisagenlecleucel/b-all")
    proposal = plans.propose(net.case)
    # B-ALL is plannable on label facts in the US; with no slots offered there is no run.
    assert proposal.plan is None
    assert proposal.no_plan is not None and proposal.no_plan.reason
    page = net.client(net.own[Role.COORDINATOR]).get(f"/cases/{net.case.coi}/plan/")
    text = page.content.decode()
    assert "No plan can be proposed: no apheresis chair, manufacturing place" in text
    assert "Accept this plan" not in text


def test_a_missing_fact_is_named_in_words() -> None:
    from cartflow.clinic.views.plans import no_plan_words
    from cartflow.scheduling.timings import NoPlan

    words = no_plan_words(
        NoPlan("x", "cilta: manufacturing_turnaround_days", ("manufacturing_turnaround_days",)),
        "ciltacabtagene autoleucel",
    )
    assert "the manufacturing time" in words and "_" not in words


def test_the_plan_page_and_its_link_are_for_the_planning_roles() -> None:
    net = _network()
    page = net.client(net.own[Role.COORDINATOR]).get(f"/cases/{net.case.coi}/plan/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Accept this plan" in text and "<svg" in text and "today" in text
    assert "manufacturing_start" not in text  # plain words, no code names
    case_page = net.client(net.own[Role.COORDINATOR]).get(f"/cases/{net.case.coi}/")
    assert f"/cases/{net.case.coi}/plan/" in case_page.content.decode()
    physician = net.client(net.own[Role.PHYSICIAN])
    assert physician.get(f"/cases/{net.case.coi}/plan/").status_code == 403
    assert (
        f"/cases/{net.case.coi}/plan/"
        not in physician.get(f"/cases/{net.case.coi}/").content.decode()
    )
    maker = net.client(net.own[Role.MANUFACTURING])
    assert maker.get(f"/cases/{net.case.coi}/plan/").status_code == 404  # not its case yet
    plans.accept_plan(net.case, acting_user=net.own[Role.COORDINATOR])
    seen = maker.get(f"/cases/{net.case.coi}/plan/")
    assert seen.status_code == 200
    assert "Confirm the manufacturing slot" in seen.content.decode()
    assert "Accept this plan" not in seen.content.decode()
    confirmed = maker.post(
        f"/cases/{net.case.coi}/plan/answer/", {"answer": "confirm"}, follow=True
    )
    assert "The manufacturing slot was confirmed" in confirmed.content.decode()
    capacity = net.client(net.own[Role.COORDINATOR]).get("/capacity/")
    assert capacity.status_code == 200 and "capacity-chart" in capacity.content.decode()
    assert net.client(net.own[Role.PHYSICIAN]).get("/capacity/").status_code == 403


def test_a_bad_release_says_why_and_records_nothing() -> None:
    net = _network()
    client = net.client(net.own[Role.COORDINATOR])
    plans.accept_plan(net.case, acting_user=net.own[Role.COORDINATOR])
    before = Event.objects.filter(case=net.case).count()
    answer = client.post(f"/cases/{net.case.coi}/plan/release/", {"reason": "  "})
    assert answer.status_code == 400
    assert "Nothing was recorded" in answer.content.decode()
    assert Event.objects.filter(case=net.case).count() == before
    done = client.post(
        f"/cases/{net.case.coi}/plan/release/", {"reason": "patient unwell"}, follow=True
    )
    assert "The plan was released" in done.content.decode()


def test_the_command_line_shows_and_accepts_through_the_same_service(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from cartflow.cli import main

    net = _network()
    coordinator = net.own[Role.COORDINATOR].get_username()
    assert main(["plan", "show", net.case.coi, "--as", coordinator, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    proposal = shown["proposed"]["proposal"]
    physician = net.own[Role.PHYSICIAN].get_username()
    assert main(["plan", "accept", net.case.coi, "--as", physician]) == 2
    assert "may accept_plan" in capsys.readouterr().err
    code = main(
        ["plan", "accept", net.case.coi, "--as", coordinator, "--proposal", proposal, "--json"]
    )
    assert code == 0
    written = json.loads(capsys.readouterr().out)
    assert written["events"] == ["apheresis.scheduled", "slot.booked", "plan.accepted"]
    assert _state(net).plan.status == "accepted"


def test_the_patient_view_and_the_banner_show_the_plans_dates_and_no_other() -> None:
    from zoneinfo import ZoneInfo

    from cartflow.clinic import patient_view
    from cartflow.clinic.case_banner import infusion_day

    net = _network()
    case = TherapyCase.objects.get(pk=net.case.pk)
    before = patient_view.build(case, _state(net), "patient", timezone.now())
    assert before.next is None  # nothing recorded, nothing shown
    plans.accept_plan(net.case, acting_user=net.own[Role.COORDINATOR])
    state = _state(net)
    plan = state.plan
    page = patient_view.build(case, state, "patient", timezone.now())
    assert page.next is not None and page.next.on == plan.apheresis_on
    zone = ZoneInfo(case.treating_site.time_zone)
    assert plan.infusion_on.isoformat() in infusion_day(state, zone)


def _second_case(net: ApiNetwork) -> TherapyCase:
    """Another patient of the same centre, walked to screening like the first."""
    from datetime import date

    from cartflow.clinic.demo_seed import Walk, main_path
    from cartflow.clinic.services import referral

    patient = services.register_patient(
        net.sites["center"],
        record_number="DEMO-7002",
        given_name="Demo",
        family_name="Patient-702",
        birth_date=date(1971, 1, 1),
        acting_user=net.own[Role.COORDINATOR],
    )
    ops = main_path("screened")
    clock = timezone.now() - sum((d for d, _ in ops), timedelta()) - timedelta(hours=2)
    case = referral.refer_patient(
        patient,
        product_id="tisagenlecleucel",
        indication_id="tisagenlecleucel/lbcl",
        acting_user=net.own[Role.PHYSICIAN],
        now=clock,
    ).case
    walk = Walk(case, net.walk.crew, clock, iter(range(500, 1_000_000)))
    for delta, op in ops:
        walk.clock += delta
        op(walk, net.own[Role.ADMIN])
    return case


def test_two_cases_never_share_the_last_place_and_the_second_is_re_proposed() -> None:
    net = _network()
    other = _second_case(net)
    first, second = plans.propose(net.case), plans.propose(other)
    slot = first.manufacturing_slot
    assert slot is not None and second.manufacturing_slot == slot  # both want the one place
    plans.accept_plan(other, acting_user=net.own[Role.COORDINATOR], proposal=second.fingerprint)
    with pytest.raises(Conflict):
        plans.accept_plan(
            net.case, acting_user=net.own[Role.COORDINATOR], proposal=first.fingerprint
        )
    assert Slot.objects.get(pk=slot.pk).booked == 1  # never more than its capacity
    assert _state(net).plan is None
    again = plans.propose(net.case)
    assert again.dates["manufacturing_start"] != slot.day
    plans.accept_plan(net.case, acting_user=net.own[Role.COORDINATOR], proposal=again.fingerprint)
    assert _state(net).plan is not None
