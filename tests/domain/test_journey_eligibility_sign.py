"""Eligibility is signed with the facts it judged (docs/journey.md, Eligibility): an empty
judgment, one for another indication, or one that is not "eligible" in the case's region is
refused; treating outside the label is a physician's signed off-label exception with a reason."""

from __future__ import annotations

from dataclasses import replace

import pytest

from cartflow.domain.errors import InvalidInput
from cartflow.domain.journey import JourneyError, SignEligibility, SignOffLabelEligibility, Step
from cartflow.domain.roles import Role
from tests.domain.journey_cases import Journey


def _refused(j: Journey, command: object) -> JourneyError:
    with pytest.raises(JourneyError) as caught:
        j.do(command)  # type: ignore[arg-type]
    return caught.value


def test_an_empty_judgment_is_not_signed() -> None:
    """The case page once signed with ``assessment: {}``."""
    j = Journey().walk_to(Step.ANTIGEN_TESTED)
    empty = SignEligibility(actor="p", signature=j.sign(Role.PHYSICIAN))
    assert _refused(j, empty).rule_id == "eligibility.no_judgment"
    assert j.state.step is Step.ANTIGEN_TESTED


def test_a_judgment_for_another_indication_is_not_signed() -> None:
    j = Journey().walk_to(Step.ANTIGEN_TESTED)
    command = j.sign_eligibility()
    other = replace(command, assessment={**command.assessment, "indication": "x/y"})
    assert _refused(j, other).rule_id == "eligibility.other_indication"


def test_a_patient_judged_not_eligible_needs_a_signed_off_label_exception() -> None:
    j = Journey().walk_to(Step.ANTIGEN_TESTED)
    facts, assessment = j.judged(diagnosis="FL")
    assert assessment["status"] == "not_eligible"
    signed = SignEligibility(
        actor="p", signature=j.sign(Role.PHYSICIAN), facts=facts, assessment=assessment
    )
    error = _refused(j, signed)
    assert error.rule_id == "eligibility.not_eligible"
    assert "not eligible in US" in error.rule and "off-label exception" in error.rule
    exception = SignOffLabelEligibility(
        actor="p",
        signature=j.sign(Role.PHYSICIAN),
        reason="tumour board: transformed follicular lymphoma treated as LBCL",
        facts=facts,
        assessment=assessment,
    )
    with pytest.raises(InvalidInput, match="reason"):
        j.do(replace(exception, reason=" "))
    unsigned = _refused(j, replace(exception, signature=j.sign(Role.COORDINATOR)))
    assert "physician" in unsigned.rule and j.state.step is Step.ANTIGEN_TESTED
    j.do(exception)
    assert j.state.step is Step.ELIGIBLE
    record = j.state.exceptions[-1]
    assert record.kind == "off_label_eligibility" and record.reason.startswith("tumour board")
    assert j.log[-1]["data"]["patient_facts"]["diagnosis"] == "FL"


def test_an_eligible_patient_needs_no_exception() -> None:
    j = Journey().walk_to(Step.ANTIGEN_TESTED)
    facts, assessment = j.judged()
    needless = SignOffLabelEligibility(
        actor="p", signature=j.sign(Role.PHYSICIAN), reason="r", facts=facts, assessment=assessment
    )
    assert _refused(j, needless).rule_id == "eligibility.exception_not_needed"
    j.do(j.sign_eligibility())
    assert j.log[-1]["data"]["patient_facts"] == facts
