"""Random walks through the journey: whatever commands arrive, in whatever order, with wrong
scans, wrong signers, warm shippers and late infusions, the log never shows an infusion
without each of its guards (an independent checker reads the log), and replaying the log
always rebuilds the state."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from datetime import timedelta
from typing import ClassVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from cartflow.domain.errors import DomainError
from cartflow.domain.identifiers import new_identifier
from cartflow.domain.journey import (
    Command,
    ConfirmPlanSlot,
    DecideOutOfSpecification,
    DecideQuarantine,
    DeclinePlanSlot,
    DisposeProduct,
    ExpireProduct,
    GradeCrs,
    GradeIcans,
    OmitLymphodepletion,
    RecordCollection,
    RecordDeath,
    RecordKineticsMeasurement,
    RecordOutOfSpecification,
    RecordTemperature,
    ReleasePlan,
    ReleaseProduct,
    ScheduleApheresis,
    StartLymphodepletion,
    Step,
    WithdrawCase,
    replay,
)
from cartflow.domain.roles import Role
from tests.domain.journey_cases import (
    B_ALL,
    LBCL,
    NEW_YORK,
    OTHER_COI,
    Journey,
    catalog,
    elapsed,
    plan_for,
    signature,
)
from tests.domain.journey_checker import check_log

CATALOG = catalog()
DELAYS = [
    timedelta(0),
    timedelta(minutes=10),
    timedelta(minutes=31),
    timedelta(hours=5),
    timedelta(days=1),
    timedelta(days=2),
    timedelta(days=6),
    timedelta(days=13),
    timedelta(days=30),
]
ROLES = list(Role)
SCAN_FIELDS = ("scanned_coi", "scanned_wristband", "scanned_bag_label", "scanned_din")


class JourneyMachine(RuleBasedStateMachine):
    seen: ClassVar[Counter[str]] = Counter()

    def __init__(self) -> None:
        super().__init__()
        self.j = Journey(catalog=CATALOG)
        self.din_sequence = 600
        self.omit_ld = False

    @initialize(
        setup=st.sampled_from(
            [(LBCL, "US", "America/New_York"), (LBCL, "EU", "Europe/Paris"), (B_ALL, "US", "UTC")]
        ),
        weight=st.sampled_from([30.0, 50.0, 70.0]),
        out_of_range=st.booleans(),
        omit_ld=st.booleans(),
    )
    def open_case(
        self, setup: tuple[str, str, str], weight: float, out_of_range: bool, omit_ld: bool
    ) -> None:
        self.omit_ld = omit_ld and setup[:2] == (LBCL, "US")
        self.j.indication, self.j.region, self.j.timezone = setup
        self.j.weight_kg = weight
        self.j.dose_cells = 1e8 if setup[0] == LBCL else 5e6 * min(weight, 50)
        if out_of_range:
            self.j.dose_cells = 9e8
        self.attempt(self.j.refer())

    def attempt(self, command: Command) -> None:
        try:
            self.j.do(command)
        except DomainError as exc:
            self.seen["refused"] += 1
            self.seen[type(exc).__name__] += 1
            self.seen[getattr(exc, "rule_id", "") or "no rule id"] += 1
        else:
            self.seen[self.j.state.step.value] += 1
            self.seen[self.j.log[-1]["type"]] += 1

    def wait(self, delay: timedelta) -> None:
        self.j.now = elapsed(self.j.now, delay)

    def ordinary(self) -> Command | None:
        """The next command a careful team would record; an out-of-range product goes to
        quality under an exception."""
        j = self.j
        if j.state.step is Step.MANUFACTURING and j.dose_cells > 6e8:
            return RecordOutOfSpecification(
                actor="m",
                dose_cells=j.dose_cells,
                bags=j.bags,
                reason="dose above range",
                signature=j.sign(Role.QUALITY),
            )
        if j.state.step is Step.AVAILABLE and self.omit_ld:
            return OmitLymphodepletion(
                actor="p",
                wbc_per_l=8e8,
                wbc_measured_at=j.now,
                reason="white-cell count already low",
                signature=j.sign(Role.PHYSICIAN),
            )
        thawed = j.state.thawed_bag and j.state.thaw_of(j.state.thawed_bag)
        if j.state.step is Step.THAWED and thawed and j.now - thawed.at > timedelta(minutes=30):
            return ExpireProduct(actor="ph", reason="thawed bag past its post-thaw limit")
        if j.state.step in (Step.PRODUCT_EXPIRED, Step.PRODUCT_REJECTED):
            return DisposeProduct(actor="ph", reason="unusable", signature=j.sign(Role.PHARMACY))
        if j.state.step is Step.PRODUCT_DISPOSED:
            return ScheduleApheresis(actor="c", slot_at=j.now + timedelta(days=2))
        if j.state.step is Step.APHERESIS_SCHEDULED:
            self.din_sequence += 1
            return RecordCollection(
                actor="a",
                scanned_coi=j.state.coi,
                collection_din=new_identifier("W0001", 26, self.din_sequence).barcode,
            )
        if j.state.step is Step.QUARANTINED:
            return DecideQuarantine(
                actor="q", release=True, reason="excursion assessed", signature=j.sign(Role.QUALITY)
            )
        if j.state.step is Step.OUT_OF_SPECIFICATION:
            return DecideOutOfSpecification(
                actor="q",
                accept=True,
                reason="no alternative product",
                signature=j.sign(Role.QUALITY),
            )
        try:
            return self.j.next_command()
        except KeyError:  # a step with no ordinary next command
            return None

    def faulty(self, command: Command, data: st.DataObject) -> Command | None:
        """``command`` with one fault a guard must refuse (a wrong signer, scan or bag), or
        a variant the guards judge (a dose, a temperature, an exception); ``None`` if the
        command has nothing to spoil."""
        j = self.j
        names = {f.name for f in dataclasses.fields(command)}
        faults = []
        if "signature" in names:
            faults.append("signer")
        if names & set(SCAN_FIELDS):
            faults.append("scan")
        if "scanned_bag_id" in names:
            faults.append("bag")
        if "performer" in names:
            faults.extend(["own witness", "witness role", "identity"])
        if "dose_cells" in names:
            faults.append("dose")
        if "celsius" in names:
            faults.append("celsius")
        if isinstance(command, ReleaseProduct | StartLymphodepletion):
            faults.append("exception")
        if not faults:
            return None
        fault = data.draw(st.sampled_from(faults))
        if fault == "signer":
            role = data.draw(st.sampled_from(ROLES))
            return dataclasses.replace(command, signature=j.sign(role))
        if fault == "scan":
            name = data.draw(st.sampled_from(sorted(names & set(SCAN_FIELDS))))
            return dataclasses.replace(command, **{name: OTHER_COI.barcode})
        if fault == "bag":
            return dataclasses.replace(command, scanned_bag_id="BAG-X")
        if fault == "own witness":
            signer = command.performer.user_id  # type: ignore[attr-defined]
            return dataclasses.replace(command, signature=signature(Role.PHYSICIAN, j.now, signer))
        if fault == "witness role":
            role = data.draw(st.sampled_from([Role.PHARMACY, Role.COORDINATOR, Role.QUALITY]))
            return dataclasses.replace(command, signature=signature(role, j.now, "someone-2"))
        if fault == "identity":
            return dataclasses.replace(command, identity_confirmed=False)
        if fault == "dose":
            dose = data.draw(st.sampled_from([1e6, 5e7, 2.4e8, 9e8]))
            return dataclasses.replace(command, dose_cells=dose)
        if fault == "celsius":
            celsius = data.draw(st.sampled_from([-119.0, -60.0]))
            return dataclasses.replace(command, celsius=celsius)
        if isinstance(command, ReleaseProduct):
            return RecordOutOfSpecification(
                actor="m",
                dose_cells=data.draw(st.sampled_from([1e8, 9e8])),
                bags=command.bags,
                reason="out of specification",
                signature=command.signature,
            )
        return OmitLymphodepletion(
            actor="p",
            wbc_per_l=data.draw(st.sampled_from([5e8, 1e9, 2e9])),
            wbc_measured_at=j.now - data.draw(st.sampled_from(DELAYS[:8])),
            reason="low count",
            signature=j.sign(data.draw(st.sampled_from([Role.PHYSICIAN, Role.PHARMACY]))),
        )

    def step_on(self, delay: timedelta, data: st.DataObject) -> None:
        """Wait, then (often) try a spoiled version of the next command, then the real one."""
        self.wait(delay)
        command = self.ordinary()
        if command is not None and data.draw(st.booleans()):
            spoiled = self.faulty(command, data)
            if spoiled is not None:
                self.attempt(spoiled)
            command = self.ordinary()
        if command is not None:
            self.attempt(command)

    @rule(delay=st.sampled_from(DELAYS), data=st.data())
    def next_step(self, delay: timedelta, data: st.DataObject) -> None:
        self.step_on(delay, data)

    @rule(data=st.data())
    def next_step_at_the_ordinary_pace(self, data: st.DataObject) -> None:
        self.step_on(self.j.PACE.get(self.j.state.step, timedelta(hours=1)), data)

    @rule(role=st.sampled_from([Role.PHARMACY, Role.COORDINATOR, Role.QUALITY]))
    def someone_infuses_without_a_proper_witness(self, role: Role) -> None:
        """At the bedside: the nurse as her own witness, a witness who may not sign, the
        second identifier not confirmed, another patient's wristband; each must be refused."""
        j = self.j
        if j.state.step is not Step.THAWED or j.state.thawed_bag is None:
            return
        command = j.infuse(j.state.thawed_bag)
        own = signature(Role.PHYSICIAN, j.now, command.performer.user_id)
        self.attempt(dataclasses.replace(command, signature=own))
        self.attempt(dataclasses.replace(command, signature=signature(role, j.now, "someone-2")))
        self.attempt(dataclasses.replace(command, identity_confirmed=False))
        self.attempt(dataclasses.replace(command, scanned_wristband=OTHER_COI.barcode))

    @rule(delay=st.sampled_from(DELAYS), data=st.data())
    def something_else_happens(self, delay: timedelta, data: st.DataObject) -> None:
        self.wait(delay)
        j = self.j
        role = data.draw(
            st.sampled_from([Role.QUALITY, Role.QUALITY, Role.PHYSICIAN, Role.PHARMACY])
        )
        choice = data.draw(st.integers(min_value=0, max_value=14))
        charted = j.now - data.draw(st.sampled_from(DELAYS[:6]))
        command: Command
        if choice == 0:
            celsius = data.draw(st.sampled_from([-150.0, -119.0, -110.0, -60.0]))
            command = RecordTemperature(actor="c", celsius=celsius, location="hub")
        elif choice == 1:
            command = DecideQuarantine(
                actor="q",
                release=data.draw(st.booleans()),
                reason="assessed",
                signature=j.sign(role),
            )
        elif choice == 2:
            command = RecordOutOfSpecification(
                actor="m",
                dose_cells=data.draw(st.sampled_from([1e8, 9e8])),
                bags=j.bags,
                reason="sterility pending",
                signature=j.sign(Role.MANUFACTURING),
            )
        elif choice == 3:
            command = DecideOutOfSpecification(
                actor="q",
                accept=data.draw(st.booleans()),
                reason="assessed",
                signature=j.sign(role),
            )
        elif choice == 4:
            command = OmitLymphodepletion(
                actor="p",
                wbc_per_l=data.draw(st.sampled_from([5e8, 1e9, 2e9])),
                wbc_measured_at=j.now - data.draw(st.sampled_from(DELAYS[:7])),
                reason="low count",
                signature=j.sign(data.draw(st.sampled_from([Role.PHYSICIAN, Role.COORDINATOR]))),
            )
        elif choice == 5:
            command = StartLymphodepletion(actor="p", regimen="flu-cy")
        elif choice == 6:
            command = ExpireProduct(actor="ph", reason="expired")
        elif choice == 7:
            command = DisposeProduct(actor="ph", reason="unused", signature=j.sign(role))
        elif choice == 8:
            command = ScheduleApheresis(actor="c", slot_at=j.now + timedelta(days=1))
        elif choice == 9:
            self.din_sequence += 1
            command = RecordCollection(
                actor="a",
                scanned_coi=j.state.coi or "none",
                collection_din=new_identifier("W0001", 26, self.din_sequence).barcode,
                succeeded=data.draw(st.booleans()),
                reason="low yield",
            )
        elif choice == 10 and data.draw(st.integers(0, 5)) == 0:
            command = WithdrawCase(
                actor="p", reason="patient's choice", signature=j.sign(Role.COORDINATOR)
            )
        elif choice == 11 and data.draw(st.integers(0, 5)) == 0:
            command = RecordDeath(
                actor="p", reason="disease progression", signature=j.sign(Role.PHYSICIAN)
            )
        elif choice == 12:
            temperature = data.draw(st.sampled_from([37.0, 38.6, 39.5, 30.0]))
            command = GradeCrs(
                actor="p",
                occurred_at=charted,
                temperature_c=temperature,
                hypotension=data.draw(st.sampled_from(["none", "one-vasopressor"])),
                oxygen="none",
            )
        elif choice == 13:
            command = GradeIcans(actor="p", occurred_at=charted, consciousness="alert", ice=8)
        elif choice == 14:
            by_day = data.draw(st.booleans())
            command = RecordKineticsMeasurement(
                actor="p",
                occurred_at=None if by_day else charted,
                day=data.draw(st.sampled_from([0.5, 7.0, 28.0])) if by_day else None,
                copies_per_ug=data.draw(st.sampled_from([10.0, 5000.0])),
                lloq=50.0,
            )
        else:
            return
        self.attempt(command)

    @rule(data=st.data())
    def someone_plans(self, data: st.DataObject) -> None:
        """Accept a plan (often spoiled: a chair in the past, on another day, a run before the
        collection), or answer, or release one: never a step moved around the guards."""
        j = self.j
        if not j.state.coi:
            return
        plan = j.state.plan
        choice = data.draw(st.integers(0, 3))
        command: Command
        if choice == 0 or plan is None:
            shift = data.draw(st.integers(-2, 4))
            kept = j.state.apheresis_slots[-1] if j.state.apheresis_slots else None
            on = (kept or j.now).astimezone(NEW_YORK).date() + timedelta(days=shift)
            command = plan_for(
                j,
                apheresis=on,
                plan_id=f"plan-{self.din_sequence}-{shift}",
                start_after=data.draw(st.integers(-1, 3)),
                gap=data.draw(st.sampled_from([1, 2, 11, 12])),
            )
        elif choice == 1:
            command = ConfirmPlanSlot(actor="m", plan_id=plan.plan_id)
        elif choice == 2:
            command = DeclinePlanSlot(actor="m", plan_id=plan.plan_id, reason="closed")
        else:
            command = ReleasePlan(actor="c", plan_id=plan.plan_id, reason="re-plan")
        self.attempt(command)

    @invariant()
    def the_log_replays_to_the_state(self) -> None:
        assert replay(self.j.log) == self.j.state
        assert self.j.state.anomalies == ()

    @invariant()
    def no_infusion_lacks_a_guard(self) -> None:
        assert check_log(self.j.log) == []

    def teardown(self) -> None:
        json.dumps(self.j.state.to_dict())
        self.seen["cases"] += 1
        if self.j.state.infusions:
            self.seen["cases infused"] += 1


def test_random_commands_never_produce_an_infusion_without_its_guards() -> None:
    JourneyMachine.seen.clear()
    run_state_machine_as_test(
        JourneyMachine,
        settings=settings(
            max_examples=120,
            stateful_step_count=60,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    seen = JourneyMachine.seen
    # the walk is not vacuous: it infused patients, refused faults and met the exceptions
    assert seen["cases infused"] >= 5, seen
    assert seen["product.infused"] >= 5 and seen["ScanMismatch"] > 0 and seen["JourneyError"] > 0
    assert seen["quarantined"] > 0 and seen["quality.quarantine_released"] > 0
    assert seen["exception.ld_omitted"] > 0 and seen["exception.out_of_specification_accepted"] > 0
    # ... refused observations before the infusion and recorded them after it
    observed = ("toxicity.crs_graded", "toxicity.icans_graded", "kinetics.measured")
    assert sum(seen[kind] for kind in observed) > 0
    assert seen["observation.before_infusion"] > 0
    # ... and refused the bedside's faults: a nurse as her own witness, a witness who may not
    # sign, an unconfirmed second identifier, scans of another case
    assert seen["bedside.witness_same_person"] > 0 and seen["bedside.witness_role"] > 0, seen
    assert seen["bedside.identity"] > 0 and seen["bedside.wristband"] > 0
    # ... and accepted, answered and released plans, refusing spoiled ones by the slot rules
    assert seen["plan.accepted"] > 0 and seen["plan.released"] > 0, seen
    assert seen["slot.in_the_past"] + seen["slot.chair_day"] > 0, seen
