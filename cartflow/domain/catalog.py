"""The product catalog: every approved CAR-T product's label facts, each with its source.

The catalog is data (``cartflow/data/products.json``), read at the edge by
``cartflow.catalog_file.load_catalog`` and parsed here by :func:`parse_catalog`; rules take the
parsed :class:`Catalog` as an argument.

Every fact is a list of versions. A version names its numbered sources (the list at the end of
``shared/reference/labels.md``), the regions it holds in (none means every region) and the dates
it is in force (labels change), so a decision is judged by the facts in force on its date. A fact
the reference marks UNCONFIRMED is stored as *unknown*: it never passes a guard, and the step
that needs it is blocked until a site records a signed local-protocol value for it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, Final

from cartflow.domain.errors import InvalidInput, NotInCatalog
from cartflow.domain.renal import check_renal_schedule

REGIONS = ("US", "EU", "CN")
DISEASES: Final = ("B-ALL", "LBCL", "FL", "MCL", "CLL", "SLL", "MZL", "MM")
"""The diagnoses the catalog and the patient facts know."""


class FactStatus(StrEnum):
    """Where a value comes from: the label, nowhere yet, or a site's signed local protocol."""

    LABEL = "label"
    UNKNOWN = "unknown"
    SITE_PROTOCOL = "site_protocol"


class RuleKind(StrEnum):
    """A guard's authority: the product label, or the site's own policy."""

    LABEL = "label"
    SITE_POLICY = "site_policy"


@dataclass(frozen=True)
class FactVersion:
    """One version of a fact: its value (``None`` when unknown), sources, regions and dates."""

    value: Any
    status: FactStatus
    sources: tuple[str, ...] = ()
    regions: frozenset[str] | None = None
    valid_from: date | None = None
    valid_until: date | None = None  # exclusive
    note: str = ""

    def in_force(self, on: date) -> bool:
        if self.valid_from is not None and on < self.valid_from:
            return False
        return self.valid_until is None or on < self.valid_until

    def holds_in(self, region: str | None) -> bool:
        return self.regions is None or region is None or region in self.regions

    @property
    def known(self) -> bool:
        return self.status is not FactStatus.UNKNOWN

    @property
    def source_text(self) -> str:
        if self.status is FactStatus.SITE_PROTOCOL:
            return "site protocol"
        if not self.sources:
            return "no source"
        return "label source " + ", ".join(f"[{s}]" for s in self.sources)


@dataclass(frozen=True)
class Fact:
    """A named fact with all its versions."""

    name: str
    versions: tuple[FactVersion, ...]

    def at(self, on: date, region: str | None = None) -> FactVersion | None:
        """The version in force on ``on`` in ``region``; a region's own version wins."""
        candidates = [v for v in self.versions if v.in_force(on) and v.holds_in(region)]
        if not candidates:
            return None
        specific = [v for v in candidates if v.regions is not None]
        return (specific or candidates)[0] if region is not None else candidates[0]


@dataclass(frozen=True)
class SiteProtocolValue:
    """A value a site signed for a fact the catalog does not know, with its document."""

    indication: str
    fact: str
    value: Any
    document_ref: str
    signed_by: str
    signed_on: date


@dataclass(frozen=True)
class ResolvedFact:
    """A fact's value for one decision, with where it came from."""

    name: str
    value: Any
    status: FactStatus
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "status": self.status.value,
            "source": self.source,
        }


@dataclass(frozen=True)
class Approval:
    """Where and since when an indication is approved."""

    region: str
    valid_from: date
    valid_until: date | None
    sources: tuple[str, ...]
    note: str = ""

    def in_force(self, on: date) -> bool:
        if on < self.valid_from:
            return False
        return self.valid_until is None or on < self.valid_until


@dataclass(frozen=True)
class Indication:
    """One use of a product (e.g. ``tisagenlecleucel/b-all``): its facts by name."""

    id: str
    product: str
    disease: str
    title: str
    approvals: tuple[Approval, ...]
    facts: Mapping[str, Fact] = field(default_factory=dict)
    other_diseases: tuple[str, ...] = ()  # e.g. SLL beside CLL: one indication, two diagnoses

    @property
    def diseases(self) -> tuple[str, ...]:
        """Every diagnosis this indication is for, its main ``disease`` first."""
        return (self.disease, *self.other_diseases)

    @property
    def short(self) -> str:
        """The part of the id after the product, e.g. ``b-all``."""
        return self.id.split("/", 1)[1]

    def approved_in(self, on: date) -> tuple[str, ...]:
        return tuple(sorted({a.region for a in self.approvals if a.in_force(on)}))

    def fact(self, name: str, on: date, region: str | None = None) -> FactVersion | None:
        fact = self.facts.get(name)
        return fact.at(on, region) if fact is not None else None

    def resolve(
        self,
        name: str,
        on: date,
        region: str | None = None,
        site_values: Iterable[SiteProtocolValue] = (),
    ) -> ResolvedFact:
        """The value a guard may use, or :class:`NotInCatalog` when none is known.

        A known label value always wins; a site's signed protocol value only fills a gap: a
        fact the label does not give, or the unknown numbers inside one it gives in part (the
        fractions of a split dose), where the site's value keeps every number the label states
        (:func:`disagreement_with_label`).
        """
        version = self.fact(name, on, region)
        if version is not None and version.known:
            if holds_unknown_number(version.value):
                for site_value in site_values:
                    if (
                        site_value.indication == self.id
                        and site_value.fact == name
                        and disagreement_with_label(version.value, site_value.value) is None
                    ):
                        return ResolvedFact(
                            name,
                            site_value.value,
                            FactStatus.SITE_PROTOCOL,
                            f"{version.source_text}; the numbers it does not give: site "
                            f"protocol {site_value.document_ref}",
                        )
            return ResolvedFact(name, version.value, version.status, version.source_text)
        for site_value in site_values:
            if site_value.indication == self.id and site_value.fact == name:
                return ResolvedFact(
                    name,
                    site_value.value,
                    FactStatus.SITE_PROTOCOL,
                    f"site protocol {site_value.document_ref}",
                )
        raise NotInCatalog(f"{self.id}: {name.replace('_', ' ')}")


@dataclass(frozen=True)
class Product:
    """An approved CAR-T product and its indications."""

    id: str
    brand: str
    manufacturer: str
    facts: Mapping[str, Fact]
    indications: tuple[Indication, ...]

    def fact(self, name: str, on: date, region: str | None = None) -> FactVersion | None:
        fact = self.facts.get(name)
        return fact.at(on, region) if fact is not None else None


@dataclass(frozen=True)
class Catalog:
    """Every product, as of a date, with the source list. Not claimed to be exhaustive."""

    version: str
    as_of: date
    sources: Mapping[str, str]
    products: tuple[Product, ...]

    def product(self, product_id: str) -> Product:
        for product in self.products:
            if product.id == product_id:
                return product
        known = ", ".join(p.id for p in self.products)
        raise InvalidInput(f"unknown product {product_id!r}; known products: {known}")

    def indication(self, indication_id: str) -> Indication:
        for product in self.products:
            for indication in product.indications:
                if indication.id == indication_id:
                    return indication
        known = ", ".join(i.id for i in self.indications())
        raise InvalidInput(f"unknown indication {indication_id!r}; known indications: {known}")

    def indications(self) -> tuple[Indication, ...]:
        return tuple(i for p in self.products for i in p.indications)

    def product_of(self, indication: Indication) -> Product:
        """The product an indication belongs to."""
        return self.product(indication.product)

    def find_indication(self, product_id: str, indication_or_disease: str) -> Indication:
        """An indication of ``product_id`` by its id, its short name or its disease.

        An ambiguous disease (a product with two indications for it) is refused with the
        list of choices rather than guessed.
        """
        product = self.product(product_id)
        wanted = indication_or_disease.strip()
        for indication in product.indications:
            if wanted in (indication.id, indication.id.split("/", 1)[1]):
                return indication
        matches = [
            i for i in product.indications if wanted.lower() in (d.lower() for d in i.diseases)
        ]
        if len(matches) == 1:
            return matches[0]
        choices = ", ".join(i.id for i in (matches or product.indications))
        if matches:
            raise InvalidInput(f"{wanted!r} is ambiguous for {product_id}: choose one of {choices}")
        raise InvalidInput(
            f"{product_id} has no indication {wanted!r}; its indications are: {choices}"
        )


class FactName(StrEnum):
    """The facts an indication carries. The value shape of each is documented in
    ``docs/catalog.md``; the parser checks it."""

    AGE = "age"  # {"min": years or null (inclusive), "below": years or null (exclusive)}
    CONDITIONS = "conditions"  # an eligibility condition tree (see eligibility.py)
    DOSE = "dose"  # a dose rule, tagged by "kind" (see dosing.py)
    LYMPHODEPLETION = "lymphodepletion"  # a list of regimens
    INFUSION_WINDOW_DAYS = "infusion_window_days"  # [min, max] local days after LD ends
    LD_REPEAT_AFTER_DAYS = "ld_repeat_after_days"  # repeat LD when infusion slips past this
    LD_OMISSION_WBC_MAX = "ld_omission_wbc_max_per_l"  # LD may be omitted at or below
    STORAGE_MAX_CELSIUS = "storage_max_celsius"  # the product is stored at or below this
    POST_THAW_MINUTES = "post_thaw_minutes"  # infuse within this many minutes of thaw
    MONITORING_DAYS = "monitoring_days"  # the whole monitoring period after infusion
    DAILY_MONITORING_DAYS = "daily_monitoring_days"  # its daily part, where the label states one
    PROXIMITY_DAYS = "proximity_days"  # stay near the treatment centre this long
    DRIVING_RESTRICTION_DAYS = "driving_restriction_days"
    FLUDARABINE_RENAL_ADJUSTMENT = "fludarabine_renal_adjustment"


class ProductFactName(StrEnum):
    TARGET_ANTIGEN = "target_antigen"  # "CD19" | "BCMA"
    COSTIMULATORY_DOMAIN = "costimulatory_domain"  # "4-1BB" | "CD28"
    # {"min": days, "max": days, "span": one of TURNAROUND_SPANS}; optional (absent = unknown)
    MANUFACTURING_TURNAROUND_DAYS = "manufacturing_turnaround_days"
    # {"median": days, "span": one of VEIN_TO_VEIN_SPANS}: the published real-world median
    # from leukapheresis to infusion; optional (absent or unknown = no typical time)
    TYPICAL_VEIN_TO_VEIN_DAYS = "typical_vein_to_vein_days"


REQUIRED_PRODUCT_FACTS: Final = (
    ProductFactName.TARGET_ANTIGEN,
    ProductFactName.COSTIMULATORY_DOMAIN,
)
"""Facts every product states (as unknown if need be); the turnaround came later and is
optional, so catalogs written before it still parse and simply get no plan."""


# ---------------------------------------------------------------------------------------------
# Parsing and validating the data file
# ---------------------------------------------------------------------------------------------

ANTIGENS: Final = ("CD19", "BCMA")
COSTIMULATORY_DOMAINS: Final = ("4-1BB", "CD28")
LD_DRUGS: Final = ("fludarabine", "cyclophosphamide", "bendamustine")
VEIN_TO_VEIN_SPANS: Final = ("leukapheresis_to_infusion",)
TURNAROUND_SPANS: Final = (
    "leukapheresis_to_release",
    "manufacture_and_release",
    "receipt_to_delivery",
    "not_stated",
)
"""What a published turnaround figure measures: sources differ, so each version says which."""
DISEASE_STATUSES: Final = (
    "newly_diagnosed",
    "refractory",
    "first_relapse",
    "second_or_later_relapse",
)
THERAPY_CLASSES: Final = (
    "chemoimmunotherapy",
    "proteasome_inhibitor",
    "immunomodulatory_agent",
    "anti_cd38",
    "btk_inhibitor",
    "bcl2_inhibitor",
    "stem_cell_transplant",
)
CONDITION_TESTS: Final[Mapping[str, str]] = {
    # test name -> the name of its one argument ("" for none)
    "disease_status_in": "values",
    "min_prior_lines": "n",
    "prior_therapies_include": "classes",
    "refractory_to_include": "drugs",
    "relapse_within_months": "months",
    "transplant_eligible": "value",
    "relapsed_after_transplant": "value",
    "clinician_confirms": "",
}
"""The leaves an eligibility condition tree may use (see ``cartflow.domain.eligibility``)."""
DOSE_KINDS: Final = (
    "per_kg_with_weight_threshold",
    "flat_range",
    "per_kg_range",
    "target_per_kg_with_cap",
    "split",
    "two_components",
)
"""The dose rule shapes the labels use (see ``cartflow.domain.dosing``)."""

MAX_CELLS: Final = 1e10
"""No CAR-T dose in any label comes near 10^10 cells: a larger number is a typing error."""

_PRODUCT_ID = re.compile(r"^[a-z]+(-[a-z]+)*$")
_SHORT_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_VERSION_KEYS = frozenset({"value", "unknown", "sources", "regions", "from", "until", "note"})


class CatalogError(InvalidInput):
    """The catalog data file is malformed; the message names the product and the field."""


def is_unknown_marker(value: object) -> bool:
    """Whether ``value`` is ``{"unknown": true, ...}``: a number the reference does not give."""
    return isinstance(value, Mapping) and value.get("unknown") is True


def holds_unknown_number(value: object) -> bool:
    """Whether a known value holds an unknown number inside (a split's fractions, a dose's
    lower bound): the numbers a site's signed value may complete."""
    if is_unknown_marker(value):
        return True
    if isinstance(value, Mapping):
        return any(holds_unknown_number(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(holds_unknown_number(v) for v in value)
    return False


def disagreement_with_label(label: object, site: object, path: str = "") -> str | None:
    """Where a site's value departs from what the label states (``None`` when it keeps every
    stated number and key, and fills only the label's unknown numbers)."""
    if is_unknown_marker(label):
        return None if not is_unknown_marker(site) else f"{path or 'the value'} is still unknown"
    if isinstance(label, Mapping):
        if not isinstance(site, Mapping) or set(site) != set(label):
            return f"{path or 'the value'} has the label's fields ({', '.join(sorted(label))})"
        for key in label:
            found = disagreement_with_label(label[key], site[key], f"{path}.{key}".strip("."))
            if found is not None:
                return found
        return None
    if isinstance(label, list | tuple):
        if not isinstance(site, list | tuple) or len(site) != len(label):
            return f"{path or 'the value'} has the label's {len(label)} items"
        for i, (a, b) in enumerate(zip(label, site, strict=True)):
            found = disagreement_with_label(a, b, f"{path}[{i}]")
            if found is not None:
                return found
        return None
    return None if site == label else f"{path or 'the value'} is {label!r} in the label"


class _Checker:
    """Validates one part of the file; ``where`` names the product, indication and field."""

    def __init__(self, where: str) -> None:
        self.where = where

    def at(self, more: str) -> _Checker:
        return _Checker(f"{self.where}, {more}")

    def fail(self, what: str) -> CatalogError:
        return CatalogError(f"catalog: {self.where}: {what}")

    def mapping(
        self, raw: object, keys: Iterable[str] = (), optional: Iterable[str] = ()
    ) -> Mapping[str, Any]:
        if not isinstance(raw, Mapping):
            raise self.fail(f"expected an object, got {type(raw).__name__}")
        required = set(keys)
        allowed = required | set(optional)
        missing = sorted(required - set(raw))
        if missing:
            raise self.fail(f"missing key(s) {', '.join(missing)}")
        if allowed:
            extra = sorted(set(raw) - allowed)
            if extra:
                raise self.fail(
                    f"unknown key(s) {', '.join(extra)}; accepted: {', '.join(sorted(allowed))}"
                )
        return raw

    def text(self, raw: object, name: str) -> str:
        if not isinstance(raw, str) or not raw.strip():
            raise self.fail(f"{name} must be a non-empty string, got {raw!r}")
        return raw

    def one_of(self, raw: object, name: str, choices: Sequence[str]) -> str:
        if raw not in choices:
            raise self.fail(f"{name} must be one of {', '.join(choices)}; got {raw!r}")
        return str(raw)

    def number(self, raw: object, name: str, low: float, high: float) -> float:
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
            raise self.fail(f"{name} must be a number, got {raw!r}")
        if not low <= raw <= high:
            raise self.fail(f"{name} must be between {low:g} and {high:g}; got {raw!r}")
        return float(raw)

    def integer(self, raw: object, name: str, low: int, high: int) -> int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise self.fail(f"{name} must be a whole number, got {raw!r}")
        if not low <= raw <= high:
            raise self.fail(f"{name} must be between {low} and {high}; got {raw!r}")
        return raw

    def number_or_unknown(self, raw: object, name: str, low: float, high: float) -> None:
        if is_unknown_marker(raw):
            self.at(name).mapping(raw, ("unknown",), ("note",))
            return
        self.number(raw, name, low, high)

    def date_(self, raw: object, name: str) -> date | None:
        if raw is None:
            return None
        if not isinstance(raw, str):
            raise self.fail(f"{name} must be a date YYYY-MM-DD, got {raw!r}")
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise self.fail(f"{name} must be a date YYYY-MM-DD, got {raw!r}") from None

    def dates(self, raw: Mapping[str, Any]) -> tuple[date | None, date | None]:
        start = self.date_(raw.get("from"), "from")
        end = self.date_(raw.get("until"), "until")
        if start is not None and end is not None and end <= start:
            raise self.fail(f"until ({end}) must be after from ({start})")
        return start, end

    def source_list(
        self, raw: object, known: Mapping[str, str], *, required: bool
    ) -> tuple[str, ...]:
        if raw is None and not required:
            return ()
        if not isinstance(raw, list) or (required and not raw):
            raise self.fail('sources must name at least one numbered source, e.g. ["12"]')
        for item in raw:
            if not isinstance(item, str) or item not in known:
                raise self.fail(f"source {item!r} is not in the catalog's source list")
        return tuple(raw)


def _check_age(c: _Checker, raw: object) -> None:
    value = c.mapping(raw, ("min", "below"))
    low = value["min"]
    below = value["below"]
    if low is None and below is None:
        raise c.fail("an age bound needs min or below (or store the fact as unknown)")
    if low is not None:
        c.number(low, "min", 0, 120)
    if below is not None:
        c.number(below, "below", 0, 130)
    if low is not None and below is not None and below <= low:
        raise c.fail(f"below ({below}) must be greater than min ({low})")


def _check_conditions(c: _Checker, raw: object, depth: int = 0) -> None:
    if depth > 8:
        raise c.fail("condition tree nested too deep")
    if isinstance(raw, Mapping) and ("all" in raw or "any" in raw):
        key = "all" if "all" in raw else "any"
        node = c.mapping(raw, (key,))
        items = node[key]
        if not isinstance(items, list) or not items:
            raise c.fail(f"{key!r} must be a non-empty list of conditions")
        for i, item in enumerate(items, 1):
            _check_conditions(c.at(f"{key}[{i}]"), item, depth + 1)
        return
    if not isinstance(raw, Mapping) or "test" not in raw:
        raise c.fail('a condition is {"all": [...]}, {"any": [...]} or a leaf with "test"')
    test = c.one_of(raw["test"], "test", tuple(CONDITION_TESTS))
    arg = CONDITION_TESTS[test]
    leaf = c.mapping(raw, ("test", "text", "kind", *((arg,) if arg else ())))
    c.text(leaf["text"], "text")
    c.one_of(leaf["kind"], "kind", tuple(RuleKind))
    if not arg:
        return
    value = leaf[arg]
    if test == "disease_status_in":
        _check_choice_list(c, value, arg, DISEASE_STATUSES)
    elif test == "prior_therapies_include":
        _check_choice_list(c, value, arg, THERAPY_CLASSES)
    elif test == "refractory_to_include":
        if not isinstance(value, list) or not value:
            raise c.fail("drugs must be a non-empty list of drug names")
        for drug in value:
            if not isinstance(drug, str) or drug != drug.strip().lower() or not drug:
                raise c.fail(f"drug names are lowercase words; got {drug!r}")
    elif test == "min_prior_lines":
        c.integer(value, arg, 0, 20)
    elif test == "relapse_within_months":
        c.number(value, arg, 0, 240)
    elif not isinstance(value, bool):
        raise c.fail(f"{test} value must be true or false, got {value!r}")


def _check_choice_list(c: _Checker, raw: object, name: str, choices: Sequence[str]) -> None:
    if not isinstance(raw, list) or not raw:
        raise c.fail(f"{name} must be a non-empty list of {', '.join(choices)}")
    for item in raw:
        c.one_of(item, name, choices)


def _check_per_kg(
    c: _Checker, raw: object, keys: Sequence[str] = ("min_per_kg", "max_per_kg")
) -> None:
    value = c.mapping(raw, keys)
    low = c.number(value[keys[0]], keys[0], 1, MAX_CELLS)
    high = c.number(value[keys[1]], keys[1], 1, MAX_CELLS)
    if high < low:
        raise c.fail(f"{keys[1]} ({high:g}) is below {keys[0]} ({low:g})")


def _check_dose(c: _Checker, raw: object) -> None:
    if not isinstance(raw, Mapping):
        raise c.fail("a dose rule is an object with a kind")
    kind = c.one_of(raw.get("kind"), "kind", DOSE_KINDS)
    c = c.at(f"kind {kind}")
    if kind == "per_kg_with_weight_threshold":
        rule = c.mapping(raw, ("kind", "threshold_kg", "at_or_below", "above"))
        c.number(rule["threshold_kg"], "threshold_kg", 1, 350)
        _check_per_kg(c.at("at_or_below"), rule["at_or_below"])
        _check_per_kg(c.at("above"), rule["above"], ("min", "max"))
    elif kind == "flat_range":
        rule = c.mapping(raw, ("kind", "min", "max"))
        _check_per_kg(c, {"min": rule["min"], "max": rule["max"]}, ("min", "max"))
    elif kind == "per_kg_range":
        rule = c.mapping(raw, ("kind", "min_per_kg", "max_per_kg"), ("max_total",))
        _check_per_kg(c, {k: rule[k] for k in ("min_per_kg", "max_per_kg")})
        if "max_total" in rule:
            c.number(rule["max_total"], "max_total", 1, MAX_CELLS)
    elif kind == "target_per_kg_with_cap":
        rule = c.mapping(raw, ("kind", "target_per_kg", "max_total", "min_per_kg"))
        target = c.number(rule["target_per_kg"], "target_per_kg", 1, MAX_CELLS)
        c.number(rule["max_total"], "max_total", 1, MAX_CELLS)
        c.number_or_unknown(rule["min_per_kg"], "min_per_kg", 1, target)
    elif kind == "split":
        rule = c.mapping(
            raw,
            ("kind", "parts", "tolerance_days", "total"),
            ("second_dose_hold", "regimen_by_marrow_blasts"),
        )
        c.integer(rule["tolerance_days"], "tolerance_days", 0, 14)
        if "second_dose_hold" in rule:
            hc = c.at("second_dose_hold")
            hold = hc.mapping(
                rule["second_dose_hold"],
                ("postpone_at_crs_grade", "latest_day", "stop_at_crs_grade", "stop_at_icans_grade"),
            )
            postpone = hc.integer(hold["postpone_at_crs_grade"], "postpone_at_crs_grade", 1, 4)
            stop = hc.integer(hold["stop_at_crs_grade"], "stop_at_crs_grade", 1, 5)
            if stop <= postpone:
                raise hc.fail("stop_at_crs_grade is above postpone_at_crs_grade")
            hc.integer(hold["latest_day"], "latest_day", 2, 60)
            hc.number_or_unknown(hold["stop_at_icans_grade"], "stop_at_icans_grade", 1, 5)
        if "regimen_by_marrow_blasts" in rule:
            mc = c.at("regimen_by_marrow_blasts")
            marrow = mc.mapping(
                rule["regimen_by_marrow_blasts"],
                ("cutoff_percent", "assessed_within_days_before_ld"),
            )
            mc.number(marrow["cutoff_percent"], "cutoff_percent", 0, 100)
            mc.integer(
                marrow["assessed_within_days_before_ld"], "assessed_within_days_before_ld", 0, 60
            )
        parts = rule["parts"]
        if not isinstance(parts, list) or len(parts) < 2:
            raise c.fail("a split dose has at least two parts")
        for i, part in enumerate(parts, 1):
            pc = c.at(f"parts[{i}]")
            item = pc.mapping(part, ("day", "fraction"))
            pc.integer(item["day"], "day", 1, 60)
            pc.number_or_unknown(item["fraction"], "fraction", 0.0001, 1)
        if is_unknown_marker(rule["total"]):
            c.number_or_unknown(rule["total"], "total", 0, 0)
        else:
            _check_per_kg(c.at("total"), rule["total"], ("min", "max"))
    else:  # two_components
        rule = c.mapping(raw, ("kind", "components", "ratio", "total"))
        comps = rule["components"]
        if not isinstance(comps, list) or len(comps) != 2:
            raise c.fail("two_components needs exactly two components")
        for i, comp in enumerate(comps, 1):
            c.text(c.at(f"components[{i}]").mapping(comp, ("name",))["name"], "name")
        if rule["ratio"] != "1:1":
            raise c.fail(
                f'ratio must be "1:1" (the only ratio a label uses), got {rule["ratio"]!r}'
            )
        _check_per_kg(c.at("total"), rule["total"], ("min", "max"))


def _check_lymphodepletion(c: _Checker, raw: object) -> None:
    if not isinstance(raw, list) or not raw:
        raise c.fail("lymphodepletion must be a non-empty list of regimens")
    ids: set[str] = set()
    for i, regimen in enumerate(raw, 1):
        rc = c.at(f"regimen {i}")
        item = rc.mapping(regimen, ("id", "drugs"), ("use_when", "note"))
        rid = rc.text(item["id"], "id")
        if rid in ids:
            raise rc.fail(f"duplicate regimen id {rid!r}")
        ids.add(rid)
        if i > 1 and "use_when" not in item:
            raise rc.fail("an alternative regimen must say when it is used (use_when)")
        drugs = item["drugs"]
        if not isinstance(drugs, list) or not drugs:
            raise rc.fail("drugs must be a non-empty list")
        for j, drug in enumerate(drugs, 1):
            dc = rc.at(f"drug {j}")
            d = dc.mapping(drug, ("drug", "mg_per_m2", "days"), ("on_days", "note"))
            dc.one_of(d["drug"], "drug", LD_DRUGS)
            dc.number(d["mg_per_m2"], "mg_per_m2", 1, 2000)
            days = dc.integer(d["days"], "days", 1, 10)
            if "on_days" in d:
                on_days = d["on_days"]
                if not isinstance(on_days, list) or len(on_days) != days:
                    raise dc.fail(f"on_days must list {days} day(s)")
                for day in on_days:
                    dc.integer(day, "on_days", -30, -1)


def _check_window(c: _Checker, raw: object) -> None:
    if not isinstance(raw, list) or len(raw) != 2:
        raise c.fail("infusion_window_days must be [min, max]")
    low = c.integer(raw[0], "min", 0, 60)
    high = c.integer(raw[1], "max", 0, 60)
    if high < low:
        raise c.fail(f"max ({high}) is below min ({low})")


def _check_turnaround(c: _Checker, raw: object) -> None:
    value = c.mapping(raw, ("min", "max", "span"))
    low = c.integer(value["min"], "min", 1, 120)
    high = c.integer(value["max"], "max", 1, 120)
    if high < low:
        raise c.fail(f"max ({high}) is below min ({low})")
    c.one_of(value["span"], "span", TURNAROUND_SPANS)


def _check_vein_to_vein(c: _Checker, raw: object) -> None:
    value = c.mapping(raw, ("median", "span"))
    c.number(value["median"], "median", 1, 365)
    c.one_of(value["span"], "span", VEIN_TO_VEIN_SPANS)


def _check_renal(c: _Checker, raw: object) -> None:
    """A site's schedule by clearance band with its unit (``cartflow.domain.renal``), or the
    older single threshold ``{"crcl_below", "reduce_by_percent"}`` (still read)."""
    if isinstance(raw, Mapping) and "bands" in raw:
        try:
            check_renal_schedule(raw)
        except InvalidInput as exc:
            raise c.fail(str(exc)) from None
        return
    value = c.mapping(raw, ("crcl_below", "reduce_by_percent"))
    c.number(value["crcl_below"], "crcl_below", 1, 250)
    c.number(value["reduce_by_percent"], "reduce_by_percent", 1, 99)


def check_fact_value(name: str, value: object, where: str = "value") -> None:
    """Check a fact's value has the shape its name needs; raise :class:`CatalogError` if not.

    The journey and the clinic may call this on a site's signed protocol value before
    recording it, so a site value is held to the same shapes as the label's.
    """
    c = _Checker(where)
    if name == FactName.AGE:
        _check_age(c, value)
    elif name == FactName.CONDITIONS:
        _check_conditions(c, value)
    elif name == FactName.DOSE:
        _check_dose(c, value)
    elif name == FactName.LYMPHODEPLETION:
        _check_lymphodepletion(c, value)
    elif name == FactName.INFUSION_WINDOW_DAYS:
        _check_window(c, value)
    elif name in (
        FactName.LD_REPEAT_AFTER_DAYS,
        FactName.MONITORING_DAYS,
        FactName.DAILY_MONITORING_DAYS,
        FactName.PROXIMITY_DAYS,
        FactName.DRIVING_RESTRICTION_DAYS,
    ):
        c.integer(value, name, 1, 365)
    elif name == FactName.LD_OMISSION_WBC_MAX:
        c.number(value, name, 1e6, 1e11)
    elif name == FactName.STORAGE_MAX_CELSIUS:
        c.number(value, name, -273.15, 0)
    elif name == FactName.POST_THAW_MINUTES:
        c.integer(value, name, 1, 24 * 60)
    elif name == FactName.FLUDARABINE_RENAL_ADJUSTMENT:
        _check_renal(c, value)
    elif name == ProductFactName.TARGET_ANTIGEN:
        c.one_of(value, name, ANTIGENS)
    elif name == ProductFactName.COSTIMULATORY_DOMAIN:
        c.one_of(value, name, COSTIMULATORY_DOMAINS)
    elif name == ProductFactName.MANUFACTURING_TURNAROUND_DAYS:
        _check_turnaround(c, value)
    elif name == ProductFactName.TYPICAL_VEIN_TO_VEIN_DAYS:
        _check_vein_to_vein(c, value)
    else:
        raise c.fail(f"unknown fact {name!r}")


def _parse_versions(c: _Checker, name: str, raw: object, sources: Mapping[str, str]) -> Fact:
    if not isinstance(raw, list) or not raw:
        raise c.fail("a fact is a non-empty list of versions")
    versions: list[FactVersion] = []
    for i, item in enumerate(raw, 1):
        vc = c.at(f"version {i}")
        entry = vc.mapping(item)
        extra = sorted(set(entry) - _VERSION_KEYS)
        if extra:
            raise vc.fail(
                f"unknown key(s) {', '.join(extra)}; accepted: {', '.join(sorted(_VERSION_KEYS))}"
            )
        regions: frozenset[str] | None = None
        if "regions" in entry:
            raw_regions = entry["regions"]
            if not isinstance(raw_regions, list) or not raw_regions:
                raise vc.fail(f"regions must be a non-empty list of {', '.join(REGIONS)}")
            regions = frozenset(vc.one_of(r, "region", REGIONS) for r in raw_regions)
        start, end = vc.dates(entry)
        note = entry.get("note", "")
        if not isinstance(note, str):
            raise vc.fail("note must be a string")
        if "unknown" in entry:
            if entry["unknown"] is not True or "value" in entry:
                raise vc.fail('an unknown version is {"unknown": true, "note": "UNCONFIRMED: ..."}')
            if not note.startswith("UNCONFIRMED"):
                raise vc.fail('an unknown version needs a note starting "UNCONFIRMED"')
            found = vc.source_list(entry.get("sources"), sources, required=False)
            versions.append(FactVersion(None, FactStatus.UNKNOWN, found, regions, start, end, note))
            continue
        if "value" not in entry:
            raise vc.fail('a version needs "value" (or "unknown": true)')
        found = vc.source_list(entry.get("sources"), sources, required=True)
        check_fact_value(name, entry["value"], vc.where)
        versions.append(
            FactVersion(entry["value"], FactStatus.LABEL, found, regions, start, end, note)
        )
    _refuse_overlaps(c, versions)
    return Fact(name, tuple(versions))


def _refuse_overlaps(c: _Checker, versions: Sequence[FactVersion]) -> None:
    """Two versions may not both be in force on one date in one region: which would win?"""
    for i, a in enumerate(versions):
        for b in versions[i + 1 :]:
            same_scope = (a.regions is None) == (b.regions is None) and (
                a.regions is None or b.regions is None or a.regions & b.regions
            )
            starts = max(a.valid_from or date.min, b.valid_from or date.min)
            ends = min(a.valid_until or date.max, b.valid_until or date.max)
            if same_scope and starts < ends:
                raise c.fail(
                    f"versions {versions.index(a) + 1} and {versions.index(b) + 1} are both in "
                    f"force from {starts} in {sorted(a.regions or REGIONS)}: give them dates "
                    "or regions that do not overlap"
                )


def _refuse_daily_above_whole(c: _Checker, facts: Mapping[str, Fact]) -> None:
    """The daily part of monitoring is part of the whole period, so never longer than it."""
    daily, whole = facts.get(FactName.DAILY_MONITORING_DAYS), facts.get(FactName.MONITORING_DAYS)
    if daily is None or whole is None:
        return
    starts = {v.valid_from or date.min for v in (*daily.versions, *whole.versions)}
    for on in sorted(starts):
        for region in REGIONS:
            part, total = daily.at(on, region), whole.at(on, region)
            if part is None or total is None or not (part.known and total.known):
                continue
            if part.value > total.value:
                raise c.fail(
                    f"daily_monitoring_days ({part.value}) is longer than monitoring_days "
                    f"({total.value}) in {region} from {on}: the daily part is within the whole"
                )


def _parse_facts(
    c: _Checker, raw: object, allowed: Sequence[str], sources: Mapping[str, str]
) -> dict[str, Fact]:
    facts_raw = c.mapping(raw)
    facts: dict[str, Fact] = {}
    for name, versions in facts_raw.items():
        if name not in allowed:
            raise c.fail(f"unknown fact {name!r}; accepted: {', '.join(allowed)}")
        facts[name] = _parse_versions(c.at(f"fact {name}"), name, versions, sources)
    return facts


def _parse_approvals(c: _Checker, raw: object, sources: Mapping[str, str]) -> tuple[Approval, ...]:
    if not isinstance(raw, list) or not raw:
        raise c.fail("approvals must be a non-empty list")
    approvals = []
    for i, item in enumerate(raw, 1):
        ac = c.at(f"approval {i}")
        entry = ac.mapping(item, ("region", "sources"), ("from", "until", "note"))
        region = ac.one_of(entry["region"], "region", REGIONS)
        start, end = ac.dates(entry)
        if start is None:
            # Without a date every earlier decision would count as approved: store the earliest
            # date a source proves the approval in force, and say so in the note.
            raise ac.fail(
                "from must be a date YYYY-MM-DD: the approval's day, or the earliest date a "
                "source proves it in force, with a note saying so"
            )
        found = ac.source_list(entry["sources"], sources, required=True)
        note = entry.get("note", "")
        if not isinstance(note, str):
            raise ac.fail("note must be a string")
        approvals.append(Approval(region, start, end, found, note))
    return tuple(approvals)


def _parse_indication(
    c: _Checker, raw: object, product_id: str, sources: Mapping[str, str]
) -> Indication:
    entry = c.mapping(
        raw, ("id", "disease", "title", "approvals", "facts"), ("other_diseases", "note")
    )
    ident = c.text(entry["id"], "id")
    prefix, _, short = ident.partition("/")
    if prefix != product_id or not _SHORT_ID.match(short):
        raise c.fail(
            f"id must be '{product_id}/<short-name>' in lowercase with hyphens; got {ident!r}"
        )
    c = _Checker(f"{c.where.rsplit(',', 1)[0]}, indication {ident!r}")
    disease = c.one_of(entry["disease"], "disease", DISEASES)
    others_raw = entry.get("other_diseases", [])
    if not isinstance(others_raw, list):
        raise c.fail("other_diseases must be a list")
    others = tuple(c.one_of(d, "other_diseases", DISEASES) for d in others_raw)
    title = c.text(entry["title"], "title")
    approvals = _parse_approvals(c, entry["approvals"], sources)
    facts = _parse_facts(c, entry["facts"], tuple(FactName), sources)
    _refuse_daily_above_whole(c, facts)
    return Indication(ident, product_id, disease, title, approvals, facts, others)


def parse_catalog(raw: Mapping[str, Any]) -> Catalog:
    """Validate the data file's parsed JSON and build the :class:`Catalog`.

    Malformed input raises :class:`CatalogError` (an :class:`InvalidInput`) whose message names
    the product, the indication and the field, and says what is accepted.
    """
    top = _Checker("top level")
    doc = top.mapping(raw, ("catalog_version", "as_of", "disclaimer", "sources", "products"))
    version = top.text(doc["catalog_version"], "catalog_version")
    as_of = top.date_(doc["as_of"], "as_of")
    if as_of is None:
        raise top.fail("as_of must be a date YYYY-MM-DD")
    top.text(doc["disclaimer"], "disclaimer")
    sources_raw = top.mapping(doc["sources"])
    if not sources_raw:
        raise top.fail("sources must list the numbered sources")
    sources = {str(k): top.text(v, f"source {k}") for k, v in sources_raw.items()}
    products_raw = doc["products"]
    if not isinstance(products_raw, list) or not products_raw:
        raise top.fail("products must be a non-empty list")
    products: list[Product] = []
    seen_products: set[str] = set()
    seen_indications: set[str] = set()
    for i, item in enumerate(products_raw, 1):
        pc = _Checker(f"product {i}")
        entry = pc.mapping(item, ("id", "brand", "manufacturer", "facts", "indications"), ("note",))
        pid = pc.text(entry["id"], "id")
        if not _PRODUCT_ID.match(pid):
            raise pc.fail(f"id must be the generic name in lowercase with hyphens; got {pid!r}")
        if pid in seen_products:
            raise pc.fail(f"duplicate product id {pid!r}")
        seen_products.add(pid)
        pc = _Checker(f"product {pid!r}")
        brand = pc.text(entry["brand"], "brand")
        manufacturer = pc.text(entry["manufacturer"], "manufacturer")
        facts = _parse_facts(pc, entry["facts"], tuple(ProductFactName), sources)
        for needed in REQUIRED_PRODUCT_FACTS:
            if needed not in facts:
                raise pc.fail(f"missing fact {needed.value!r} (store it as unknown if not known)")
        indications_raw = entry["indications"]
        if not isinstance(indications_raw, list) or not indications_raw:
            raise pc.fail("indications must be a non-empty list")
        indications = []
        for j, ind in enumerate(indications_raw, 1):
            indication = _parse_indication(pc.at(f"indication {j}"), ind, pid, sources)
            if indication.id in seen_indications:
                raise pc.fail(f"duplicate indication id {indication.id!r}")
            seen_indications.add(indication.id)
            indications.append(indication)
        products.append(Product(pid, brand, manufacturer, facts, tuple(indications)))
    return Catalog(version, as_of, sources, tuple(products))
