"""One synthetic patient through all six steps, each decision printed with its reason.

The walk-through calls the same domain functions the clinic calls (eligibility, dosing,
``decide``/``apply``, grading, the hash chain) against the packaged catalog, on a fixed clinical
calendar, and shows two safeguards refusing a move on the way. It writes nothing anywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cartflow.catalog_file import load_catalog
from cartflow.domain.catalog import Catalog
from cartflow.domain.dosing import dose_for, lymphodepletion_plan
from cartflow.domain.eligibility import evaluate, evaluate_indication
from cartflow.domain.errors import DomainError
from cartflow.domain.events import Event
from cartflow.domain.grading import grade_crs, grade_icans
from cartflow.domain.hashchain import build_chain, verify_chain
from cartflow.domain.identifiers import new_identifier
from cartflow.domain.journey import (
    BagSpec,
    CaseState,
    Command,
    CompleteLymphodepletion,
    CompleteMonitoring,
    ConfirmProductAvailability,
    InfuseBag,
    Performer,
    ReceiveProduct,
    RecordAntigenTest,
    RecordCollection,
    RecordInfectiousDiseaseScreening,
    ReferPatient,
    ReleaseProduct,
    ScheduleApheresis,
    ShipProduct,
    Signature,
    SignEligibility,
    StartLymphodepletion,
    StartManufacturing,
    StartMonitoring,
    ThawBag,
    apply,
    decide,
    payloads,
)
from cartflow.domain.patient_facts import parse_patient_facts
from cartflow.domain.roles import Role

SITE_TZ = "Europe/Berlin"
START = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo(SITE_TZ))
PRODUCT = "tisagenlecleucel"
INDICATION = "tisagenlecleucel/b-all"
PATIENT_LABEL = "Demo Patient-001 (synthetic)"
PATIENT_FACTS: dict[str, Any] = {
    "age_years": 14,
    "weight_kg": 42.0,
    "diagnosis": "B-ALL",
    "disease_status": "second_or_later_relapse",
    "relapsed_after_transplant": False,
    "prior_lines": 3,
    "antigens": {"CD19": "positive"},
    "region": "US",
}
HEIGHT_CM = 158.0
COI = new_identifier("D9999", 26, 1)
DIN = new_identifier("D9998", 26, 4711)
OTHER_COI = new_identifier("D9999", 26, 2)
BAG = BagSpec(bag_id="KYM-BAG-0001", lot="LOT-DEMO-01")


@dataclass
class Walk:
    """The case, its clock, its log, and the lines printed so far."""

    catalog: Catalog
    now: datetime = START
    state: CaseState = field(default_factory=CaseState)
    log: list[dict[str, Any]] = field(default_factory=list)
    out: list[str] = field(default_factory=list)

    def say(self, text: str = "") -> None:
        self.out.append(text)

    def sign(self, role: Role, meaning: str) -> Signature:
        return Signature(signer_id=f"demo-{role.value}", role=role, meaning=meaning,
                         signed_at=self.now)

    def step(self, title: str, command: Command, days_later: float = 0) -> None:
        self.now += timedelta(days=days_later)
        events = decide(self.state, command, self.catalog, self.now)
        for event in events:
            self.state = apply(self.state, event)
            self.log.append(event.to_body())
        self.say(f"{self.now:%Y-%m-%d %H:%M}  {title}")
        for event in events:
            self.say(f"    event {event.type} (schema v{event.schema_version})")
            for reason in _reasons(event):
                self.say(f"    why: {reason}")
        self.say(f"    now: {self.state.step.value}; waiting for: {self.state.waiting_for}")

    def refused(self, title: str, command: Command) -> None:
        try:
            decide(self.state, command, self.catalog, self.now)
        except DomainError as error:
            self.say(f"{self.now:%Y-%m-%d %H:%M}  {title}")
            self.say(f"    REFUSED: {error}")
            return
        raise AssertionError(f"the safeguard did not refuse: {title}")


def _reasons(event: Event) -> Iterator[str]:
    # The facts are the decision's record beside the payload, kept as the catalog wrote them.
    for fact in event.data.get("facts") or []:
        if fact["name"] == "dose":
            yield f"the label's dose rule ({fact['source']})"
            continue
        yield f"{fact['name']} = {fact['value']} ({fact['status']}, {fact['source']})"
    payload = payloads.read(event)
    if isinstance(payload, payloads.ProductReleased | payloads.ProductOutOfSpecification):
        p = payload
        yield (f"dose {p.dose_cells:.3g} cells within {p.dose_min:.3g}-{p.dose_max:.3g} "
               f"for the order's weight of {p.weight_kg} kg")
    signature = getattr(payload, "signature", None)
    if isinstance(signature, payloads.SignedBy):
        yield f"signed by {signature.signer_id} as {signature.role}: {signature.meaning}"


def _eligibility(walk: Walk) -> None:
    patient = parse_patient_facts(PATIENT_FACTS)
    walk.say(f"Patient: {PATIENT_LABEL}, 14 years, 42 kg, B-ALL in second relapse, CD19 positive")
    walk.say("Eligibility on " + START.date().isoformat() + " (US):")
    for result in evaluate(patient, walk.catalog, START.date()):
        first = (result.unmet or result.missing or [None])[0]
        why = f": {first.text} ({first.source})" if first is not None else ""
        walk.say(f"    {result.indication:40s} {result.status.value}{why}")


def _dosing(walk: Walk) -> None:
    indication = walk.catalog.indication(INDICATION)
    dose = dose_for(indication, PATIENT_FACTS["weight_kg"], START.date(), "US")
    walk.say(f"Dose range: {dose.min_cells:.3g} to {dose.max_cells:.3g} CAR+ viable T cells "
             f"({dose.basis}; {dose.source})")
    plan = lymphodepletion_plan(indication, HEIGHT_CM, PATIENT_FACTS["weight_kg"], START.date(),
                                "US")
    walk.say(f"Lymphodepletion: BSA {plan.bsa_m2} m2 (Mosteller)")
    for drug in plan.regimen.drugs:
        walk.say(f"    {drug.drug} {drug.mg_per_m2} mg/m2 = {drug.daily_mg} mg daily "
                 f"x {drug.days} day(s)")
    window = plan.infusion_window_days
    walk.say(f"    infuse {window[0]}-{window[1]} days after it ends" if window else
             "    infusion window not in the catalog")


def _journey(walk: Walk) -> None:
    coi, scan = COI.eye_readable, COI.barcode
    walk.say(f"Chain of identity: {coi} (ISBT 128 barcode {scan})")
    w = walk
    w.step("1. referral", ReferPatient(actor="demo-physician", coi=coi, product_id=PRODUCT,
           indication_id=INDICATION, region="US", site="demo-center", site_timezone=SITE_TZ))
    w.step("   antigen test", RecordAntigenTest(actor="demo-physician", antigen="CD19",
           positive=True, method="flow cytometry"), 1)
    judged = evaluate_indication(parse_patient_facts(PATIENT_FACTS), w.catalog,
                                 w.catalog.indication(INDICATION), w.now.date())
    w.step("   eligibility sign-off, with the facts judged", SignEligibility(
           actor="demo-physician", facts=PATIENT_FACTS, assessment=judged.to_dict(),
           signature=w.sign(Role.PHYSICIAN, "I confirm the patient is eligible")), 1)
    w.step("   infectious-disease screening", RecordInfectiousDiseaseScreening(
           actor="demo-coordinator", cleared=True, tests=("HIV", "HBV", "HCV")), 1)
    w.step("   apheresis booked", ScheduleApheresis(actor="demo-coordinator",
           slot_at=w.now + timedelta(days=4)))
    w.step("2. leukapheresis", RecordCollection(actor="demo-apheresis", scanned_coi=scan,
           collection_din=DIN.eye_readable), 4)
    w.step("3. manufacturing order accepted", StartManufacturing(actor="demo-manufacturing",
           scanned_coi=scan, scanned_din=DIN.barcode, weight_kg=42.0, order_ref="ORD-DEMO-1"), 2)
    w.step("   product released", ReleaseProduct(actor="demo-manufacturing", dose_cells=1.5e8,
           bags=(BAG,), signature=w.sign(Role.MANUFACTURING, "release within specification")),
           20)
    w.step("4. shipped in the cryogenic shipper", ShipProduct(actor="demo-manufacturing",
           scanned_coi=scan, scanned_bag_ids=(BAG.bag_id,), courier="demo-courier"), 1)
    w.refused("   the pharmacy scans a bag label of ANOTHER case", ReceiveProduct(
              actor="demo-pharmacy", scanned_coi=OTHER_COI.barcode,
              scanned_bag_ids=(BAG.bag_id,), celsius=-160.0, storage_location="LN2 tank 1"))
    w.step("   received and stored", ReceiveProduct(actor="demo-pharmacy", scanned_coi=scan,
           scanned_bag_ids=(BAG.bag_id,), celsius=-160.0, storage_location="LN2 tank 1"), 2)
    w.step("   product availability confirmed",
           ConfirmProductAvailability(actor="demo-pharmacy"))
    w.step("5. lymphodepleting chemotherapy starts", StartLymphodepletion(
           actor="demo-physician", regimen="flu-cy"), 1)
    w.step("   lymphodepletion completed", CompleteLymphodepletion(actor="demo-physician"), 3)
    w.refused("   thaw on the day lymphodepletion ends", ThawBag(actor="demo-pharmacy",
              scanned_coi=scan, scanned_bag_id=BAG.bag_id))
    w.step("   thawed at the bedside", ThawBag(actor="demo-pharmacy", scanned_coi=scan,
           scanned_bag_id=BAG.bag_id), 2)
    w.step("   infused: the nurse scans wristband and bag, the physician witnesses and signs",
           InfuseBag(
               actor="demo-pharmacy", scanned_wristband=scan, identity_confirmed=True,
               scanned_bag_label=coi, scanned_bag_id=BAG.bag_id,
               performer=Performer(user_id="demo-pharmacy", role=Role.PHARMACY),
               signature=w.sign(Role.PHYSICIAN, "I witnessed and sign the infusion")), 1 / 96)
    w.step("6. monitoring", StartMonitoring(actor="demo-physician"))


def _toxicity(walk: Walk) -> None:
    crs = grade_crs(38.9, "no-vasopressors", "low-flow")
    walk.say(f"Day 3 after infusion: CRS grade {crs.grade}: {crs.reason}")
    icans = grade_icans(consciousness="spontaneous", ice=8, age_years=14)
    walk.say(f"Day 5 after infusion: ICANS grade {icans.grade}: {icans.reason}")
    walk.step("   monitoring period completed", CompleteMonitoring(actor="demo-physician"), 28)
    walk.say("    (long-term follow-up runs 15 years and does not close early)")


def _audit(walk: Walk) -> None:
    chain = build_chain(walk.log)
    report = verify_chain(chain)
    walk.say(f"Event log: {report.entries} events, hash chain verified: {report.ok}, "
             f"head {report.head[:16]}...")
    tampered = [dict(e) for e in chain]
    tampered[5] = {**tampered[5], "actor": "someone-else"}
    broken = verify_chain(tampered)
    walk.say(f"After editing event 5: verified {broken.ok}, first broken link at entry "
             f"{broken.broken_at}: {broken.reason}")


SECTIONS: tuple[Callable[[Walk], None], ...] = (_eligibility, _dosing, _journey, _toxicity,
                                                _audit)


def run(catalog: Catalog | None = None) -> list[str]:
    """The walk-through's lines."""
    walk = Walk(catalog or load_catalog())
    for section in SECTIONS:
        section(walk)
        walk.say()
    return walk.out
