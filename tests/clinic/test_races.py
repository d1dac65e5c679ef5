"""Races between real processes released together by a barrier, many rounds over.

Two users appending to the same case, or booking the last manufacturing place, at the same
moment: exactly one wins, the other gets a Conflict that says what happened, and the chain
never forks. Each process has its own connection to a real database (an on-disk SQLite file
in WAL mode, or PostgreSQL), as two web workers would.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.clinic.live_database import LiveDatabase, run_in_child, start_children

ROUNDS = 40


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, django_db_blocker: Any) -> Iterator[str]:
    with django_db_blocker.unblock():
        database = LiveDatabase(tmp_path_factory.mktemp("live"))
        try:
            yield database.name
        finally:
            database.drop()


def _set_up(rounds: int) -> dict[str, Any]:
    """In a child: a network, ``2 * rounds`` cases and ``rounds`` one-place slots."""
    from django.contrib.auth import get_user_model

    from cartflow.clinic import services
    from tests.clinic.toy import TOY, AddNote

    users = get_user_model().objects
    admin = users.create_user("race-admin", password="x")
    site = services.create_site(
        "race-center", "Race Center", "treatment_center", facility_code="R1234", acting_user=admin
    )
    factory = services.create_site(
        "race-factory", "Race Factory", "manufacturing_site", acting_user=admin
    )
    for name in ("race-one", "race-two"):
        services.grant_role(
            users.create_user(name, password="x"), site, "coordinator", acting_user=admin
        )
    patient = services.register_patient(
        site,
        record_number="RACE-1",
        given_name="Patient-RACE",
        family_name="Test",
        birth_date=date(1970, 1, 1),
        acting_user=admin,
    )
    cases = [
        services.open_case(patient, AddNote("opened"), acting_user=admin, machine=TOY).case.coi
        for _ in range(3 * rounds)
    ]
    slots = [
        str(
            services.open_slot(
                factory, "manufacturing", date(2030, 1, 1) + timedelta(days=i), 1, acting_user=admin
            ).public_id
        )
        for i in range(rounds)
    ]
    return {"cases": cases, "slots": slots}


def _contender(username: str, barrier: Any, jobs: list[tuple[str, ...]], kind: str) -> list[str]:
    """In a child: for each round, wait at the barrier with the other, then try to write."""
    from django.contrib.auth import get_user_model

    from cartflow.clinic import services
    from cartflow.clinic.models import Slot
    from tests.clinic.toy import TOY, AddNote, BookSlot

    user = get_user_model().objects.get(username=username)
    outcomes = []
    for job in jobs:
        barrier.wait(timeout=60)
        try:
            if kind == "same-case":
                services.append(
                    job[0], AddNote(username), acting_user=user, machine=TOY, expected_version=1
                )
            elif kind == "unversioned":
                services.append(job[0], AddNote(username), acting_user=user, machine=TOY)
            else:
                slot = Slot.objects.get(public_id=job[1])
                services.book_slot(job[0], slot, BookSlot(job[1]), acting_user=user, machine=TOY)
            outcomes.append("won")
        except services.Conflict as exc:
            outcomes.append(f"conflict: {exc}")
    return outcomes


def _inspect(cases: list[str], slots: list[str]) -> dict[str, Any]:
    from cartflow.clinic import services
    from cartflow.clinic.models import Event, Slot, SlotBooking

    return {
        "ledger": services.verify_ledger().to_dict(),
        "events": {coi: Event.objects.filter(case__coi=coi).count() for coi in cases},
        "booked": {s: Slot.objects.get(public_id=s).booked for s in slots},
        "bookings": {s: SlotBooking.objects.filter(slot__public_id=s).count() for s in slots},
    }


def _race(live: str, kind: str, jobs: list[tuple[str, ...]]) -> list[tuple[str, str]]:
    from tests.clinic.live_database import FORK

    barrier = FORK.Barrier(2)
    processes, out = start_children(
        live, _contender, [("race-one", barrier, jobs, kind), ("race-two", barrier, jobs, kind)]
    )
    results = [out.get(timeout=600) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    for status, value in results:
        assert status == "ok", value
    return list(zip(results[0][1], results[1][1], strict=True))


@pytest.fixture(scope="module")
def arena(live: str, django_db_blocker: Any) -> dict[str, Any]:
    with django_db_blocker.unblock():
        return dict(run_in_child(live, _set_up, ROUNDS))


def test_two_users_appending_to_the_same_case_at_once_one_wins_one_gets_a_conflict(
    live: str, arena: dict[str, Any], django_db_blocker: Any
) -> None:
    cases = arena["cases"][:ROUNDS]
    with django_db_blocker.unblock():
        rounds = _race(live, "same-case", [(coi,) for coi in cases])
        state = run_in_child(live, _inspect, cases, [])
    for first, second in rounds:
        assert sorted([first == "won", second == "won"]) == [False, True], (first, second)
        loser = first if first != "won" else second
        assert "changed since you loaded it" in loser or "at the same moment" in loser
    assert set(state["events"].values()) == {2}  # the opening event and the one winner
    assert state["ledger"]["ok"], state["ledger"]


def test_appends_without_a_version_land_one_after_the_other_and_the_chain_never_forks(
    live: str, arena: dict[str, Any], django_db_blocker: Any
) -> None:
    cases = arena["cases"][2 * ROUNDS :]
    with django_db_blocker.unblock():
        rounds = _race(live, "unversioned", [(coi,) for coi in cases])
        state = run_in_child(live, _inspect, cases, [])
    assert all(pair == ("won", "won") for pair in rounds), rounds
    assert set(state["events"].values()) == {3}
    assert state["ledger"]["ok"], state["ledger"]


def test_two_users_booking_the_last_manufacturing_place_one_wins_one_gets_a_conflict(
    live: str, arena: dict[str, Any], django_db_blocker: Any
) -> None:
    slots = arena["slots"]
    # Same slot, each contender for a case of its own: the place is what they race for.
    mine = [(arena["cases"][ROUNDS + i], slots[i]) for i in range(ROUNDS)]
    theirs = [(arena["cases"][i], slots[i]) for i in range(ROUNDS)]
    with django_db_blocker.unblock():
        rounds = _race_split(live, mine, theirs)
        state = run_in_child(live, _inspect, [], slots)
    for first, second in rounds:
        assert sorted([first == "won", second == "won"]) == [False, True], (first, second)
        loser = first if first != "won" else second
        assert "fully booked" in loser
    assert set(state["booked"].values()) == {1}
    assert set(state["bookings"].values()) == {1}
    assert state["ledger"]["ok"], state["ledger"]


def _race_split(
    live: str, jobs_one: list[tuple[str, ...]], jobs_two: list[tuple[str, ...]]
) -> list[tuple[str, str]]:
    from tests.clinic.live_database import FORK

    barrier = FORK.Barrier(2)
    processes, out = start_children(
        live,
        _contender,
        [("race-one", barrier, jobs_one, "slot"), ("race-two", barrier, jobs_two, "slot")],
    )
    results = [out.get(timeout=600) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    for status, value in results:
        assert status == "ok", value
    return list(zip(results[0][1], results[1][1], strict=True))


def test_the_live_database_is_a_real_file_or_server(live: str) -> None:
    assert live.endswith(".sqlite3") or live.startswith("cartflow_live_")
    if live.endswith(".sqlite3"):
        assert Path(live).exists()
