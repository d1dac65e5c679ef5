"""Eligibility: for every product and indication, is this patient eligible on this date?

Each indication is judged by the facts in force on the decision's date (``on``, passed in):

- the diagnosis must be one the indication is for (label);
- the age bound (fact ``age``: ``min`` inclusive, ``below`` exclusive; "up to 25 years" is
  ``below: 26``) (label);
- the product's target antigen must have tested positive (site policy, on by default: a
  negative test makes the patient not eligible, an untested antigen needs information);
- the indication's condition tree (fact ``conditions``), with leaves tagged label or site
  policy.

Evaluation is three-valued: a rule whose input is missing is neither met nor unmet but
*missing*, so the answer is ``needs_information`` rather than a guess. A fact the catalog does
not know (UNCONFIRMED) never passes: it is missing, with the message
"not in the catalog: enter the site's protocol value or check the current label", until a site
records a signed protocol value for it.

Status: ``not_eligible`` when any rule is unmet, else ``needs_information`` when anything is
missing, else ``eligible``. Without a region, each region where the indication is approved on
the date is judged; the patient is eligible when eligible in at least one of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import Enum, StrEnum
from typing import Any

from cartflow.domain.catalog import (
    Catalog,
    FactName,
    FactStatus,
    FactVersion,
    Indication,
    Product,
    ProductFactName,
    ResolvedFact,
    RuleKind,
    SiteProtocolValue,
    check_fact_value,
)
from cartflow.domain.errors import NotInCatalog
from cartflow.domain.patient_facts import PatientFacts


class Status(StrEnum):
    ELIGIBLE = "eligible"
    NOT_ELIGIBLE = "not_eligible"
    NEEDS_INFORMATION = "needs_information"


class _Truth(Enum):
    MET = "met"
    UNMET = "unmet"
    MISSING = "missing"


@dataclass(frozen=True)
class Item:
    """An unmet rule or a missing piece of information, in plain words with its source."""

    text: str
    source: str  # e.g. "label [8]", "site policy", "site protocol SOP-12"
    kind: RuleKind
    region: str | None = None  # None: the same in every region

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"text": self.text, "source": self.source, "kind": self.kind.value}
        if self.region is not None:
            out["region"] = self.region
        return out


@dataclass(frozen=True)
class SitePolicy:
    """The site's own rules. The antigen test is on by default for every product."""

    require_antigen_positive: bool = True


@dataclass(frozen=True)
class RegionResult:
    region: str
    status: Status
    unmet: tuple[Item, ...]
    missing: tuple[Item, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "status": self.status.value,
            "unmet": [i.to_dict() for i in self.unmet],
            "missing": [i.to_dict() for i in self.missing],
        }


@dataclass(frozen=True)
class EligibilityResult:
    """The answer for one indication of one product."""

    product: str
    indication: str
    status: Status
    unmet: tuple[Item, ...]
    missing: tuple[Item, ...]
    approved_in: tuple[str, ...]
    eligible_in: tuple[str, ...]
    by_region: tuple[RegionResult, ...] = field(default=())

    @property
    def eligible(self) -> bool:
        return self.status is Status.ELIGIBLE

    def to_dict(self) -> dict[str, Any]:
        return {
            "product": self.product,
            "indication": self.indication,
            "status": self.status.value,
            "eligible": self.eligible,
            "unmet": [i.to_dict() for i in self.unmet],
            "missing": [i.to_dict() for i in self.missing],
            "approved_in": list(self.approved_in),
            "eligible_in": list(self.eligible_in),
            "by_region": [r.to_dict() for r in self.by_region],
        }


def _label_source(version: FactVersion | ResolvedFact) -> str:
    if isinstance(version, ResolvedFact):
        if version.source.startswith("label source "):
            return "label " + version.source.removeprefix("label source ")
        return version.source
    return "label " + " ".join(f"[{s}]" for s in version.sources)


class _Judge:
    """Collects the unmet and missing items of one indication in one region."""

    def __init__(self, region: str | None) -> None:
        self.region = region
        self.unmet: list[Item] = []
        self.missing: list[Item] = []

    def add(self, truth: _Truth, text: str, source: str, kind: RuleKind) -> _Truth:
        if truth is _Truth.UNMET:
            self.unmet.append(Item(text, source, kind, self.region))
        elif truth is _Truth.MISSING:
            self.missing.append(Item(text, source, kind, self.region))
        return truth

    def status(self) -> Status:
        if self.unmet:
            return Status.NOT_ELIGIBLE
        return Status.NEEDS_INFORMATION if self.missing else Status.ELIGIBLE


def _resolve(
    indication: Indication,
    name: str,
    on: date,
    region: str | None,
    site_values: Sequence[SiteProtocolValue],
) -> ResolvedFact | None:
    try:
        found = indication.resolve(name, on, region, site_values)
    except NotInCatalog:
        return None
    if found.status is FactStatus.SITE_PROTOCOL:  # held to the label's shapes
        check_fact_value(name, found.value, f"{indication.id}: {found.source}: {name}")
    return found


def _approval_source(indication: Indication, region: str) -> str:
    found = sorted(
        {s for a in indication.approvals if a.region == region for s in a.sources},
        key=lambda s: (not s.isdigit(), int(s) if s.isdigit() else 0, s),
    )
    return "label " + " ".join(f"[{s}]" for s in found) if found else "label"


def _not_in_catalog(judge: _Judge, indication: Indication, what: str) -> None:
    message = str(NotInCatalog(f"{indication.id}: {what}"))
    judge.add(_Truth.MISSING, message, "catalog", RuleKind.LABEL)


def _judge_age(
    judge: _Judge, indication: Indication, patient: PatientFacts, age: ResolvedFact | None
) -> None:
    if age is None:
        _not_in_catalog(judge, indication, "age bound")
        return
    low, below = age.value.get("min"), age.value.get("below")
    parts = []
    if low is not None:
        parts.append(f"at least {low:g} years")
    if below is not None:
        parts.append(f"younger than {below:g} years")
    rule = "age " + " and ".join(parts)
    source = _label_source(age)
    if patient.age_years is None:
        judge.add(_Truth.MISSING, f"{rule}: age_years not given", source, RuleKind.LABEL)
        return
    ok = (low is None or patient.age_years >= low) and (below is None or patient.age_years < below)
    if not ok:
        text = f"{rule}; the patient is {patient.age_years:g}"
        judge.add(_Truth.UNMET, text, source, RuleKind.LABEL)


def _judge_antigen(
    judge: _Judge, product: Product, patient: PatientFacts, on: date, region: str | None
) -> None:
    version = product.fact(ProductFactName.TARGET_ANTIGEN, on, region)
    if version is None or not version.known:
        message = str(NotInCatalog(f"{product.id}: target antigen"))
        judge.add(_Truth.MISSING, message, "catalog", RuleKind.SITE_POLICY)
        return
    antigen = str(version.value)
    result = patient.antigens.get(antigen, "not_tested")
    policy = "site policy"
    if result == "negative":
        text = f"{antigen} tested negative; {product.id} is aimed at {antigen}"
        judge.add(_Truth.UNMET, text, policy, RuleKind.SITE_POLICY)
    elif result != "positive":
        text = f"{antigen} not tested: a {antigen}-positive test is needed for {product.id}"
        judge.add(_Truth.MISSING, text, policy, RuleKind.SITE_POLICY)


def _leaf(patient: PatientFacts, leaf: Mapping[str, Any]) -> tuple[_Truth, str]:
    """Judge one leaf: met, unmet or missing, with what was observed (or what is missing)."""
    test = leaf["test"]
    if test == "clinician_confirms":
        return _Truth.MISSING, "a clinician must confirm this"
    if test == "disease_status_in":
        if patient.disease_status is None:
            return _Truth.MISSING, "disease_status not given"
        ok = patient.disease_status in leaf["values"]
        return _truth(ok), f"disease status is {patient.disease_status}"
    if test == "min_prior_lines":
        if patient.prior_lines is None:
            return _Truth.MISSING, "prior_lines not given"
        return _truth(patient.prior_lines >= leaf["n"]), f"{patient.prior_lines} prior line(s)"
    if test == "prior_therapies_include":
        if patient.prior_therapies is None:
            return _Truth.MISSING, "prior_therapies not given"
        lacking = [c for c in leaf["classes"] if c not in patient.prior_therapies]
        return _truth(not lacking), "no " + ", ".join(lacking) if lacking else ""
    if test == "refractory_to_include":
        if patient.refractory_to is None:
            return _Truth.MISSING, "refractory_to not given"
        lacking = [d for d in leaf["drugs"] if d not in patient.refractory_to]
        return _truth(not lacking), "not refractory to " + ", ".join(lacking) if lacking else ""
    if test == "relapse_within_months":
        months = patient.months_from_first_line_to_relapse
        if months is None:
            return _Truth.MISSING, "months_from_first_line_to_relapse not given"
        return _truth(months <= leaf["months"]), f"relapsed after {months:g} months"
    if test in ("transplant_eligible", "relapsed_after_transplant"):
        observed: bool | None = getattr(patient, test)
        if observed is None:
            return _Truth.MISSING, f"{test} not given"
        return _truth(observed is leaf["value"]), f"{test} is {str(observed).lower()}"
    raise AssertionError(f"unchecked condition test {test!r}")  # parse_catalog refuses it


def _truth(ok: bool) -> _Truth:
    return _Truth.MET if ok else _Truth.UNMET


def _tree(
    patient: PatientFacts, node: Mapping[str, Any], source: str
) -> tuple[_Truth, list[Item], list[Item]]:
    """Judge a condition tree; returns the truth, the unmet items and the missing items."""
    if "test" in node:
        truth, observed = _leaf(patient, node)
        kind = RuleKind(node["kind"])
        where = "site policy" if kind is RuleKind.SITE_POLICY else source
        text = node["text"] + (f" ({observed})" if observed else "")
        if truth is _Truth.UNMET:
            return truth, [Item(text, where, kind)], []
        if truth is _Truth.MISSING:
            return truth, [], [Item(f"{node['text']}: {observed}", where, kind)]
        return truth, [], []
    key = "all" if "all" in node else "any"
    results = [_tree(patient, child, source) for child in node[key]]
    truths = [t for t, _, _ in results]
    unmet = [i for _, u, _ in results for i in u]
    missing = [i for _, _, m in results for i in m]
    if key == "all":
        if _Truth.UNMET in truths:
            return _Truth.UNMET, unmet, []
        return (_Truth.MISSING if _Truth.MISSING in truths else _Truth.MET), [], missing
    if _Truth.MET in truths:
        return _Truth.MET, [], []
    if _Truth.MISSING in truths:
        return _Truth.MISSING, [], missing
    joined = "; or ".join(i.text for i in unmet)
    kinds = {i.kind for i in unmet}
    kind = RuleKind.LABEL if RuleKind.LABEL in kinds else RuleKind.SITE_POLICY
    return _Truth.UNMET, [Item(f"none of: {joined}", source, kind)], []


def _judge_conditions(
    judge: _Judge, indication: Indication, patient: PatientFacts, conditions: ResolvedFact | None
) -> None:
    if conditions is None:
        _not_in_catalog(judge, indication, "eligibility conditions")
        return
    _, unmet, missing = _tree(patient, conditions.value, _label_source(conditions))
    for item in unmet:
        judge.add(_Truth.UNMET, item.text, item.source, item.kind)
    for item in missing:
        judge.add(_Truth.MISSING, item.text, item.source, item.kind)


def evaluate_indication(
    patient: PatientFacts,
    catalog: Catalog,
    indication: Indication,
    on: date,
    site_values: Iterable[SiteProtocolValue] = (),
    policy: SitePolicy = SitePolicy(),
) -> EligibilityResult:
    """Judge one indication for one patient on date ``on`` (see the module's docstring)."""
    site = tuple(site_values)
    product = catalog.product_of(indication)
    approved = indication.approved_in(on)
    if patient.region is not None:
        regions: tuple[str, ...] = (patient.region,)
    else:
        regions = approved
    if not regions:
        item = Item(
            f"{indication.id} is not approved in any region on {on.isoformat()}",
            "catalog approvals",
            RuleKind.LABEL,
        )
        return EligibilityResult(
            product.id, indication.id, Status.NOT_ELIGIBLE, (item,), (), approved, ()
        )
    per_region = []
    for region in regions:
        judge = _Judge(region)
        if region not in approved:
            where = ", ".join(approved) or "no region"
            judge.add(
                _Truth.UNMET,
                f"not approved in {region} on {on.isoformat()} (approved in: {where})",
                "catalog approvals",
                RuleKind.LABEL,
            )
        if patient.diagnosis is None:
            judge.add(
                _Truth.MISSING,
                f"diagnosis not given; this indication is for {' or '.join(indication.diseases)}",
                _approval_source(indication, region),
                RuleKind.LABEL,
            )
        elif patient.diagnosis not in indication.diseases:
            judge.add(
                _Truth.UNMET,
                f"diagnosis is {patient.diagnosis}; this indication is for "
                f"{' or '.join(indication.diseases)}",
                _approval_source(indication, region),
                RuleKind.LABEL,
            )
            # A different disease settles it: the indication's other rules are beside the point.
            per_region.append(RegionResult(region, judge.status(), tuple(judge.unmet), ()))
            continue
        age = _resolve(indication, FactName.AGE, on, region, site)
        _judge_age(judge, indication, patient, age)
        if policy.require_antigen_positive:
            _judge_antigen(judge, product, patient, on, region)
        conditions = _resolve(indication, FactName.CONDITIONS, on, region, site)
        _judge_conditions(judge, indication, patient, conditions)
        per_region.append(
            RegionResult(region, judge.status(), tuple(judge.unmet), tuple(judge.missing))
        )
    return _combine(product.id, indication.id, approved, tuple(per_region))


def _combine(
    product: str, indication: str, approved: tuple[str, ...], results: tuple[RegionResult, ...]
) -> EligibilityResult:
    eligible_in = tuple(r.region for r in results if r.status is Status.ELIGIBLE)
    if eligible_in:
        status = Status.ELIGIBLE
        best: tuple[RegionResult, ...] = ()
    elif any(r.status is Status.NEEDS_INFORMATION for r in results):
        status = Status.NEEDS_INFORMATION
        best = tuple(r for r in results if r.status is Status.NEEDS_INFORMATION)
    else:
        status = Status.NOT_ELIGIBLE
        best = results
    regions = {r.region for r in best}
    unmet = _merge((i for r in best for i in r.unmet), regions)
    missing = _merge((i for r in best for i in r.missing), regions)
    return EligibilityResult(
        product, indication, status, unmet, missing, approved, eligible_in, results
    )


def _merge(items: Iterable[Item], regions: set[str]) -> tuple[Item, ...]:
    """Items of several regions: one found in every region is listed once, without a region."""
    by_key: dict[tuple[str, str, RuleKind], list[str | None]] = {}
    for item in items:
        by_key.setdefault((item.text, item.source, item.kind), []).append(item.region)
    merged = []
    for (text, source, kind), found_in in by_key.items():
        if len(regions) > 1 and set(found_in) == regions:
            merged.append(Item(text, source, kind, None))
        else:
            merged.extend(Item(text, source, kind, region) for region in found_in)
    return tuple(merged)


def evaluate(
    patient: PatientFacts,
    catalog: Catalog,
    on: date,
    site_values: Iterable[SiteProtocolValue] = (),
    policy: SitePolicy = SitePolicy(),
) -> list[EligibilityResult]:
    """Judge every indication of every product in the catalog, in catalog order."""
    site = tuple(site_values)
    return [
        evaluate_indication(patient, catalog, indication, on, site, policy)
        for indication in catalog.indications()
    ]


def matching_diagnosis_first(
    results: Sequence[EligibilityResult], catalog: Catalog, diagnosis: str | None
) -> list[EligibilityResult]:
    """The same answers, those for indications of the patient's diagnosis first.

    The order is otherwise the catalog's, in both groups, so a reader finds the indications
    that can apply at the top and the rest (each not eligible for the diagnosis) below.
    """
    if diagnosis is None:
        return list(results)

    def other_disease(result: EligibilityResult) -> bool:
        return diagnosis not in catalog.indication(result.indication).diseases

    return sorted(results, key=other_disease)
