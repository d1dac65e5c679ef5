"""A synthetic treatment network for the demo, built through the service functions.

Every seeded case is walked through the same operations the API calls, with clinical times
in the past, so each has a real, verifiable event log. Nothing here is a real person: the
patients are "Demo Patient-017" with record numbers ``DEMO-0017`` and birth dates on the
first of January; the sites say "(synthetic)".

The demo logins (one per role, the password is ``demo-`` and the user name) are printed by
``cartflow demo``; they are for a demo on one machine and nothing else.

:func:`seed` is idempotent: a second run finds the network and adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from cartflow.clinic import demo_patients, services
from cartflow.clinic.case_state import case_state
from cartflow.clinic.models import CaseProjection, Site, Slot, SlotKind, TherapyCase
from cartflow.clinic.services import (
    collection,
    custody,
    eligibility,
    manufacturing,
    referral,
    treatment,
)
from cartflow.domain.identifiers import Din, new_identifier, parse_identifier
from cartflow.domain.journey import BagSpec

MARKER_SITE = "demo-childrens"


class SeedHasher(PBKDF2PasswordHasher):
    """PBKDF2 with few iterations, used only while seeding.

    The seed signs a few hundred times and each signature re-checks a password; at the full
    iteration count that alone would take minutes. Django upgrades these hashes to the full
    count the first time each demo user signs in.
    """

    iterations = 1000


@contextmanager
def fast_hashing() -> Iterator[None]:
    """Seed with :class:`SeedHasher`, unless the preferred hasher is already a fast one."""
    preferred = settings.PASSWORD_HASHERS[0] if settings.PASSWORD_HASHERS else ""
    if "PBKDF2" not in preferred:
        yield
        return
    with override_settings(PASSWORD_HASHERS=["cartflow.clinic.demo_seed.SeedHasher"]):
        yield


# --- the network -------------------------------------------------------------------------

SITES: tuple[tuple[str, str, str, str, str | None], ...] = (
    # slug, name, kind, time zone, facility code (FIN)
    (
        "demo-childrens",
        "Demo Children's Hospital (synthetic)",
        "treatment_center",
        "America/New_York",
        "W9001",
    ),
    (
        "demo-university",
        "Demo University Medical Center (synthetic)",
        "treatment_center",
        "America/Chicago",
        "W9002",
    ),
    (
        "demo-riverside",
        "Demo Riverside Cancer Center (synthetic)",
        "treatment_center",
        "America/Los_Angeles",
        "W9003",
    ),
    (
        "demo-childrens-apheresis",
        "Demo Children's Apheresis Unit (synthetic)",
        "apheresis_unit",
        "America/New_York",
        "W9011",
    ),
    (
        "demo-university-apheresis",
        "Demo University Apheresis Unit (synthetic)",
        "apheresis_unit",
        "America/Chicago",
        "W9012",
    ),
    (
        "demo-manufacturing-east",
        "Demo Cell Manufacturing East (synthetic)",
        "manufacturing_site",
        "America/New_York",
        None,
    ),
    (
        "demo-manufacturing-west",
        "Demo Cell Manufacturing West (synthetic)",
        "manufacturing_site",
        "America/Denver",
        None,
    ),
    ("demo-courier", "Demo Cryo Courier (synthetic)", "courier", "America/New_York", None),
)

CENTERS = ("demo-childrens", "demo-university")

# The demo logins: user name, printed name, role, sites.
LOGINS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("physician", "Demo Physician", "physician", CENTERS),
    ("coordinator", "Demo Coordinator", "coordinator", CENTERS),
    (
        "apheresis",
        "Demo Apheresis Nurse",
        "apheresis",
        ("demo-childrens-apheresis", "demo-university-apheresis"),
    ),
    ("manufacturing", "Demo Manufacturing Operator", "manufacturing", ("demo-manufacturing-east",)),
    ("courier", "Demo Courier", "courier", ("demo-courier",)),
    ("pharmacy", "Demo Infusion Nurse", "pharmacy", CENTERS),
    ("quality", "Demo Quality Reviewer", "quality", (*CENTERS, "demo-manufacturing-east")),
    ("auditor", "Demo Auditor", "auditor", CENTERS),
    ("admin", "Demo Admin", "admin", CENTERS),
    ("outsider", "Demo Outsider", "physician", ("demo-riverside",)),
)
"""One login per role; ``outsider`` is a physician of another center, who sees none of the
demo centers' cases. Passwords: ``demo-<user name>``."""

STAFF: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("west-operator", "Demo West Operator", "manufacturing", ("demo-manufacturing-west",)),
    ("riverside-coordinator", "Demo Riverside Coordinator", "coordinator", ("demo-riverside",)),
)
"""Staff of the sites the demo logins do not work at (their cases are walked by them)."""


def password_for(username: str) -> str:
    return f"demo-{username}"


# --- walking a case ----------------------------------------------------------------------


@dataclass
class Crew:
    """Who does what at one center's cases."""

    physician: Any
    coordinator: Any
    apheresis: Any
    maker: Any
    courier: Any
    nurse: Any
    quality: Any
    unit: Site
    factory: Site
    courier_site: str = "demo-courier"


@dataclass
class Walk:
    """One case being walked: its clinical clock, its collection DIN and its bags."""

    case: TherapyCase
    crew: Crew
    clock: datetime
    sequence: Iterator[int]
    weight_kg: float = 72.0
    dose_cells: float = 2.0e8
    antigen: str = "CD19"
    din: Din | None = None
    bags: tuple[str, ...] = ()
    slots: dict[tuple[int, str, date], Slot] = field(default_factory=dict)

    @property
    def coi(self) -> str:
        return parse_identifier(self.case.coi).barcode

    def do(self, function: Callable[..., Any], user: Any, **fields: Any) -> Any:
        if "password" in fields:
            fields["password"] = password_for(user.get_username())
        return function(self.case, acting_user=user, now=self.clock, **fields)

    def slot(self, site: Site, kind: str, day: date, admin: Any) -> Slot:
        key = (site.pk, kind, day)
        if key not in self.slots:
            found = Slot.objects.filter(site=site, kind=kind, day=day).first()
            self.slots[key] = found or services.open_slot(site, kind, day, 20, acting_user=admin)
        return Slot.objects.get(pk=self.slots[key].pk)


Op = tuple[timedelta, Callable[[Walk, Any], None]]
"""How long after the previous operation, and the operation."""

H = timedelta(hours=1)
D = timedelta(days=1)


def _antigen(w: Walk, admin: Any) -> None:
    w.do(
        referral.record_antigen_test,
        w.crew.physician,
        antigen=w.antigen,
        positive=True,
        method="flow cytometry",
    )


ELIGIBLE_FACTS: dict[str, dict[str, Any]] = {
    "lbcl": {"diagnosis": "LBCL", "disease_status": "refractory", "prior_lines": 2},
    "b-all": {
        "diagnosis": "B-ALL",
        "disease_status": "second_or_later_relapse",
        "relapsed_after_transplant": False,
    },
    "mm": {
        "diagnosis": "MM",
        "disease_status": "refractory",
        "prior_lines": 4,
        "prior_therapies": ["immunomodulatory_agent", "proteasome_inhibitor", "anti_cd38"],
        "refractory_to": ["lenalidomide"],
    },
}
"""What the physician enters for the demo's synthetic patients, by the indication's disease."""


def _eligibility(w: Walk, admin: Any) -> None:
    indication = case_state(CaseProjection.objects.get(case=w.case)).indication_id
    facts = ELIGIBLE_FACTS[indication.split("/")[1]]
    w.do(eligibility.sign_eligibility, w.crew.physician, password="", facts=facts)


def _screening(w: Walk, admin: Any) -> None:
    w.do(
        referral.record_infectious_disease_screening,
        w.crew.coordinator,
        cleared=True,
        tests=("HIV", "HBV", "HCV"),
    )


def _schedule(w: Walk, admin: Any) -> None:
    planned = w.clock + 3 * D
    # The chair is booked for the collection's day on the case's calendar (its site's zone).
    day = planned.astimezone(ZoneInfo(w.case.treating_site.time_zone)).date()
    chair = w.slot(w.crew.unit, SlotKind.APHERESIS_CHAIR, day, admin)
    w.do(collection.schedule_apheresis, w.crew.coordinator, slot=chair, slot_at=planned)


def _new_din(w: Walk) -> Din:
    assert w.crew.unit.facility_code
    return new_identifier(w.crew.unit.facility_code, w.clock.year % 100, next(w.sequence))


def _collect(w: Walk, admin: Any) -> None:
    w.din = _new_din(w)
    w.do(
        collection.record_collection,
        w.crew.apheresis,
        scanned_coi=w.coi,
        collection_din=w.din.eye_readable,
    )


def _collection_fails(w: Walk, admin: Any) -> None:
    w.do(
        collection.record_collection,
        w.crew.apheresis,
        scanned_coi=w.coi,
        collection_din=_new_din(w).eye_readable,
        succeeded=False,
        reason="CD3+ yield below target (synthetic)",
    )


def _book_and_start(w: Walk, admin: Any) -> None:
    slot = w.slot(w.crew.factory, SlotKind.MANUFACTURING, w.clock.date(), admin)
    # Booked by the coordinator that morning; the order is accepted the same day.
    manufacturing.book_manufacturing_slot(
        w.case, slot, acting_user=w.crew.coordinator, now=w.clock - 6 * H
    )
    assert w.din is not None
    w.do(
        manufacturing.start_manufacturing,
        w.crew.maker,
        scanned_coi=w.coi,
        scanned_din=w.din.barcode,
        weight_kg=w.weight_kg,
        order_ref=f"ORDER-{w.case.coi[-7:]}",
    )


def _bag_specs(w: Walk) -> tuple[BagSpec, ...]:
    w.bags = (f"BAG-{w.case.coi[-7:]}",)
    return tuple(BagSpec(bag_id=b, lot=f"LOT-{w.case.coi[5:7]}{w.case.coi[-4:]}") for b in w.bags)


def _release(w: Walk, admin: Any) -> None:
    w.do(
        manufacturing.release_product,
        w.crew.maker,
        password="",
        dose_cells=w.dose_cells,
        bags=_bag_specs(w),
    )


def _out_of_specification(w: Walk, admin: Any) -> None:
    w.do(
        manufacturing.record_out_of_specification,
        w.crew.maker,
        password="",
        dose_cells=w.dose_cells / 20,
        bags=_bag_specs(w),
        reason="viable CAR+ T cells below the label's range (synthetic)",
    )


def _reject(w: Walk, admin: Any) -> None:
    w.do(
        manufacturing.decide_out_of_specification,
        w.crew.quality,
        password="",
        accept=False,
        reason="dose too low to treat (synthetic)",
    )


def _dispose(w: Walk, admin: Any) -> None:
    w.do(
        treatment.dispose_product,
        w.crew.quality,
        password="",
        reason="rejected product destroyed per SOP (synthetic)",
    )


def _ship(w: Walk, admin: Any) -> None:
    w.do(
        custody.ship_product,
        w.crew.maker,
        scanned_coi=w.coi,
        scanned_bag_ids=w.bags,
        courier=w.crew.courier_site,
    )


def _temperature(w: Walk, admin: Any) -> None:
    w.do(custody.record_temperature, w.crew.courier, celsius=-162.0, location="dry shipper")


def _excursion(w: Walk, admin: Any) -> None:
    w.do(
        custody.record_temperature,
        w.crew.courier,
        celsius=-95.0,
        location="dry shipper (lid seal alarm)",
    )


def _receive(w: Walk, admin: Any) -> None:
    w.do(
        custody.receive_product,
        w.crew.nurse,
        scanned_coi=w.coi,
        scanned_bag_ids=w.bags,
        celsius=-158.0,
        storage_location="LN2 tank 2",
    )


def _available(w: Walk, admin: Any) -> None:
    w.do(custody.confirm_product_availability, w.crew.nurse)


def _ld_start(w: Walk, admin: Any) -> None:
    w.do(
        treatment.start_lymphodepletion,
        w.crew.physician,
        regimen="flu-cy" if w.case.product == "tisagenlecleucel" else "cy-flu",  # label ids
    )


def _ld_complete(w: Walk, admin: Any) -> None:
    w.do(treatment.complete_lymphodepletion, w.crew.physician)


def _thaw(w: Walk, admin: Any) -> None:
    w.do(treatment.thaw_bag, w.crew.nurse, scanned_coi=w.coi, scanned_bag_id=w.bags[0])


def _infuse(w: Walk, admin: Any) -> None:
    # The infusion nurse scans and gives the bag; the physician witnesses and signs.
    physician = w.crew.physician.get_username()
    w.do(
        treatment.infuse,
        w.crew.nurse,
        witness_username=physician,
        witness_password=password_for(physician),
        scanned_wristband=w.case.patient.record_number,
        identity_confirmed=True,
        scanned_bag_label=w.coi,
        scanned_bag_id=w.bags[0],
    )


def _monitor(w: Walk, admin: Any) -> None:
    w.do(treatment.start_monitoring, w.crew.physician)


def _monitor_done(w: Walk, admin: Any) -> None:
    w.do(treatment.complete_monitoring, w.crew.physician)


def _visit(w: Walk, admin: Any) -> None:
    w.do(treatment.record_follow_up_visit, w.crew.physician, note_ref="month-3 visit")


def _withdraw(w: Walk, admin: Any) -> None:
    w.do(
        treatment.withdraw_case,
        w.crew.physician,
        password="",
        reason="the patient chose another treatment (synthetic)",
    )


MAIN: tuple[tuple[str, Op], ...] = (
    ("antigen_tested", (H, _antigen)),
    ("eligible", (H, _eligibility)),
    ("screened", (D, _screening)),
    ("apheresis_scheduled", (H, _schedule)),
    ("collected", (3 * D, _collect)),
    ("manufacturing", (D, _book_and_start)),
    ("released", (14 * D, _release)),
    ("shipped", (D, _ship)),
    ("in_transit", (6 * H, _temperature)),
    ("received", (D, _receive)),
    ("available", (H, _available)),
    ("lymphodepleting", (D, _ld_start)),
    ("lymphodepleted", (3 * D, _ld_complete)),
    ("infused", (2 * D, _thaw)),
    ("infused", (10 * timedelta(minutes=1), _infuse)),
    ("monitoring", (H, _monitor)),
    ("long_term_follow_up", (30 * D, _monitor_done)),
    ("follow_up_visit", (90 * D, _visit)),
)


def main_path(until: str) -> list[Op]:
    """The ordinary journey up to and including the last operation that reaches ``until``."""
    names = [name for name, _ in MAIN]
    last = len(names) - 1 - names[::-1].index(until)
    return [op for _, op in MAIN[: last + 1]]


def _path_after(ops: list[Op], start: str) -> list[Op]:
    names = [name for name, _ in MAIN]
    return ops + [op for _, op in MAIN[names.index(start) :]]


SPECIAL: dict[str, list[Op]] = {
    # Collection failed; a second apheresis is scheduled, succeeds, and the product is made.
    "re-collection": [
        *main_path("apheresis_scheduled"),
        (3 * D, _collection_fails),
        (D, _schedule),
        (3 * D, _collect),
        (D, _book_and_start),
        (14 * D, _release),
    ],
    # Manufacturing out of specification, rejected by quality, destroyed.
    "failed manufacturing": [
        *main_path("manufacturing"),
        (14 * D, _out_of_specification),
        (D, _reject),
        (H, _dispose),
    ],
    # A temperature excursion in transit: the product waits in quarantine for quality.
    "temperature excursion": [*main_path("shipped"), (8 * H, _excursion)],
    # Infusion delayed past the window: lymphodepletion repeated, then infused.
    "delayed infusion": [
        *main_path("lymphodepleted"),
        (21 * D, _ld_start),
        (3 * D, _ld_complete),
        (2 * D, _thaw),
        (10 * timedelta(minutes=1), _infuse),
        (H, _monitor),
    ],
    # Withdrawn after eligibility.
    "withdrawn": [*main_path("screened"), (2 * D, _withdraw)],
}

STAGES = tuple(dict.fromkeys(name for name, _ in MAIN))


@dataclass(frozen=True)
class Product:
    """A product of the catalog the demo treats with, and a dose inside its label's range."""

    product_id: str
    indication_id: str
    antigen: str
    cells_per_kg: float = 0.0
    cells: float = 0.0
    site_values: tuple[tuple[str, float], ...] = ()
    """Facts the label leaves open, filled by the center's signed protocol (a demo SOP)."""

    def dose(self, weight_kg: float) -> float:
        return self.cells or self.cells_per_kg * weight_kg


TISAGENLECLEUCEL = Product("tisagenlecleucel", "tisagenlecleucel/lbcl", "CD19", cells=2.0e8)
PRODUCTS = (
    TISAGENLECLEUCEL,
    Product(
        "ciltacabtagene-autoleucel",
        "ciltacabtagene-autoleucel/mm",
        "BCMA",
        cells_per_kg=7.5e5,
    ),
    Product("idecabtagene-vicleucel", "idecabtagene-vicleucel/mm", "BCMA", cells=4.0e8),
)


@dataclass(frozen=True)
class Plan:
    center: str
    ops: tuple[Op, ...]
    label: str
    idle: timedelta
    product: Product = TISAGENLECLEUCEL


def plans() -> list[Plan]:
    """A few dozen cases over every step: one per stage at Children's, every other stage at
    University, the special paths, and three early cases at Riverside."""
    found: list[Plan] = [Plan("demo-childrens", (), "referred", 2 * D)]
    for i, stage in enumerate(STAGES):
        path = tuple(main_path(stage))
        found.append(Plan("demo-childrens", path, stage, (1 + i % 3) * D, PRODUCTS[i % 3]))
        if i % 2 == 0:
            product = PRODUCTS[(i // 2) % 3]
            found.append(Plan("demo-university", path, stage, (2 + i % 4) * D, product))
    for i, (label, ops) in enumerate(SPECIAL.items()):
        center = CENTERS[i % 2]
        found.append(Plan(center, tuple(ops), label, (1 + i) * D))
    for stage in ("referred", "antigen_tested", "eligible"):
        ops = tuple(main_path(stage)) if stage != "referred" else ()
        found.append(Plan("demo-riverside", ops, stage, 3 * D))
    return found


# --- seeding -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SeedReport:
    created: bool
    cases: int
    logins: tuple[tuple[str, str, str], ...]  # user name, password, role and sites
    patient_logins: tuple[tuple[str, str, str], ...] = ()  # user name, password, language


def logins() -> tuple[tuple[str, str, str], ...]:
    return tuple(
        (username, password_for(username), f"{role} at {', '.join(sites)}")
        for username, _, role, sites in LOGINS
    )


def is_seeded() -> bool:
    return TherapyCase.objects.filter(treating_site__slug=MARKER_SITE).exists()


def seed(now: datetime | None = None) -> SeedReport:
    """Seed the demo network once; a second call finds it and changes nothing."""
    if is_seeded():
        return SeedReport(False, TherapyCase.objects.count(), logins(), demo_patients.logins())
    now = now or timezone.now()
    with fast_hashing(), transaction.atomic():
        count = _seed(now)
        coordinator = get_user_model().objects.get(username="coordinator")
        demo_patients.seed_patient_logins(now, coordinator)
    return SeedReport(True, count, logins(), demo_patients.logins())


def _user(username: str, printed: str) -> Any:
    users = get_user_model()
    first, _, last = printed.partition(" ")
    user = users.objects.filter(username=username).first()
    if user is None:
        user = users.objects.create_user(
            username, password=password_for(username), first_name=first, last_name=last
        )
    return user


# A Chinese treatment centre whose physician has signed the protocol values CNCT19's label
# facts lack (no Chinese package insert was found: docs/catalog.md); every value and document
# is the demo's own, synthetic, not a label's.
EAST = ("demo-east", "Demo East Hospital (synthetic)", "Asia/Shanghai", "W9004")
EAST_VALUES: tuple[tuple[str, str, Any], ...] = (
    (
        "inaticabtagene-autoleucel/b-all",
        "dose",
        {"kind": "per_kg_range", "min_per_kg": 800000, "max_per_kg": 1200000},
    ),
    (
        "inaticabtagene-autoleucel/b-all",
        "lymphodepletion",
        [
            {
                "id": "flu-cy",
                "drugs": [
                    {"drug": "fludarabine", "mg_per_m2": 30, "days": 3},
                    {"drug": "cyclophosphamide", "mg_per_m2": 300, "days": 3},
                ],
            }
        ],
    ),
    ("inaticabtagene-autoleucel/b-all", "infusion_window_days", [2, 14]),
    ("inaticabtagene-autoleucel/b-all", "storage_max_celsius", -150),
    ("inaticabtagene-autoleucel/b-all", "post_thaw_minutes", 30),
    ("inaticabtagene-autoleucel/b-all", "monitoring_days", 28),
)
RENAL_SCHEDULE = {
    "unit": "mL/min/1.73 m2",
    "bands": [
        {"from": 0, "below": 30, "reduce_by_percent": 100},
        {"from": 30, "below": 70, "reduce_by_percent": 20},
        {"from": 70, "below": None, "reduce_by_percent": 0},
    ],
}


def _seed_registers(
    sites: dict[str, Site], people: dict[str, Any], system: Any, now: datetime
) -> None:
    """The demo's signed protocol values: CNCT19's at the Chinese centre, and the children's
    centre's fludarabine renal schedule for the products it treats with."""
    from cartflow.clinic.services import site_register

    slug, name, zone, fin = EAST
    east = Site.objects.filter(slug=slug).first() or services.create_site(
        slug,
        name,
        "treatment_center",
        time_zone=zone,
        facility_code=fin,
        region="CN",
        acting_user=system,
    )
    sites[slug] = east
    for username in ("physician", "quality"):
        services.grant_role(people[username], east, username, acting_user=system)
    signer = people["physician"]
    entries = [(east, indication, fact, value) for indication, fact, value in EAST_VALUES]
    entries += [
        (
            sites["demo-childrens"],
            product.indication_id,
            "fludarabine_renal_adjustment",
            RENAL_SCHEDULE,
        )
        for product in PRODUCTS
    ]
    for site, indication, fact, value in entries:
        site_register.sign_entry(
            site,
            indication=indication,
            fact=fact,
            value=value,
            document_ref=f"DEMO-SOP-{fact.replace('_', '-').upper()}-001 (synthetic)",
            effective_from=date(2024, 1, 1),
            acting_user=signer,
            password=password_for("physician"),
            now=now - timedelta(days=800),
        )


def _seed(now: datetime) -> int:
    system = _user("demo-seed", "Demo Seed")
    sites: dict[str, Site] = {}
    for slug, name, kind, zone, fin in SITES:
        sites[slug] = Site.objects.filter(slug=slug).first() or services.create_site(
            slug, name, kind, time_zone=zone, facility_code=fin, acting_user=system
        )
    people: dict[str, Any] = {}
    for username, printed, role, where in (*LOGINS, *STAFF):
        user = _user(username, printed)
        for slug in where:
            services.grant_role(user, sites[slug], role, acting_user=system)
        people[username] = user
    _seed_registers(sites, people, system, now)

    crews = {
        center: Crew(
            physician=people["physician"],
            coordinator=people["coordinator"],
            apheresis=people["apheresis"],
            maker=people["manufacturing"]
            if center == "demo-childrens"
            else people["west-operator"],
            courier=people["courier"],
            nurse=people["pharmacy"],
            quality=people["quality"],
            unit=sites[f"{center}-apheresis"],
            factory=sites[
                "demo-manufacturing-east"
                if center == "demo-childrens"
                else "demo-manufacturing-west"
            ],
        )
        for center in CENTERS
    }
    # Riverside's few cases stop before the cells are taken.
    crews["demo-riverside"] = Crew(
        physician=people["outsider"],
        coordinator=people["riverside-coordinator"],
        apheresis=people["apheresis"],
        maker=people["west-operator"],
        courier=people["courier"],
        nurse=people["riverside-coordinator"],
        quality=people["riverside-coordinator"],
        unit=sites["demo-university-apheresis"],
        factory=sites["demo-manufacturing-west"],
    )

    sequence = iter(range(1, 1_000_000))
    shared_slots: dict[tuple[int, str, date], Slot] = {}
    for number, plan in enumerate(plans(), start=1):
        crew = crews[plan.center]
        patient = services.register_patient(
            sites[plan.center],
            record_number=f"DEMO-{number:04d}",
            given_name="Demo",
            family_name=f"Patient-{number:03d}",
            birth_date=date(1950 + (number * 7) % 50, 1, 1),
            sex=("female", "male")[number % 2],
            acting_user=crew.coordinator,
        )
        duration = sum((delta for delta, _ in plan.ops), timedelta())
        clock = now - duration - plan.idle - timedelta(minutes=number)
        case = referral.refer_patient(
            patient,
            product_id=plan.product.product_id,
            indication_id=plan.product.indication_id,
            acting_user=crew.physician,
            now=clock,
        ).case
        weight = 60.0 + number % 30
        walk = Walk(
            case,
            crew,
            clock,
            sequence,
            weight_kg=weight,
            dose_cells=plan.product.dose(weight),
            antigen=plan.product.antigen,
            slots=shared_slots,
        )
        for fact, value in plan.product.site_values if plan.ops else ():
            walk.clock += 30 * timedelta(minutes=1)
            walk.do(
                treatment.record_site_protocol_value,
                crew.physician,
                password="",
                fact=fact,
                value=value,
                document_ref="DEMO-SOP-CRYO-001 (synthetic)",
                effective_on=date(2024, 1, 1),
            )
        for delta, op in plan.ops:
            walk.clock += delta
            op(walk, system)
        if walk.clock > now:
            raise AssertionError(f"the seed's clock ran into the future for {plan.label}")
    _open_future_slots(sites, system, now)
    return len(plans())


FUTURE_WEEKS = 10
"""The demo's sites offer chairs and manufacturing places this many weeks ahead, so the
planner has a network to propose plans on (docs/scheduling.md)."""


def _open_future_slots(sites: dict[str, Site], system: Any, now: datetime) -> None:
    today = now.date()
    offers = [
        (site, SlotKind.APHERESIS_CHAIR, 2)
        for site in sites.values()
        if site.kind == "apheresis_unit"
    ] + [
        (site, SlotKind.MANUFACTURING, 2)
        for site in sites.values()
        if site.kind == "manufacturing_site"
    ]
    for days in range(1, 7 * FUTURE_WEEKS):
        day = today + timedelta(days=days)
        if day.weekday() >= 5:
            continue
        for site, kind, places in offers:
            if not Slot.objects.filter(site=site, kind=kind, day=day).exists():
                services.open_slot(site, kind, day, places, acting_user=system)
