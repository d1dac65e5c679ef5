"""An append folds only the events written since this process last folded the case.

The kept state must never change a decision: whatever happened in between (appends, a
rolled-back append, an edited or cut record), the state decided on equals the case folded
from its first stored event, or the append is refused as before.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cartflow.clinic import services
from cartflow.clinic.models import CaseProjection, Event, TherapyCase
from cartflow.clinic.services import store
from cartflow.clinic.services.append import RecordBroken, replay_chain
from cartflow.clinic.services.folded_states import FOLDED, Folded, FoldedStates
from tests.clinic.fixtures import triggers_dropped
from tests.clinic.toy import AddNote, ToyMachine

append_module = importlib.import_module("cartflow.clinic.services.append")


class CountingMachine(ToyMachine):
    """The toy journey, counting the events it folds; its state remembers every note's text,
    so two histories of the same length fold to different states."""

    def __init__(self) -> None:
        self.folded = 0

    def apply(self, state: Any, event: Any) -> Any:
        self.folded += 1
        state = super().apply(state, event)
        return {**state, "texts": [*state.get("texts", []), event.data.get("text")]}


@pytest.fixture
def machine() -> Iterator[CountingMachine]:
    FOLDED.clear()
    yield CountingMachine()
    FOLDED.clear()


def _from_the_first_event(case: TherapyCase) -> tuple[Any, int, str]:
    return replay_chain(case.coi, store.case_chain(case.pk, case.coi).rows, CountingMachine())


@pytest.mark.django_db
def test_each_append_folds_only_what_was_written_since_the_last(
    case: TherapyCase, physician: Any, machine: CountingMachine
) -> None:
    for n in range(30):
        services.append(case, AddNote(f"note {n}"), acting_user=physician, machine=machine)
    machine.folded = 0
    services.append(case, AddNote("one more"), acting_user=physician, machine=machine)
    # the previous append's event, folded onto the kept state, then the new one: not 31
    assert machine.folded == 2
    assert CaseProjection.objects.get(case=case).state["notes"] == 32


@pytest.mark.django_db
def test_without_a_kept_state_the_case_is_folded_from_its_first_event(
    case: TherapyCase, physician: Any, machine: CountingMachine
) -> None:
    for n in range(5):
        services.append(case, AddNote(f"note {n}"), acting_user=physician, machine=machine)
    FOLDED.clear()
    machine.folded = 0
    services.append(case, AddNote("after a restart"), acting_user=physician, machine=machine)
    assert machine.folded == 6 + 1  # the opening note, five notes, then the new one


@pytest.mark.django_db
def test_an_edited_event_still_refuses_every_write_while_its_state_is_kept(
    case: TherapyCase, physician: Any, machine: CountingMachine
) -> None:
    for n in range(3):
        services.append(case, AddNote(f"note {n}"), acting_user=physician, machine=machine)
    assert FOLDED.get(case.coi, machine) is not None
    event = Event.objects.get(case=case, seq=2)
    entry = json.loads(bytes(event.body))
    entry["data"]["text"] = "altered"
    with triggers_dropped(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE clinic_event SET body = %s WHERE id = %s",
            [json.dumps(entry).encode(), event.pk],
        )
    with pytest.raises(RecordBroken, match="does not verify"):
        services.append(case, AddNote("more"), acting_user=physician, machine=machine)


@pytest.mark.django_db
def test_a_state_kept_from_a_rolled_back_append_is_not_used(
    case: TherapyCase, physician: Any, machine: CountingMachine
) -> None:
    services.append(case, AddNote("kept"), acting_user=physician, machine=machine)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.append(case, AddNote("undone", count=3), acting_user=physician, machine=machine)
        services.append(case, AddNote("undone too"), acting_user=physician, machine=machine)
        raise RuntimeError("rolled back")
    kept = FOLDED.get(case.coi, machine)
    assert kept is not None and kept.version == 5  # remembered inside the rolled-back work
    result = services.append(case, AddNote("after"), acting_user=physician, machine=machine)
    assert (result.version, result.state["texts"]) == (3, ["referred", "kept", "after"])
    assert services.verify_case(case).ok


@pytest.mark.django_db
def test_a_state_folded_by_another_machine_is_not_used(
    case: TherapyCase, physician: Any, machine: CountingMachine
) -> None:
    services.append(case, AddNote("one"), acting_user=physician, machine=machine)
    other = CountingMachine()
    services.append(case, AddNote("two"), acting_user=physician, machine=other)
    assert other.folded == 2 + 1  # folded from the first event, then the new one


def test_the_least_recently_used_case_goes_first() -> None:
    kept = FoldedStates(size=2)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("cartflow.clinic.services.folded_states._database", lambda: "db")
        for coi in ("A", "B"):
            kept.put(coi, Folded("m", 1, "h", coi))
        assert kept.get("A", "m") is not None  # A is now the most recently used
        kept.put("C", Folded("m", 1, "h", "C"))
        assert [kept.get(coi, "m") is not None for coi in ("A", "B", "C")] == [True, False, True]


STEPS = st.lists(
    st.tuples(st.sampled_from(["here", "elsewhere", "rolled back", "forget"]), st.integers(1, 3)),
    min_size=1,
    max_size=12,
)


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=STEPS)
def test_the_state_decided_on_is_always_the_case_folded_from_its_first_event(
    case: TherapyCase, physician: Any, steps: list[tuple[str, int]], monkeypatch: Any
) -> None:
    machine = CountingMachine()

    def add(text: str, count: int) -> None:
        services.append(case, AddNote(text, count), acting_user=physician, machine=machine)

    with transaction.atomic():  # each example starts from the fixture's case again
        for kind, count in steps:
            if kind == "forget":  # a restarted worker
                FOLDED.clear()
            elif kind == "here":
                add("here", count)
            elif kind == "elsewhere":  # another worker process: its own kept states
                with monkeypatch.context() as patch:
                    patch.setattr(append_module, "FOLDED", FoldedStates())
                    add("elsewhere", count)
            else:  # this worker folds a history that is then rolled back
                with pytest.raises(RuntimeError), transaction.atomic():
                    add("undone", count)
                    add("undone too", 1)
                    raise RuntimeError("rolled back")
            rows = store.case_chain(case.pk, case.coi).rows
            kept = replay_chain(case.coi, rows, machine, FOLDED.get(case.coi, machine))
            assert kept == _from_the_first_event(case)
        transaction.set_rollback(True)
    FOLDED.clear()
