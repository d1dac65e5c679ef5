"""The operations of the six steps through the service layer, with the real journey."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from cartflow.clinic import services
from cartflow.clinic.models import (
    AntigenTest,
    AuditRow,
    CaseProjection,
    Collection,
    Event,
    ProductBag,
    Signature,
    Site,
    Slot,
    TherapyCase,
)
from cartflow.clinic.services import (
    collection,
    custody,
    eligibility,
    manufacturing,
    referral,
    treatment,
)
from cartflow.clinic.services.machine import journey_machine
from cartflow.domain.identifiers import new_identifier, parse_identifier
from cartflow.domain.journey import BagSpec, JourneyError, ScanMismatch
from tests.clinic.fixtures import PASSWORD, _persona, triggers_dropped

LBCL_FACTS = {"diagnosis": "LBCL", "disease_status": "refractory", "prior_lines": 2}
"""What the physician enters for the synthetic patient (an adult with refractory LBCL)."""

pytestmark = pytest.mark.django_db

LBCL = "tisagenlecleucel/lbcl"
DIN = new_identifier("W0001", 26, 555)


class Network:
    """The sites and people of one walk, and the clinical clock it advances."""

    def __init__(self, users: Any, admin: Any, center: Site) -> None:
        def site(slug: str, kind: str) -> Site:
            return services.create_site(
                slug, slug.replace("-", " ").title(), kind, acting_user=admin
            )

        self.center = center
        self.unit = site("test-apheresis-unit", "apheresis_unit")
        self.factory = site("test-factory", "manufacturing_site")
        self.courier_site = site("test-courier", "courier")
        self.physician = _persona(users, "dr-walk", "Physician", center, "physician", admin)
        self.coordinator = _persona(
            users, "coord-walk", "Coordinator", center, "coordinator", admin
        )
        self.apheresis = _persona(users, "aph-walk", "Apheresis", self.unit, "apheresis", admin)
        self.maker = _persona(users, "mfg-walk", "Maker", self.factory, "manufacturing", admin)
        self.courier = _persona(
            users, "courier-walk", "Courier", self.courier_site, "courier", admin
        )
        self.nurse = _persona(users, "nurse-walk", "Nurse", center, "pharmacy", admin)
        self.now = timezone.now() - timedelta(days=60)
        self.case: TherapyCase | None = None

    def later(self, **delta: float) -> Network:
        self.now += timedelta(**delta)
        return self

    def do(self, function: Any, user: Any, **fields: Any) -> services.AppendResult:
        assert self.case is not None
        return function(self.case, acting_user=user, now=self.now, **fields)

    @property
    def coi(self) -> str:
        assert self.case is not None
        return parse_identifier(self.case.coi).barcode


@pytest.fixture
def net(django_user_model: Any, admin_user: Any, center: Site, patient: Any) -> Network:
    network = Network(django_user_model, admin_user, center)
    network.case = referral.refer_patient(
        patient,
        product_id="tisagenlecleucel",
        indication_id=LBCL,
        acting_user=network.physician,
        now=network.now,
    ).case
    return network


def _to_eligible(net: Network) -> services.AppendResult:
    net.later(hours=1).do(
        referral.record_antigen_test,
        net.physician,
        antigen="CD19",
        positive=True,
        method="flow cytometry",
    )
    return net.later(hours=1).do(
        eligibility.sign_eligibility, net.physician, password=PASSWORD, facts=LBCL_FACTS
    )


def _to_collected(net: Network) -> None:
    _to_eligible(net)
    net.later(days=1).do(
        referral.record_infectious_disease_screening,
        net.coordinator,
        cleared=True,
        tests=("HIV", "HBV", "HCV"),
    )
    net.later(hours=1).do(
        collection.schedule_apheresis, net.coordinator, slot_at=net.now + timedelta(days=3)
    )
    net.later(days=3).do(
        collection.record_collection,
        net.apheresis,
        scanned_coi=net.coi,
        collection_din=DIN.eye_readable,
    )


def test_a_referral_opens_a_case_with_a_new_identifier_at_step_referred(net: Network) -> None:
    assert net.case is not None
    projection = CaseProjection.objects.get(case=net.case)
    assert projection.step == "referred"
    assert projection.state["coi"] == net.case.coi
    assert parse_identifier(net.case.coi).facility == "W1234"


def test_a_case_walks_from_referral_to_monitoring_through_the_services(net: Network) -> None:
    _to_collected(net)
    assert Collection.objects.get(case=net.case).din == DIN.compact
    net.later(days=1).do(
        manufacturing.start_manufacturing,
        net.maker,
        scanned_coi=net.coi,
        scanned_din=DIN.barcode,
        weight_kg=70.0,
        order_ref="ORDER-1",
    )
    bags = (BagSpec(bag_id="BAG-1", lot="LOT-7"),)
    released = net.later(days=14).do(
        manufacturing.release_product, net.maker, password=PASSWORD, dose_cells=2e8, bags=bags
    )
    assert ProductBag.objects.get(case=net.case).lot == "LOT-7"
    assert released.signature is not None and released.signature.meaning == "product release"
    net.later(days=1).do(
        custody.ship_product,
        net.maker,
        scanned_coi=net.coi,
        scanned_bag_ids=("BAG-1",),
        courier="test-courier",
    )
    net.later(hours=6).do(
        custody.record_temperature, net.courier, celsius=-160.0, location="shipper"
    )
    net.later(days=1).do(
        custody.receive_product,
        net.nurse,
        scanned_coi=net.coi,
        scanned_bag_ids=("BAG-1",),
        celsius=-150.0,
        storage_location="LN2 tank 2",
    )
    net.later(hours=1).do(custody.confirm_product_availability, net.nurse)
    net.later(days=1).do(treatment.start_lymphodepletion, net.physician, regimen="flu-cy")
    net.later(days=3).do(treatment.complete_lymphodepletion, net.physician)
    net.later(days=2).do(treatment.thaw_bag, net.nurse, scanned_coi=net.coi, scanned_bag_id="BAG-1")
    infused = net.later(minutes=10).do(
        treatment.infuse,
        net.nurse,
        witness_username=net.physician.get_username(),
        witness_password=PASSWORD,
        scanned_wristband=net.coi,
        identity_confirmed=True,
        scanned_bag_label=net.coi,
        scanned_bag_id="BAG-1",
    )
    assert [e.type for e in infused.events] == [
        "bedside.verified",
        "product.infused",
        "signature.applied",
    ]
    assert infused.signature is not None and infused.signature.meaning == "infusion"
    assert infused.signature.signer == net.physician
    last = net.later(hours=1).do(treatment.start_monitoring, net.physician)
    assert last.step == "monitoring"

    assert net.case is not None
    assert services.verify_case(net.case).ok
    assert services.verify_ledger().ok
    projection = CaseProjection.objects.get(case=net.case)
    assert projection.state == journey_machine().dump(services.replay(net.case))
    assert services.rebuild_projection(net.case) is False
    # The courier and the manufacturer now hold the case; the apheresis unit took part.
    assert set(net.case.participants.values_list("site__slug", flat=True)) == {
        "test-center-north",
        "test-apheresis-unit",
        "test-factory",
        "test-courier",
    }
    assert AntigenTest.objects.get(patient=net.case.patient).result == "positive"


def test_signing_eligibility_before_the_antigen_test_is_refused_with_the_rule(
    net: Network,
) -> None:
    before = Event.objects.count(), AuditRow.objects.count(), Signature.objects.count()
    with pytest.raises(JourneyError) as refused:
        net.later(hours=1).do(
            eligibility.sign_eligibility, net.physician, password=PASSWORD, facts=LBCL_FACTS
        )
    assert "SignEligibility refused in step referred" in str(refused.value)
    assert (Event.objects.count(), AuditRow.objects.count(), Signature.objects.count()) == before


def test_a_collection_scanned_against_the_wrong_case_is_refused_and_nothing_kept(
    net: Network,
) -> None:
    _to_eligible(net)
    net.later(days=1).do(
        referral.record_infectious_disease_screening, net.coordinator, cleared=True, tests=("HIV",)
    )
    net.later(hours=1).do(
        collection.schedule_apheresis, net.coordinator, slot_at=net.now + timedelta(days=3)
    )
    wrong = new_identifier("W1234", 26, 999_999).barcode
    before = Event.objects.count(), Collection.objects.count()
    with pytest.raises(ScanMismatch):
        net.later(days=3).do(
            collection.record_collection,
            net.apheresis,
            scanned_coi=wrong,
            collection_din=DIN.eye_readable,
        )
    assert (Event.objects.count(), Collection.objects.count()) == before


def test_a_wrong_password_signs_nothing_and_records_nothing(net: Network) -> None:
    net.later(hours=1).do(
        referral.record_antigen_test, net.physician, antigen="CD19", positive=True
    )
    before = Event.objects.count(), AuditRow.objects.count()
    with pytest.raises(services.SignatureRefused, match="password is not correct"):
        net.later(hours=1).do(
            eligibility.sign_eligibility, net.physician, password="guess", facts=LBCL_FACTS
        )
    # Nothing recorded but the failed password check itself, which the audit trail keeps.
    assert (Event.objects.count(), AuditRow.objects.count()) == (before[0], before[1] + 1)
    assert AuditRow.objects.order_by("-pk").first().operation == "authentication_failed"


def test_the_eligibility_signature_is_bound_to_the_hash_of_the_event_it_signs(
    net: Network,
) -> None:
    result = _to_eligible(net)
    signature = result.signature
    assert signature is not None
    signed = Event.objects.get(pk=signature.event_id)
    assert signed.type != "signature.applied"
    assert signature.event_hash == signed.hash
    chained = json.loads(bytes(signature.signature_event.body))
    assert chained["data"]["signs"] == signed.hash
    assert chained["prev"] == signed.hash  # the signature follows the event it signs
    assert services.verify_signature(signature) == (True, "")
    assert "Test Physician" in signature.manifestation()
    assert "eligibility sign-off" in signature.manifestation()


def test_the_timeline_shows_each_signature_with_name_time_and_meaning_under_its_event(
    net: Network,
) -> None:
    from cartflow.clinic.queries import case_timeline

    signature = _to_eligible(net).signature
    assert signature is not None
    timeline = case_timeline(signature.event.case)
    signed = next(e for e in timeline if e["hash"] == signature.event_hash)
    assert [s["meaning"] for s in signed["signatures"]] == ["eligibility sign-off"]
    assert signed["signatures"][0]["signer"] == "Test Physician"
    assert timeline[-1]["type"] == "signature.applied"
    assert all(e["signatures"] == [] for e in timeline if e is not signed)


def test_a_signature_moved_to_another_event_no_longer_verifies(net: Network) -> None:
    signature = _to_eligible(net).signature
    assert signature is not None
    other = Event.objects.get(case=net.case, seq=1)
    with triggers_dropped(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE clinic_signature SET event_id = %s WHERE id = %s", [other.pk, signature.pk]
        )
    signature.refresh_from_db()
    ok, reason = services.verify_signature(signature)
    assert not ok and "hash differs" in reason
    with triggers_dropped(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE clinic_signature SET event_hash = %s WHERE id = %s", [other.hash, signature.pk]
        )
    signature.refresh_from_db()
    ok, reason = services.verify_signature(signature)
    assert not ok and "signs a different record" in reason


def test_a_later_review_signature_signs_an_event_already_recorded(net: Network) -> None:
    first = Event.objects.get(case=net.case, seq=1)
    signature = services.sign(net.physician, PASSWORD, "review", first)
    assert (signature.event_id, signature.event_hash, signature.meaning) == (
        first.pk,
        first.hash,
        "review",
    )
    assert services.verify_signature(signature) == (True, "")
    assert CaseProjection.objects.get(case=net.case).step == "referred"


def test_two_bookings_of_the_last_chair_leave_one_booking_and_a_conflict(
    net: Network, admin_user: Any
) -> None:
    _to_eligible(net)
    net.later(days=1).do(
        referral.record_infectious_disease_screening, net.coordinator, cleared=True, tests=("HIV",)
    )
    planned = net.now + timedelta(days=3)
    zone = ZoneInfo(CaseProjection.objects.get(case=net.case).state["site_timezone"])
    chair = services.open_slot(
        net.unit, "apheresis_chair", planned.astimezone(zone).date(), 1, acting_user=admin_user
    )
    Slot.objects.filter(pk=chair.pk).update(booked=1)  # someone else took it a moment ago
    with pytest.raises(services.Conflict, match="fully booked"):
        net.later(hours=1).do(
            collection.schedule_apheresis, net.coordinator, slot=chair, slot_at=planned
        )
    assert CaseProjection.objects.get(case=net.case).step == "screened"


def test_a_manufacturing_slot_booking_is_an_event_of_the_case(
    net: Network, admin_user: Any
) -> None:
    _to_eligible(net)
    net.later(days=1).do(
        referral.record_infectious_disease_screening, net.coordinator, cleared=True, tests=("HIV",)
    )
    net.later(hours=1).do(
        collection.schedule_apheresis, net.coordinator, slot_at=net.now + timedelta(days=3)
    )
    slot = services.open_slot(
        net.factory, "manufacturing", date(2030, 1, 8), 1, acting_user=admin_user
    )
    assert net.case is not None
    manufacturing.book_manufacturing_slot(net.case, slot, acting_user=net.coordinator)
    assert Event.objects.filter(case=net.case).last().type == "slot.booked"  # type: ignore[union-attr]
    with pytest.raises(services.Conflict, match="fully booked"):
        manufacturing.book_manufacturing_slot(net.case, slot, acting_user=net.coordinator)
    assert services.verify_case(net.case).ok


def test_a_signature_cannot_be_written_for_an_event_of_another_case(
    net: Network, patient: Any
) -> None:
    from cartflow.clinic.services.append import SignatureIntent

    other = referral.refer_patient(
        patient, product_id="tisagenlecleucel", indication_id=LBCL, acting_user=net.physician
    ).case
    foreign = Event.objects.get(case=other, seq=1)
    intent = SignatureIntent(
        signer=net.physician,
        signer_name="Test Physician",
        meaning="review",
        event_hash=foreign.hash,
        event_id=foreign.pk,
        event_seq=1,
    )
    assert net.case is not None
    with pytest.raises(services.NotFound):
        services.append(net.case, None, acting_user=net.physician, signature=intent)
