"""Every guard of the journey refuses, and says step, move, rule, source and kind.

The numbers are the label's (shared/reference/labels.md) as the packaged catalog holds them:
tisagenlecleucel LBCL (US) infuse 2-11 days after lymphodepletion, EU 2-14 and repeat after 28
days; store at or below -120 °C; infuse within 30 minutes of thaw; omit LD at a white-cell count
at or below 1x10^9/L; dose 0.6-6.0x10^8; B-ALL at or below 50 kg 0.2-5.0x10^6/kg.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from cartflow.domain.catalog import RuleKind
from cartflow.domain.errors import IdentityMismatch, InvalidInput
from cartflow.domain.journey import (
    BagSpec,
    DecideOutOfSpecification,
    DecideQuarantine,
    ExpireProduct,
    FactMissing,
    JourneyError,
    Performer,
    ReceiveProduct,
    RecordAntigenTest,
    RecordCollection,
    RecordOutOfSpecification,
    RecordTemperature,
    RecordWeight,
    ReferPatient,
    ScanMismatch,
    ShipProduct,
    StartLymphodepletion,
    StartManufacturing,
    Step,
    ThawBag,
)
from cartflow.domain.roles import Role
from tests.domain.journey_cases import (
    B_ALL,
    COI,
    DIN,
    NEW_YORK,
    OTHER_COI,
    RECORD_NUMBER,
    SECOND_DIN,
    Journey,
    catalog,
    signature,
    with_unknown_fact,
)


def refusal(journey: Journey, command: object) -> JourneyError:
    with pytest.raises(JourneyError) as caught:
        journey.do(command)  # type: ignore[arg-type]
    return caught.value


def assert_names(error: JourneyError, step: Step, move: str, kind: RuleKind, *words: str) -> None:
    text = str(error)
    assert error.state == step.value and step.value in text
    assert error.attempted == move and move in text
    assert error.kind is kind
    assert ("label rule" if kind is RuleKind.LABEL else "site policy") in text
    assert error.source and f"source: {error.source}" in text
    for word in words:
        assert word in text


# --- the move itself -------------------------------------------------------------------------


def test_a_command_outside_its_steps_is_refused_with_the_steps_it_needs() -> None:
    j = Journey().walk_to(Step.REFERRED)
    error = refusal(j, ShipProduct(actor="x", scanned_coi="", scanned_bag_ids=(), courier="c"))
    assert_names(error, Step.REFERRED, "ShipProduct", RuleKind.SITE_POLICY, "released")


def test_a_region_where_the_indication_is_not_approved_is_refused_as_a_label_rule() -> None:
    j = Journey(region="CN")
    error = refusal(j, j.refer())
    assert_names(error, Step.NEW, "ReferPatient", RuleKind.LABEL, "not in CN", "[8]")


def test_an_antigen_test_for_another_antigen_is_refused_and_a_negative_one_waits() -> None:
    j = Journey().walk_to(Step.REFERRED)
    error = refusal(j, RecordAntigenTest(actor="p", antigen="BCMA", positive=True))
    assert_names(error, Step.REFERRED, "RecordAntigenTest", RuleKind.LABEL, "CD19")
    j.do(RecordAntigenTest(actor="p", antigen="CD19", positive=False))
    assert j.state.step is Step.REFERRED and j.state.waiting_for == "an antigen test"


# --- signatures ------------------------------------------------------------------------------


def test_eligibility_needs_a_physicians_signature() -> None:
    j = Journey().walk_to(Step.ANTIGEN_TESTED)
    coordinator = replace(j.sign_eligibility(), signature=j.sign(Role.COORDINATOR))
    error = refusal(j, coordinator)
    assert_names(error, Step.ANTIGEN_TESTED, "SignEligibility", RuleKind.SITE_POLICY, "physician")
    j.do(j.sign_eligibility())
    assert j.state.step is Step.ELIGIBLE and j.state.eligibility_signer == "physician-1"


def test_infusion_needs_a_physicians_signature() -> None:
    j = Journey().walk_to(Step.THAWED)
    nurse_signs = replace(j.infuse(), signature=signature(Role.PHARMACY, j.now, "nurse-2"))
    error = refusal(j, nurse_signs)
    assert_names(error, Step.THAWED, "InfuseBag", RuleKind.SITE_POLICY, "physician", "pharmacy")


def test_release_needs_a_manufacturing_or_quality_signature() -> None:
    j = Journey().walk_to(Step.MANUFACTURING)
    command = j.release()
    bad = type(command)(
        actor="x", dose_cells=command.dose_cells, bags=command.bags, signature=j.sign(Role.COURIER)
    )
    error = refusal(j, bad)
    assert_names(error, Step.MANUFACTURING, "ReleaseProduct", RuleKind.SITE_POLICY, "quality")


# --- scans at every hand-off ----------------------------------------------------------------


def test_a_collection_scanned_against_another_case_is_refused_as_an_identity_mismatch() -> None:
    j = Journey().walk_to(Step.APHERESIS_SCHEDULED)
    with pytest.raises(ScanMismatch) as caught:
        j.do(
            RecordCollection(
                actor="a", scanned_coi=OTHER_COI.barcode, collection_din=DIN.eye_readable
            )
        )
    assert isinstance(caught.value, IdentityMismatch) and caught.value.which == ("coi",)
    assert_names(
        caught.value, Step.APHERESIS_SCHEDULED, "RecordCollection", RuleKind.SITE_POLICY, "scan"
    )
    assert j.state.step is Step.APHERESIS_SCHEDULED and j.log[-1]["type"] != "collection.recorded"


def unflagged(barcode: str) -> str:
    """The same barcode with flags 00 ("no flag"), as many printed labels carry it."""
    return barcode[:-2] + "00"


def test_a_flag_00_scan_matches_the_case_but_never_registers_a_new_identifier() -> None:
    """Registering (a referral's chain of identity, a collection's DIN) needs a check
    character; matching a registered identifier accepts a flag-00 scan (ISBT 128 "no flag")."""
    j = Journey()
    with pytest.raises(InvalidInput, match=r"00 \(no flag\).*cannot register"):
        j.do(replace(j.refer(), coi=unflagged(COI.barcode)))
    assert j.log == []
    j.walk_to(Step.APHERESIS_SCHEDULED)
    with pytest.raises(InvalidInput, match="cannot register"):
        j.do(
            RecordCollection(
                actor="a", scanned_coi=COI.barcode, collection_din=unflagged(DIN.barcode)
            )
        )
    j.do(
        RecordCollection(
            actor="a", scanned_coi=unflagged(COI.barcode), collection_din=DIN.eye_readable
        )
    )
    assert j.state.step is Step.COLLECTED
    j.do(
        StartManufacturing(
            actor="m",
            scanned_coi=unflagged(COI.barcode),
            scanned_din=unflagged(DIN.barcode),
            weight_kg=70,
            order_ref="O-1",
        )
    )
    assert j.state.step is Step.MANUFACTURING


def test_manufacturing_refuses_a_din_that_is_not_the_collections() -> None:
    j = Journey().walk_to(Step.COLLECTED)
    command = StartManufacturing(
        actor="m",
        scanned_coi=COI.barcode,
        scanned_din=SECOND_DIN.barcode,
        weight_kg=70,
        order_ref="O-1",
    )
    error = refusal(j, command)
    assert isinstance(error, ScanMismatch) and error.which == ("din",)
    assert_names(error, Step.COLLECTED, "StartManufacturing", RuleKind.SITE_POLICY, "DIN")


def test_shipping_and_receipt_need_every_bag_and_the_case_scanned() -> None:
    bags = (BagSpec(bag_id="BAG-1", lot="L"), BagSpec(bag_id="BAG-2", lot="L"))
    j = Journey(bags=bags).walk_to(Step.RELEASED)
    one_bag = ShipProduct(
        actor="m", scanned_coi=COI.barcode, scanned_bag_ids=("BAG-1",), courier="c"
    )
    assert_names(refusal(j, one_bag), Step.RELEASED, "ShipProduct", RuleKind.SITE_POLICY, "bag")
    j.walk_to(Step.SHIPPED)
    wrong_case = ReceiveProduct(
        actor="p",
        scanned_coi=OTHER_COI.eye_readable,
        scanned_bag_ids=("BAG-1", "BAG-2"),
        celsius=-150,
        storage_location="tank",
    )
    error = refusal(j, wrong_case)
    assert isinstance(error, ScanMismatch)
    assert_names(error, Step.SHIPPED, "ReceiveProduct", RuleKind.SITE_POLICY, "chain-of-identity")


def test_thawing_a_bag_of_another_case_or_with_a_wrong_scan_is_refused() -> None:
    j = Journey().walk_to(Step.LYMPHODEPLETED).later(days=2)
    error = refusal(j, ThawBag(actor="p", scanned_coi=OTHER_COI.barcode, scanned_bag_id="BAG-1"))
    assert isinstance(error, ScanMismatch)
    error = refusal(j, ThawBag(actor="p", scanned_coi=COI.barcode, scanned_bag_id="BAG-9"))
    assert isinstance(error, ScanMismatch) and error.which == ("bag_id",)
    assert_names(error, Step.LYMPHODEPLETED, "ThawBag", RuleKind.SITE_POLICY, "bag")


def test_infusion_needs_a_bedside_match_of_patient_and_bag() -> None:
    j = Journey().walk_to(Step.THAWED)
    good = j.infuse()
    for patient, bag_label, bag_id, rule_id in (
        (OTHER_COI.barcode, COI.barcode, "BAG-1", "bedside.wristband"),
        ("SYN-MRN-0002", COI.barcode, "BAG-1", "bedside.wristband"),
        (COI.barcode, OTHER_COI.barcode, "BAG-1", "bedside.bag_label"),
        (COI.barcode, COI.barcode, "BAG-2", "bedside.bag_number"),
        ("not an identifier", COI.barcode, "BAG-1", "bedside.wristband"),
    ):
        command = replace(
            good, scanned_wristband=patient, scanned_bag_label=bag_label, scanned_bag_id=bag_id
        )
        error = refusal(j, command)
        assert isinstance(error, ScanMismatch)
        assert error.rule_id == rule_id
        assert_names(error, Step.THAWED, "InfuseBag", RuleKind.SITE_POLICY, "do not")
    events = j.do(good)
    assert [e.type for e in events] == ["bedside.verified", "product.infused"]
    assert j.state.step is Step.INFUSED
    check = j.state.bedside_checks[-1]
    assert (check.wristband, check.bag_label) == ("record number", "chain of identity")
    assert (check.performer_id, check.witness_id) == ("nurse-1", "physician-1")
    assert RECORD_NUMBER not in json.dumps([e.to_body() for e in events])


def test_the_wristband_may_carry_the_chain_of_identity_and_the_bag_the_collection_din() -> None:
    j = Journey().walk_to(Step.THAWED)
    din = j.state.collections[-1].din
    j.do(replace(j.infuse(), scanned_wristband=COI.barcode, scanned_bag_label=din))
    check = j.state.bedside_checks[-1]
    assert (check.wristband, check.bag_label) == ("chain of identity", "collection DIN")


def test_the_second_identifier_must_be_confirmed() -> None:
    j = Journey().walk_to(Step.THAWED)
    error = refusal(j, replace(j.infuse(), identity_confirmed=False))
    assert error.rule_id == "bedside.identity"


@pytest.mark.parametrize(
    ("performer", "witness", "rule_id"),
    [
        # the nurse as her own witness
        (
            Performer(user_id="pharmacy-1", role=Role.PHARMACY),
            ("pharmacy-1", Role.PHYSICIAN),
            "bedside.witness_same_person",
        ),
        # a physician who witnesses their own infusion
        (
            Performer(user_id="physician-1", role=Role.PHYSICIAN),
            ("physician-1", Role.PHYSICIAN),
            "bedside.witness_same_person",
        ),
        # a coordinator may not sign an infusion
        (
            Performer(user_id="nurse-1", role=Role.PHARMACY),
            ("coord-1", Role.COORDINATOR),
            "bedside.witness_role",
        ),
        # a courier does not give infusions
        (
            Performer(user_id="courier-1", role=Role.COURIER),
            ("physician-1", Role.PHYSICIAN),
            "bedside.performer_role",
        ),
    ],
)
def test_the_infusion_needs_two_different_people_the_witness_a_physician(
    performer: Performer, witness: tuple[str, Role], rule_id: str
) -> None:
    j = Journey().walk_to(Step.THAWED)
    signer, role = witness
    command = replace(j.infuse(), performer=performer, signature=signature(role, j.now, signer))
    error = refusal(j, command)
    assert error.rule_id == rule_id
    assert j.state.step is Step.THAWED


# --- release and the dose --------------------------------------------------------------------


def test_release_needs_a_dose_inside_the_label_range() -> None:
    # flat 0.6-6.0x10^8 CAR+ viable T cells (tisagenlecleucel LBCL [12])
    for dose, ok in ((6e7, True), (5.99e7, False), (6e8, True), (6.01e8, False)):
        j = Journey(dose_cells=dose).walk_to(Step.MANUFACTURING)
        if ok:
            j.do(j.release())
            assert j.state.step is Step.RELEASED and j.state.release is not None
            assert j.state.release.in_range
        else:
            error = refusal(j, j.release())
            assert_names(error, Step.MANUFACTURING, "ReleaseProduct", RuleKind.LABEL, "[12]")


def test_release_judges_the_dose_by_the_weight_on_the_manufacturing_order() -> None:
    # B-ALL at or below 50 kg: 0.2-5.0x10^6/kg; above 50 kg: 0.1-2.5x10^8 in total
    j = Journey(indication=B_ALL, weight_kg=48, dose_cells=2.45e8).walk_to(Step.MANUFACTURING)
    j.do(RecordWeight(actor="p", weight_kg=55))  # a later weighing, above the threshold
    assert j.state.latest_weight_kg == 55 and j.state.order_weight_kg == 48
    error = refusal(j, j.release())  # 2.45e8 > 5e6 x 48 = 2.4e8, though inside the >50 kg range
    assert_names(error, Step.MANUFACTURING, "ReleaseProduct", RuleKind.LABEL, "48 kg", "2.4e+08")
    edge = Journey(indication=B_ALL, weight_kg=48, dose_cells=2.4e8).walk_to(Step.RELEASED)
    assert edge.state.release is not None and edge.state.release.dose_max == 2.4e8


def test_an_out_of_specification_product_is_given_only_under_a_quality_signed_exception() -> None:
    j = Journey(dose_cells=7e8).walk_to(Step.MANUFACTURING)
    j.do(
        RecordOutOfSpecification(
            actor="m",
            dose_cells=7e8,
            bags=j.bags,
            reason="dose above the label range",
            signature=j.sign(Role.MANUFACTURING),
        )
    )
    assert j.state.step is Step.OUT_OF_SPECIFICATION
    assert j.state.waiting_for.startswith("a quality decision")
    physician = DecideOutOfSpecification(
        actor="p", accept=True, reason="no alternative", signature=j.sign(Role.PHYSICIAN)
    )
    error = refusal(j, physician)
    assert_names(
        error,
        Step.OUT_OF_SPECIFICATION,
        "DecideOutOfSpecification",
        RuleKind.SITE_POLICY,
        "quality",
    )
    j.do(
        DecideOutOfSpecification(
            actor="q", accept=True, reason="no alternative", signature=j.sign(Role.QUALITY)
        )
    )
    assert j.state.step is Step.RELEASED and j.state.release is not None
    assert j.state.release.under_exception and not j.state.release.in_range
    assert [e.kind for e in j.state.exceptions] == ["out_of_specification_accepted"]
    assert j.log[-1]["type"] == "exception.out_of_specification_accepted"
    j.walk_to(Step.INFUSED)


def test_an_out_of_specification_product_rejected_by_quality_is_disposed_then_recollected() -> None:
    from cartflow.domain.journey import DisposeProduct, ScheduleApheresis

    j = Journey(dose_cells=7e8).walk_to(Step.MANUFACTURING)
    j.do(
        RecordOutOfSpecification(
            actor="m", dose_cells=7e8, bags=j.bags, reason="high", signature=j.sign(Role.QUALITY)
        )
    )
    j.do(
        DecideOutOfSpecification(
            actor="q", accept=False, reason="unsafe", signature=j.sign(Role.QUALITY)
        )
    )
    assert j.state.step is Step.PRODUCT_REJECTED
    j.do(DisposeProduct(actor="ph", reason="rejected", signature=j.sign(Role.PHARMACY)))
    assert j.state.step is Step.PRODUCT_DISPOSED and j.state.product_disposed
    j.do(ScheduleApheresis(actor="c", slot_at=j.now + timedelta(days=2)))
    assert j.state.bags == () and j.state.release is None and j.state.product_cycles == 1
    j.later(days=2).do(
        RecordCollection(actor="a", scanned_coi=COI.barcode, collection_din=SECOND_DIN.barcode)
    )
    assert j.state.collection is not None and j.state.collection.din == SECOND_DIN.compact


# --- storage temperature and quarantine ------------------------------------------------------


def test_a_transit_temperature_above_the_storage_limit_quarantines_until_quality_decides() -> None:
    j = Journey().walk_to(Step.SHIPPED)
    j.do(RecordTemperature(actor="courier", celsius=-120.0, location="hub"))  # at the limit
    assert j.state.step is Step.SHIPPED
    j.do(RecordTemperature(actor="courier", celsius=-119.5, location="hub"))
    assert j.state.step is Step.QUARANTINED and j.state.quarantine is not None
    assert j.state.quarantine.from_step is Step.SHIPPED
    assert j.log[-1]["data"]["facts"][0]["name"] == "storage_max_celsius"
    error = refusal(j, StartLymphodepletion(actor="p", regimen="flu-cy"))
    assert_names(error, Step.QUARANTINED, "StartLymphodepletion", RuleKind.SITE_POLICY, "available")
    pharmacist = DecideQuarantine(
        actor="ph", release=True, reason="excursion assessed", signature=j.sign(Role.PHARMACY)
    )
    assert_names(
        refusal(j, pharmacist),
        Step.QUARANTINED,
        "DecideQuarantine",
        RuleKind.SITE_POLICY,
        "quality",
    )
    j.do(
        DecideQuarantine(
            actor="q", release=True, reason="excursion assessed", signature=j.sign(Role.QUALITY)
        )
    )
    assert j.state.step is Step.SHIPPED and j.state.quarantine is None
    j.walk_to(Step.INFUSED)


def test_a_shipper_received_too_warm_is_quarantined_not_received() -> None:
    j = Journey().walk_to(Step.SHIPPED)
    j.do(
        ReceiveProduct(
            actor="p",
            scanned_coi=COI.barcode,
            scanned_bag_ids=("BAG-1",),
            celsius=-100,
            storage_location="tank",
        )
    )
    assert j.state.step is Step.QUARANTINED and j.state.received_at is None
    j.do(
        DecideQuarantine(actor="q", release=False, reason="thawed", signature=j.sign(Role.QUALITY))
    )
    assert j.state.step is Step.PRODUCT_REJECTED


def test_a_storage_temperature_for_a_product_whose_limit_is_unknown_is_refused() -> None:
    liso = "lisocabtagene-maraleucel/lbcl-third-line"
    # the label audit filled liso-cel's limit (-130 °C): a copy forgets it again
    unknown = with_unknown_fact(catalog(), liso, "storage_max_celsius")
    j = Journey(catalog=unknown, indication=liso, dose_cells=1e8)
    j.walk_to(Step.SHIPPED)
    with pytest.raises(FactMissing) as caught:
        j.do(RecordTemperature(actor="c", celsius=-150, location="hub"))
    assert "not in the catalog: enter the site's protocol value" in str(caught.value)
    assert caught.value.state == "shipped" and caught.value.attempted == "RecordTemperature"


# --- lymphodepletion -------------------------------------------------------------------------


def test_lymphodepletion_starts_only_when_the_product_is_available() -> None:
    j = Journey().walk_to(Step.RECEIVED)
    error = refusal(j, StartLymphodepletion(actor="p", regimen="flu-cy"))
    assert_names(error, Step.RECEIVED, "StartLymphodepletion", RuleKind.SITE_POLICY, "available")
    j.walk_to(Step.AVAILABLE).do(StartLymphodepletion(actor="p", regimen="flu-cy"))
    assert j.state.step is Step.LYMPHODEPLETING


def test_a_product_expired_before_lymphodepletion_waits_for_disposal() -> None:
    j = Journey().walk_to(Step.AVAILABLE)
    j.do(ExpireProduct(actor="ph", reason="past its expiry date"))
    assert j.state.step is Step.PRODUCT_EXPIRED
    assert j.state.waiting_for == "disposal of the expired product"
    error = refusal(j, StartLymphodepletion(actor="p", regimen="flu-cy"))
    assert error.attempted == "StartLymphodepletion"


def test_the_wrong_order_of_clinical_times_is_refused_as_invalid_input() -> None:
    j = Journey().walk_to(Step.REFERRED)
    earlier = RecordAntigenTest(
        actor="p", antigen="CD19", positive=True, occurred_at=j.now - timedelta(days=1)
    )
    with pytest.raises(InvalidInput):
        j.do(earlier)
    future = RecordAntigenTest(
        actor="p", antigen="CD19", positive=True, occurred_at=j.now + timedelta(minutes=1)
    )
    with pytest.raises(InvalidInput):
        j.do(future)
    naive = ReferPatient(
        actor="p",
        coi=COI.barcode,
        product_id="tisagenlecleucel",
        indication_id="tisagenlecleucel/lbcl",
        region="US",
        site="s",
        site_timezone="America/New_York",
    )
    from cartflow.domain.journey import CaseState, decide

    with pytest.raises(InvalidInput):
        decide(CaseState(), naive, j.catalog, datetime(2026, 1, 1, 9))
    assert datetime(2026, 1, 1, 9, tzinfo=NEW_YORK).tzinfo is NEW_YORK


def test_disposal_needs_unused_product_and_a_pharmacy_or_quality_signature() -> None:
    from cartflow.domain.journey import DisposeProduct, WithdrawCase

    early = Journey().walk_to(Step.ELIGIBLE)
    early.do(
        WithdrawCase(actor="p", reason="patient's choice", signature=early.sign(Role.PHYSICIAN))
    )
    error = refusal(
        early, DisposeProduct(actor="ph", reason="unused", signature=early.sign(Role.PHARMACY))
    )
    assert_names(error, Step.WITHDRAWN, "DisposeProduct", RuleKind.SITE_POLICY, "no unused product")
    j = Journey().walk_to(Step.AVAILABLE)
    j.do(WithdrawCase(actor="p", reason="patient's choice", signature=j.sign(Role.PHYSICIAN)))
    courier = DisposeProduct(actor="c", reason="unused", signature=j.sign(Role.COURIER))
    assert_names(
        refusal(j, courier), Step.WITHDRAWN, "DisposeProduct", RuleKind.SITE_POLICY, "quality"
    )
    j.do(DisposeProduct(actor="ph", reason="unused", signature=j.sign(Role.PHARMACY)))
    assert j.state.step is Step.WITHDRAWN and j.state.product_disposed
    assert j.state.next_actions == () and j.state.waiting_for == ""


def test_a_barcode_without_flag_matches_at_the_bedside_and_a_wrong_flag_is_refused() -> None:
    """ISBT 128: flag characters 00 mean "no flag" (the Code 128 symbol checks itself), so
    ``=G12349865432100`` names G1234 98 654321 H; flag 78 does not carry its check character."""
    from cartflow.domain.identifiers import parse_identifier as parse

    coi = parse("G1234 98 654321 H")
    j = Journey(coi=coi).walk_to(Step.THAWED)
    refused = replace(j.infuse(), scanned_wristband="=G12349865432178")
    assert refusal(j, refused).rule_id == "bedside.wristband"
    j.do(
        replace(
            j.infuse(), scanned_wristband="=G12349865432100", scanned_bag_label="=G12349865432100"
        )
    )
    assert j.state.bedside_checks[-1].bag_label == "chain of identity"
