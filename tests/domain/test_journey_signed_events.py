"""Signed events that change what the guards use: a site's protocol value for a fact the
catalog does not know, and the fludarabine dose modification for low creatinine clearance."""

from __future__ import annotations

from datetime import date

import pytest

from cartflow.domain.catalog import RuleKind
from cartflow.domain.errors import InvalidInput
from cartflow.domain.journey import (
    FactMissing,
    JourneyError,
    ModifyFludarabineDose,
    RecordSiteProtocolValue,
    RecordTemperature,
    Step,
    replay,
)
from cartflow.domain.roles import Role
from tests.domain.journey_cases import Journey, catalog, with_unknown_fact

LISO = "lisocabtagene-maraleucel/lbcl-third-line"
# The label audit filled liso-cel's storage (-130 °C) and thaw (2 h) limits: these tests take a
# copy of the catalog in which both are unknown again, so a site's value has a gap to fill.
UNKNOWN_LIMITS = with_unknown_fact(
    catalog(), LISO, "storage_max_celsius", "post_thaw_minutes"
)


def liso() -> Journey:
    return Journey(catalog=UNKNOWN_LIMITS, indication=LISO, dose_cells=1e8)


def site_value(j: Journey, fact: str, value: object, role: Role = Role.PHYSICIAN) -> None:
    j.do(
        RecordSiteProtocolValue(
            actor="p",
            fact=fact,
            value=value,
            document_ref="SOP-CT-014 rev 3",
            effective_on=date(2026, 1, 1),
            signature=j.sign(role),
        )
    )


def test_a_site_protocol_value_fills_an_unknown_fact_and_is_shown_as_site_protocol() -> None:
    j = liso().walk_to(Step.SHIPPED)
    with pytest.raises(FactMissing, match="not in the catalog"):
        j.do(RecordTemperature(actor="c", celsius=-150, location="hub"))
    site_value(j, "storage_max_celsius", -130)
    kept = j.state.site_values[-1]
    assert (kept.fact, kept.value, kept.document_ref, kept.signed_by) == (
        "storage_max_celsius",
        -130,
        "SOP-CT-014 rev 3",
        "physician-1",
    )
    assert kept.signed_on == date(2026, 1, 1)
    j.do(RecordTemperature(actor="c", celsius=-129, location="hub"))
    fact = j.log[-1]["data"]["facts"][0]
    assert fact["status"] == "site_protocol" and fact["source"] == "site protocol SOP-CT-014 rev 3"
    assert "label" not in fact["source"]
    assert j.state.step is Step.QUARANTINED
    assert replay(j.log) == j.state


def test_a_refusal_under_a_site_value_is_site_policy_not_label() -> None:
    j = liso().walk_to(Step.SHIPPED)
    site_value(j, "storage_max_celsius", -130)
    j.walk_to(Step.THAWED)
    # post-thaw limit is UNCONFIRMED for liso-cel: the site's value decides, as site policy
    with pytest.raises(FactMissing):
        j.do(j.infuse())
    site_value(j, "post_thaw_minutes", 5)
    j.later(minutes=6)
    with pytest.raises(JourneyError) as caught:
        j.do(j.infuse())
    assert caught.value.kind is RuleKind.SITE_POLICY
    assert caught.value.source == "site protocol SOP-CT-014 rev 3"
    assert "site policy" in str(caught.value) and "label rule" not in str(caught.value)


def test_a_site_value_for_a_fact_the_label_gives_is_refused() -> None:
    j = Journey().walk_to(Step.REFERRED)
    with pytest.raises(JourneyError) as caught:
        site_value(j, "infusion_window_days", [2, 21])
    assert caught.value.kind is RuleKind.LABEL and "[9], [16]" in str(caught.value)
    with pytest.raises(InvalidInput, match="unknown fact"):
        site_value(j, "favourite_colour", "blue")


def test_a_site_value_is_held_to_the_shape_the_label_uses() -> None:
    j = liso().walk_to(Step.REFERRED)
    with pytest.raises(InvalidInput):
        site_value(j, "storage_max_celsius", "cold")
    assert j.state.site_values == ()


def test_a_site_value_needs_a_physician_or_quality_signature() -> None:
    j = liso().walk_to(Step.REFERRED)
    with pytest.raises(JourneyError, match="physician or a quality"):
        site_value(j, "storage_max_celsius", -130, Role.COORDINATOR)
    site_value(j, "storage_max_celsius", -130, Role.QUALITY)
    assert len(j.state.site_values) == 1


def test_a_fludarabine_dose_modification_is_a_physician_signed_event() -> None:
    j = Journey().walk_to(Step.AVAILABLE)
    command = ModifyFludarabineDose(
        actor="p",
        creatinine_clearance_ml_min=55,
        reduction_percent=20,
        reason="creatinine clearance 55 mL/min",
        signature=j.sign(Role.PHARMACY),
    )
    with pytest.raises(JourneyError, match="physician") as caught:
        j.do(command)
    assert caught.value.attempted == "ModifyFludarabineDose" and caught.value.state == "available"
    site_value(j, "fludarabine_renal_adjustment", {"crcl_below": 70, "reduce_by_percent": 20})
    j.do(
        ModifyFludarabineDose(
            actor="p",
            creatinine_clearance_ml_min=55,
            reduction_percent=20,
            reason="creatinine clearance 55 mL/min",
            signature=j.sign(Role.PHYSICIAN),
        )
    )
    body = j.log[-1]
    assert body["type"] == "ld.fludarabine_modified"
    assert body["data"]["signature"]["role"] == "physician"
    assert body["data"]["facts"][0]["status"] == "site_protocol"
    record = j.state.exceptions[-1]
    assert record.kind == "fludarabine_dose_modified" and record.signer_role == "physician"
    assert record.details == {"creatinine_clearance_ml_min": 55.0, "reduction_percent": 20.0}
