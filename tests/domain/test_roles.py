"""The permission table: who may do what, as a pure function."""

from __future__ import annotations

import pytest

from cartflow.domain.roles import PERMISSIONS, Action, Role, can, roles_that_can


def test_every_role_has_a_line_in_the_table() -> None:
    assert set(PERMISSIONS) == set(Role)


def test_every_action_is_allowed_to_some_role() -> None:
    unused = [action for action in Action if not roles_that_can(action)]
    assert unused == []


def test_a_physician_signs_eligibility_and_a_coordinator_does_not() -> None:
    assert can(Role.PHYSICIAN, Action.SIGN_ELIGIBILITY)
    assert not can(Role.COORDINATOR, Action.SIGN_ELIGIBILITY)


def test_a_manufacturing_operator_and_a_courier_never_see_the_patient() -> None:
    assert not can(Role.MANUFACTURING, Action.VIEW_PATIENT)
    assert not can(Role.COURIER, Action.VIEW_PATIENT)
    assert can(Role.MANUFACTURING, Action.VIEW_CASE)
    assert can(Role.COURIER, Action.VIEW_CASE)


def test_only_quality_decides_on_quarantined_or_out_of_specification_product() -> None:
    assert roles_that_can(Action.DECIDE_QUARANTINE) == {Role.QUALITY}
    assert roles_that_can(Action.DECIDE_OUT_OF_SPECIFICATION) == {Role.QUALITY}


def test_an_auditor_reads_and_verifies_but_records_nothing_on_a_case() -> None:
    assert {a for a in Action if can(Role.AUDITOR, a)} == {
        Action.VIEW_CASE,
        Action.VIEW_PATIENT,
        Action.VIEW_SLOTS,
        Action.VERIFY_AUDIT,
        Action.EXPORT_FHIR,  # reading, in FHIR
    }


def test_an_admin_manages_capacity_but_reads_no_case() -> None:
    assert not can(Role.ADMIN, Action.VIEW_CASE)
    assert not can(Role.ADMIN, Action.VIEW_PATIENT)
    assert can(Role.ADMIN, Action.OPEN_SLOT)


def test_a_courier_records_temperatures_and_nothing_else_on_a_case() -> None:
    assert {a for a in Action if can(Role.COURIER, a)} == {
        Action.VIEW_CASE,
        Action.RECORD_TEMPERATURE,
    }


@pytest.mark.parametrize("role", list(Role))
def test_a_role_that_acts_on_a_case_may_also_see_it(role: Role) -> None:
    acts = {a for a in Action if can(role, a)} - {
        Action.VIEW_SLOTS,
        Action.OPEN_SLOT,
        Action.VERIFY_AUDIT,
        Action.ASSESS_ELIGIBILITY,
        Action.REGISTER_PATIENT,
        Action.EXPORT_REGISTRY,  # a site's export, not one case
        Action.VIEW_CAPACITY,  # the network's capacity, not one case
    }
    if acts:
        assert can(role, Action.VIEW_CASE)


def test_roles_and_actions_are_accepted_by_their_names() -> None:
    assert can("pharmacy", "thaw_bag")
    assert not can("pharmacy", "infuse_bag")


def test_an_unknown_role_or_action_may_do_nothing() -> None:
    assert not can("janitor", Action.VIEW_CASE)
    assert not can(Role.PHYSICIAN, "launch_rockets")


def test_only_a_physician_grades_crs_and_icans() -> None:
    """ASTCT grading is a physician's assessment: nurses, pharmacy and others record none."""
    assert roles_that_can(Action.GRADE_TOXICITY) == {Role.PHYSICIAN}
