"""Whatever the sequence of accepted and refused writes, the record stays provable."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cartflow.clinic import services
from cartflow.clinic.models import AuditRow, CaseProjection, Patient
from cartflow.domain.errors import DomainError
from tests.clinic.fixtures import open_toy_case
from tests.clinic.toy import TOY, AddNote, CloseCase

pytestmark = pytest.mark.django_db

COMMANDS = st.lists(
    st.one_of(
        st.builds(AddNote, st.sampled_from(["seen", "called", "  "]), st.integers(1, 3)),
        st.just(CloseCase()),
    ),
    max_size=8,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(commands=COMMANDS)
def test_any_run_of_writes_leaves_a_verifiable_chain_and_a_faithful_projection(
    patient: Patient, physician: Any, commands: list[Any]
) -> None:
    case = open_toy_case(patient, physician).case
    accepted = 1
    for command in commands:
        try:
            services.append(case, command, acting_user=physician, machine=TOY)
            accepted += 1
        except DomainError:
            pass
    assert services.verify_case(case).ok
    projection = CaseProjection.objects.get(case=case)
    assert projection.state == services.replay(case, TOY)
    assert projection.version == case.events.count()
    assert AuditRow.objects.filter(case_coi=case.coi).count() == accepted
