"""Shared set-up for the journey tests: the packaged catalog, a case walked step by step.

A :class:`Journey` decides each command against the catalog at its own clock, applies the
events, and keeps the log as stored bodies (what the clinic would save).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cartflow.catalog_file import load_catalog
from cartflow.domain.catalog import Catalog
from cartflow.domain.eligibility import evaluate_indication
from cartflow.domain.events import Event
from cartflow.domain.identifiers import Din, new_identifier
from cartflow.domain.journey import (
    AcceptPlan,
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
    Step,
    ThawBag,
    apply,
    decide,
)
from cartflow.domain.patient_facts import parse_patient_facts
from cartflow.domain.roles import Role

NEW_YORK = ZoneInfo("America/New_York")
COI = new_identifier("G1234", 26, 100)
OTHER_COI = new_identifier("G1234", 26, 101)
DIN = new_identifier("W0001", 26, 555)
SECOND_DIN = new_identifier("W0001", 26, 556)
RECORD_NUMBER = "SYN-MRN-0001"
"""A synthetic hospital record number on the test patient's wristband."""

ELIGIBLE_FACTS: dict[str, dict[str, Any]] = {
    "lbcl": {
        "age_years": 58,
        "diagnosis": "LBCL",
        "disease_status": "refractory",
        "prior_lines": 2,
        "antigens": {"CD19": "positive"},
    },
    "b": {  # B-ALL
        "age_years": 12,
        "diagnosis": "B-ALL",
        "disease_status": "second_or_later_relapse",
        "relapsed_after_transplant": False,
        "antigens": {"CD19": "positive"},
    },
    "mm": {
        "age_years": 62,
        "diagnosis": "MM",
        "disease_status": "refractory",
        "prior_lines": 4,
        "prior_therapies": ["immunomodulatory_agent", "proteasome_inhibitor", "anti_cd38"],
        "refractory_to": ["lenalidomide"],
        "antigens": {"BCMA": "positive"},
    },
}
"""Synthetic patients whom each indication's label admits (by the disease in its id)."""

LBCL = "tisagenlecleucel/lbcl"  # US: infuse 2-11 days after LD; flat dose 0.6-6.0x10^8
B_ALL = "tisagenlecleucel/b-all"  # <=50 kg 0.2-5.0x10^6/kg; >50 kg 0.1-2.5x10^8
START = datetime(2026, 1, 5, 9, 0, tzinfo=NEW_YORK)


def elapsed(now: datetime, delta: timedelta) -> datetime:
    """``delta`` of real time after ``now``, in ``now``'s zone.

    Python adds a timedelta to the wall clock, so a walk across a spring-forward night could
    land on a local time that never existed (02:41 on 8 March in New York), which does not
    survive a round trip through its ISO form.
    """
    return (now.astimezone(UTC) + delta).astimezone(now.tzinfo)


def catalog() -> Catalog:
    return load_catalog()


def signature(role: Role, at: datetime, signer: str = "") -> Signature:
    return Signature(
        signer_id=signer or f"{role.value}-1",
        role=role,
        meaning=f"{role.value} signs",
        signed_at=at,
    )


@dataclass
class Journey:
    """One case, its clock and its log."""

    catalog: Catalog = field(default_factory=catalog)
    now: datetime = START
    indication: str = LBCL
    region: str = "US"
    timezone: str = "America/New_York"
    weight_kg: float = 70.0
    dose_cells: float = 2e8
    bags: tuple[BagSpec, ...] = (BagSpec(bag_id="BAG-1", lot="LOT-7"),)
    coi: Din = COI
    state: CaseState = field(default_factory=CaseState)
    log: list[dict[str, Any]] = field(default_factory=list)

    def later(self, **delta: float) -> Journey:
        self.now = elapsed(self.now, timedelta(**delta))
        return self

    def at(self, when: datetime) -> Journey:
        self.now = when
        return self

    def sign(self, role: Role) -> Signature:
        return signature(role, self.now)

    def do(self, command: Command) -> list[Event]:
        events = decide(self.state, command, self.catalog, self.now)
        for event in events:
            self.state = apply(self.state, event)
            self.log.append(event.to_body())
        return events

    # --- the happy path, one command per step --------------------------------------------

    def refer(self) -> ReferPatient:
        product = self.indication.split("/")[0]
        return ReferPatient(
            actor="physician-1",
            coi=self.coi.eye_readable,
            product_id=product,
            indication_id=self.indication,
            region=self.region,
            site="site-ny",
            site_timezone=self.timezone,
        )

    def release(self) -> ReleaseProduct:
        return ReleaseProduct(
            actor="mfg-1",
            dose_cells=self.dose_cells,
            bags=self.bags,
            signature=self.sign(Role.MANUFACTURING),
        )

    def judged(self, **changes: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """Synthetic patient facts for the case's indication and region (``changes`` applied)
        and the eligibility module's judgment of them on the case's date."""
        disease = self.indication.split("/")[1].split("-")[0]
        facts = {**ELIGIBLE_FACTS[disease], "region": self.region, **changes}
        indication = self.catalog.indication(self.indication)
        on = self.now.astimezone(ZoneInfo(self.timezone)).date()
        judged = evaluate_indication(parse_patient_facts(facts), self.catalog, indication, on)
        return facts, judged.to_dict()

    def sign_eligibility(self) -> SignEligibility:
        facts, assessment = self.judged()
        return SignEligibility(
            actor="physician-1",
            signature=self.sign(Role.PHYSICIAN),
            facts=facts,
            assessment=assessment,
        )

    def bag_ids(self) -> tuple[str, ...]:
        return tuple(b.bag_id for b in self.bags)

    def infuse(self, bag_id: str = "BAG-1") -> InfuseBag:
        """The nurse scans (wristband by record number) and a physician witnesses and signs."""
        return InfuseBag(
            actor="nurse-1",
            scanned_wristband=RECORD_NUMBER,
            identity_confirmed=True,
            scanned_bag_label=self.coi.eye_readable,
            scanned_bag_id=bag_id,
            performer=Performer(user_id="nurse-1", role=Role.PHARMACY),
            signature=self.sign(Role.PHYSICIAN),
            expected_wristbands=(RECORD_NUMBER,),
        )

    def next_command(self) -> Command:
        """The ordinary next command for the case's step."""
        s = self.state.step

        def next_thaw() -> Command:
            bag = self.state.remaining_bags[0].bag_id
            return ThawBag(actor="pharmacy-1", scanned_coi=self.coi.barcode, scanned_bag_id=bag)

        def order() -> Command:
            return StartManufacturing(
                actor="mfg-1",
                scanned_coi=self.coi.barcode,
                scanned_din=DIN.barcode
                if self.state.collection is None
                else self.state.collection.din,
                weight_kg=self.weight_kg,
                order_ref="ORDER-1",
            )

        steps: dict[Step, Callable[[], Command]] = {
            Step.NEW: self.refer,
            Step.REFERRED: lambda: RecordAntigenTest(
                actor="physician-1", antigen="CD19", positive=True, method="flow cytometry"
            ),
            Step.ANTIGEN_TESTED: self.sign_eligibility,
            Step.ELIGIBLE: lambda: RecordInfectiousDiseaseScreening(
                actor="coordinator-1", cleared=True, tests=("HIV", "HBV", "HCV")
            ),
            Step.SCREENED: lambda: ScheduleApheresis(
                actor="coordinator-1", slot_at=self.now + timedelta(days=3)
            ),
            Step.APHERESIS_SCHEDULED: lambda: RecordCollection(
                actor="apheresis-1", scanned_coi=self.coi.barcode, collection_din=DIN.eye_readable
            ),
            Step.COLLECTED: order,
            Step.BRIDGING: order,
            Step.MANUFACTURING: self.release,
            Step.RELEASED: lambda: ShipProduct(
                actor="mfg-1",
                scanned_coi=self.coi.barcode,
                scanned_bag_ids=self.bag_ids(),
                courier="courier-1",
            ),
            Step.SHIPPED: lambda: ReceiveProduct(
                actor="pharmacy-1",
                scanned_coi=self.coi.barcode,
                scanned_bag_ids=self.bag_ids(),
                celsius=-150.0,
                storage_location="LN2 tank 2",
            ),
            Step.RECEIVED: lambda: ConfirmProductAvailability(actor="pharmacy-1"),
            Step.AVAILABLE: lambda: StartLymphodepletion(actor="physician-1", regimen="flu-cy"),
            Step.LYMPHODEPLETING: lambda: CompleteLymphodepletion(actor="physician-1"),
            Step.LYMPHODEPLETED: next_thaw,
            Step.INFUSING: next_thaw,
            Step.THAWED: lambda: self.infuse(self.state.thawed_bag or "BAG-1"),
            Step.INFUSED: lambda: StartMonitoring(actor="physician-1"),
            Step.MONITORING: lambda: CompleteMonitoring(actor="physician-1"),
        }
        return steps[s]()

    # time each ordinary step takes before it is recorded
    PACE: dict[Step, timedelta] = field(
        default_factory=lambda: {
            Step.APHERESIS_SCHEDULED: timedelta(days=3),
            Step.MANUFACTURING: timedelta(days=14),
            Step.RELEASED: timedelta(days=1),
            Step.SHIPPED: timedelta(days=1),
            Step.LYMPHODEPLETING: timedelta(days=3),
            Step.LYMPHODEPLETED: timedelta(days=2),
            Step.THAWED: timedelta(minutes=10),
            Step.MONITORING: timedelta(days=14),
        }
    )

    def walk_to(self, target: Step) -> Journey:
        """Record the ordinary commands until the case reaches ``target``."""
        for _ in range(40):
            if self.state.step is target:
                return self
            self.now += self.PACE.get(self.state.step, timedelta(hours=1))
            self.do(self.next_command())
        raise AssertionError(f"the walk did not reach {target}; it stopped at {self.state.step}")


def plan_for(
    j: Journey,
    *,
    apheresis: date | None = None,
    start_after: int = 1,
    turnaround: int = 28,
    gap: int = 2,
    **changes: Any,
) -> AcceptPlan:
    """A plan shaped as the planner makes them: collection, run, shipment, LD, infusion."""
    a = apheresis or j.now.astimezone(NEW_YORK).date() + timedelta(days=3)
    m = a + timedelta(days=start_after)
    release = m + timedelta(days=turnaround)
    ld_start = release + timedelta(days=2)
    ld_end = ld_start + timedelta(days=2)
    infusion = ld_end + timedelta(days=gap)
    fields: dict[str, Any] = {
        "actor": "coordinator-1",
        "plan_id": "plan-1",
        "centre": "site-ny",
        "apheresis_at": datetime.combine(a, time(8), NEW_YORK),
        "chair_day": a,
        "manufacturing_slot_id": "slot-m",
        "manufacturing_site": "mfg-east",
        "manufacturing_start_on": m,
        "release_on": release,
        "shipment_on": release,
        "arrival_on": release + timedelta(days=1),
        "ld_start_on": ld_start,
        "ld_end_on": ld_end,
        "infusion_on": infusion,
        "monitoring_until": infusion + timedelta(days=27),
        "transit_days": 1,
    }
    fields.update(changes)
    return AcceptPlan(**fields)


def with_fact(
    source: Catalog, indication_id: str, name: str, value: Any, version: str = ""
) -> Catalog:
    """A copy of ``source`` in which one indication's fact has a single label version."""
    from dataclasses import replace

    from cartflow.domain.catalog import Fact, FactStatus, FactVersion

    fact = Fact(name, (FactVersion(value, FactStatus.LABEL, ("test",)),))
    products = []
    for product in source.products:
        indications = tuple(
            replace(i, facts={**i.facts, name: fact}) if i.id == indication_id else i
            for i in product.indications
        )
        products.append(replace(product, indications=indications))
    return replace(source, products=tuple(products), version=version or source.version)


def with_unknown_fact(source: Catalog, indication_id: str, *names: str) -> Catalog:
    """A copy of ``source`` in which one indication's facts are unknown (UNCONFIRMED).

    The label audit filled most handling facts of the US products, so the tests of what an
    unknown fact does take a copy of a product whose journey otherwise runs.
    """
    from dataclasses import replace

    from cartflow.domain.catalog import Fact, FactStatus, FactVersion

    unknown = {
        name: Fact(name, (FactVersion(None, FactStatus.UNKNOWN, note="UNCONFIRMED: test"),))
        for name in names
    }
    products = []
    for product in source.products:
        indications = tuple(
            replace(i, facts={**i.facts, **unknown}) if i.id == indication_id else i
            for i in product.indications
        )
        products.append(replace(product, indications=indications))
    return replace(source, products=tuple(products))


def without_fact(source: Catalog, indication_id: str, name: str) -> Catalog:
    """A copy of ``source`` in which one indication lacks a fact entirely."""
    from dataclasses import replace

    products = []
    for product in source.products:
        indications = tuple(
            replace(i, facts={k: v for k, v in i.facts.items() if k != name})
            if i.id == indication_id
            else i
            for i in product.indications
        )
        products.append(replace(product, indications=indications))
    return replace(source, products=tuple(products))
