"""Dosing: the CAR-T cell dose range for a patient, body surface area and the lymphodepletion plan.

Dose rules come in the shapes the labels use (the fact ``dose``, tagged by ``kind``):

- ``per_kg_with_weight_threshold``: per kg at or below ``threshold_kg``, a flat range above it
  (tisagenlecleucel B-ALL: <=50 kg 0.2-5.0x10^6/kg, >50 kg 0.1-2.5x10^8);
- ``flat_range``: a range not based on weight;
- ``per_kg_range``: per kg, optionally capped by ``max_total``;
- ``target_per_kg_with_cap``: a target per kg and a maximum. The labels in the reference give no
  lower bound, so the range released is *up to* min(target x weight, cap) and the lower bound is
  unknown (``min_cells`` is ``None``): :meth:`DoseRange.verify` refuses above the maximum and
  raises :class:`NotInCatalog` for a dose at or below it, since no guard passes on an unknown;
- ``split``: parts given on several days (obecabtagene autoleucel: Day 1 and Day 10 ±2);
- ``two_components``: CD8 and CD4 components given together at 1:1 (lisocabtagene maraleucel);
  each component's range is half the total range.

Cell counts are whole cells, rounded to the nearest cell. Weights must be above 0.5 kg and at
most 350 kg; heights 30 to 250 cm; creatinine clearance 0 to 250 mL/min.

Lymphodepletion: body surface area by Mosteller, sqrt(height_cm x weight_kg / 3600), rounded to
0.01 m^2; each drug's daily dose is mg/m^2 x that rounded BSA, rounded to 0.1 mg, so anyone can
recompute it from the printed BSA. The reference gives no label renal adjustment of fludarabine
(fact ``fludarabine_renal_adjustment`` is unknown), so with a creatinine clearance the plan warns
that the site protocol decides; a site's signed schedule by creatinine-clearance band, in the
unit the site states (``cartflow.domain.renal``), is applied and the plan says "site protocol".
A dose modification is a signed event, which the journey records.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from cartflow.domain import renal
from cartflow.domain.catalog import (
    REGIONS,
    FactName,
    FactStatus,
    Indication,
    ResolvedFact,
    SiteProtocolValue,
    check_fact_value,
    is_unknown_marker,
)
from cartflow.domain.errors import InvalidInput, NotInCatalog

MIN_WEIGHT_KG: Final = 0.5  # exclusive
MAX_WEIGHT_KG: Final = 350.0
MIN_HEIGHT_CM: Final = 30.0
MAX_HEIGHT_CM: Final = 250.0
MAX_CRCL_ML_MIN: Final = 250.0
MODIFICATION_IS_SIGNED: Final = "record the dose modification as a signed event"


def _check_number(value: object, name: str, low: float, high: float, *, low_open: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"{name} must be a number; got {value!r}")
    too_low = value <= low if low_open else value < low
    if too_low or value > high:
        bound = f"above {low:g}" if low_open else f"at least {low:g}"
        raise InvalidInput(f"{name} must be {bound} and at most {high:g}; got {value:g}")
    return float(value)


def check_weight(weight_kg: object) -> float:
    """The weight as a float, or :class:`InvalidInput` unless 0.5 < weight <= 350 kg."""
    return _check_number(weight_kg, "weight_kg", MIN_WEIGHT_KG, MAX_WEIGHT_KG, low_open=True)


def check_height(height_cm: object) -> float:
    """The height as a float, or :class:`InvalidInput` unless 30 <= height <= 250 cm."""
    return _check_number(height_cm, "height_cm", MIN_HEIGHT_CM, MAX_HEIGHT_CM, low_open=False)


def check_crcl(crcl_ml_min: object) -> float:
    """The creatinine clearance, or :class:`InvalidInput` unless 0 <= CrCl <= 250 mL/min."""
    return _check_number(crcl_ml_min, "crcl_ml_min", 0, MAX_CRCL_ML_MIN, low_open=False)


# ---------------------------------------------------------------------------------------------
# CAR-T cell dose
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComponentRange:
    """One component of a two-component dose (CD8 or CD4)."""

    name: str
    min_cells: int
    max_cells: int


@dataclass(frozen=True)
class DosePart:
    """One part of a split dose: its day and, where known, its fraction and cells."""

    day: int
    fraction: float | None
    min_cells: int | None
    max_cells: int | None


@dataclass(frozen=True)
class DoseRange:
    """The CAR-positive viable T cells a patient may receive. ``min_cells`` ``None``: unknown."""

    min_cells: int | None
    max_cells: int
    basis: str
    components: tuple[ComponentRange, ...] = ()
    parts: tuple[DosePart, ...] = ()
    tolerance_days: int | None = None
    source: str = ""

    def verify(self, cells: float) -> None:
        """Refuse a dose outside the range: :class:`InvalidInput` above the maximum or below
        the minimum; :class:`NotInCatalog` when the minimum is unknown (no guard passes on an
        unknown value)."""
        if isinstance(cells, bool) or not isinstance(cells, int | float) or not cells > 0:
            raise InvalidInput(f"the dose must be a positive number of cells; got {cells!r}")
        if cells > self.max_cells:
            raise InvalidInput(
                f"dose {cells:.3g} cells is above the maximum {self.max_cells:.3g} ({self.basis})"
            )
        if self.min_cells is None:
            raise NotInCatalog("lower bound of the dose")
        if cells < self.min_cells:
            raise InvalidInput(
                f"dose {cells:.3g} cells is below the minimum {self.min_cells:.3g} ({self.basis})"
            )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "min_cells": self.min_cells,
            "max_cells": self.max_cells,
            "basis": self.basis,
            "source": self.source,
        }
        if self.min_cells is None:
            out["min_status"] = "unknown"
        if self.components:
            out["components"] = [
                {"name": c.name, "min_cells": c.min_cells, "max_cells": c.max_cells}
                for c in self.components
            ]
        if self.parts:
            out["parts"] = [
                {
                    "day": p.day,
                    "fraction": p.fraction,
                    "min_cells": p.min_cells,
                    "max_cells": p.max_cells,
                }
                for p in self.parts
            ]
            out["tolerance_days"] = self.tolerance_days
        return out


def _cells(value: float) -> int:
    return round(value)


def _sci(value: float) -> str:
    return f"{value:.2g}"


def dose_range(rule: Mapping[str, Any] | ResolvedFact, weight_kg: float) -> DoseRange:
    """The dose range for a patient of ``weight_kg`` under a dose ``rule`` (a ``dose`` value,
    or the :class:`ResolvedFact` holding it).

    Raises :class:`InvalidInput` for an implausible weight or a malformed rule and
    :class:`NotInCatalog` when the rule's numbers are unknown.
    """
    if isinstance(rule, ResolvedFact):
        return _dose_range(rule.value, weight_kg)
    return _dose_range(rule, weight_kg)


def _dose_range(rule: Mapping[str, Any], weight_kg: float) -> DoseRange:
    weight = check_weight(weight_kg)
    check_fact_value(FactName.DOSE, rule, "dose rule")
    kind = rule["kind"]
    if kind == "per_kg_with_weight_threshold":
        threshold = rule["threshold_kg"]
        if weight <= threshold:
            low, high = rule["at_or_below"]["min_per_kg"], rule["at_or_below"]["max_per_kg"]
            return DoseRange(
                _cells(low * weight),
                _cells(high * weight),
                f"{_sci(low)}-{_sci(high)} cells/kg x {weight:g} kg (at or below {threshold:g} kg)",
            )
        low, high = rule["above"]["min"], rule["above"]["max"]
        return DoseRange(
            _cells(low), _cells(high), f"{_sci(low)}-{_sci(high)} cells (above {threshold:g} kg)"
        )
    if kind == "flat_range":
        return DoseRange(
            _cells(rule["min"]),
            _cells(rule["max"]),
            f"{_sci(rule['min'])}-{_sci(rule['max'])} cells, not based on weight",
        )
    if kind == "per_kg_range":
        low, high = rule["min_per_kg"], rule["max_per_kg"]
        max_cells = high * weight
        basis = f"{_sci(low)}-{_sci(high)} cells/kg x {weight:g} kg"
        if "max_total" in rule and max_cells > rule["max_total"]:
            max_cells = rule["max_total"]
            basis += f", capped at {_sci(max_cells)}"
        return DoseRange(_cells(min(low * weight, max_cells)), _cells(max_cells), basis)
    if kind == "target_per_kg_with_cap":
        target, cap = rule["target_per_kg"], rule["max_total"]
        max_cells = min(target * weight, cap)
        basis = f"up to target {_sci(target)} cells/kg x {weight:g} kg, at most {_sci(cap)}"
        low = rule["min_per_kg"]
        if is_unknown_marker(low):
            return DoseRange(None, _cells(max_cells), basis + "; lower bound not in the label")
        return DoseRange(_cells(min(low * weight, max_cells)), _cells(max_cells), basis)
    if kind == "split":
        total = rule["total"]
        if is_unknown_marker(total):
            raise NotInCatalog("cell numbers of the split dose")
        parts = []
        for part in rule["parts"]:
            fraction = part["fraction"]
            if is_unknown_marker(fraction):
                parts.append(DosePart(part["day"], None, None, None))
            else:
                parts.append(
                    DosePart(
                        part["day"],
                        fraction,
                        _cells(total["min"] * fraction),
                        _cells(total["max"] * fraction),
                    )
                )
        days = " and ".join(f"Day {p.day}" for p in parts)
        return DoseRange(
            _cells(total["min"]),
            _cells(total["max"]),
            f"split over {days} (±{rule['tolerance_days']} days)",
            parts=tuple(parts),
            tolerance_days=rule["tolerance_days"],
        )
    # two_components
    total = rule["total"]
    share = 2  # the ratio is 1:1 (checked above)
    components = tuple(
        ComponentRange(c["name"], _cells(total["min"] / share), _cells(total["max"] / share))
        for c in rule["components"]
    )
    names = " and ".join(c.name for c in components)
    return DoseRange(
        _cells(total["min"]),
        _cells(total["max"]),
        f"{_sci(total['min'])}-{_sci(total['max'])} cells in total, {names} at 1:1",
        components=components,
    )


def _require_approved(indication: Indication, on: date, region: str | None) -> None:
    approved = indication.approved_in(on)
    if region is not None and region not in approved:
        raise InvalidInput(
            f"{indication.id} is not approved in {region} on {on.isoformat()}; "
            f"approved in: {', '.join(approved) or 'no region'}"
        )
    if region is None and not approved:
        raise InvalidInput(f"{indication.id} is not approved in any region on {on.isoformat()}")


def resolve_for(
    indication: Indication,
    name: str,
    on: date,
    region: str | None = None,
    site_values: Iterable[SiteProtocolValue] = (),
) -> ResolvedFact:
    """A fact's value in ``region``; without a region, its value where the indication is
    approved on ``on``, refused with the choices when that value differs between regions.

    Raises :class:`NotInCatalog` when the value is unknown.
    """
    site = tuple(site_values)
    if region is not None:
        if region not in REGIONS:
            raise InvalidInput(f"region must be one of {', '.join(REGIONS)}; got {region!r}")
        return indication.resolve(name, on, region, site)
    regions = indication.approved_in(on) or REGIONS
    found: dict[str, ResolvedFact | NotInCatalog] = {}
    for each in regions:
        try:
            found[each] = indication.resolve(name, on, each, site)
        except NotInCatalog as exc:
            found[each] = exc
    shown = {r: (f.value if isinstance(f, ResolvedFact) else "unknown") for r, f in found.items()}
    if len({repr(v) for v in shown.values()}) > 1:
        choices = "; ".join(f"{r}: {v}" for r, v in shown.items())
        raise InvalidInput(
            f"{indication.id}: {name.replace('_', ' ')} differs by region ({choices}); "
            f"give a region, one of {', '.join(regions)}"
        )
    first = found[regions[0]]
    if isinstance(first, NotInCatalog):
        raise first
    return first


def dose_for(
    indication: Indication,
    weight_kg: float,
    on: date,
    region: str | None = None,
    site_values: Iterable[SiteProtocolValue] = (),
) -> DoseRange:
    """The dose range for ``indication`` on ``on`` (and ``region``) for a patient's weight."""
    check_weight(weight_kg)
    _require_approved(indication, on, region)
    fact = resolve_for(indication, FactName.DOSE, on, region, site_values)
    try:
        found = dose_range(fact.value, weight_kg)
    except NotInCatalog as exc:
        raise NotInCatalog(f"{indication.id}: {exc.what}") from None
    return DoseRange(
        found.min_cells,
        found.max_cells,
        found.basis,
        found.components,
        found.parts,
        found.tolerance_days,
        fact.source,
    )


# ---------------------------------------------------------------------------------------------
# Lymphodepletion
# ---------------------------------------------------------------------------------------------


def bsa_mosteller(height_cm: float, weight_kg: float) -> float:
    """Body surface area in m^2 by Mosteller: sqrt(height_cm x weight_kg / 3600), unrounded."""
    return math.sqrt(check_height(height_cm) * check_weight(weight_kg) / 3600)


def daily_mg(mg_per_m2: float, bsa_m2: float) -> float:
    """A drug's daily dose: mg/m^2 x BSA, rounded to 0.1 mg."""
    return round(mg_per_m2 * bsa_m2, 1)


def reduced_dose_mg(daily_dose_mg: float, reduce_by_percent: float) -> float:
    """A daily dose reduced by a site protocol's percentage, rounded to 0.1 mg."""
    _check_number(daily_dose_mg, "daily dose (mg)", 0, 10_000, low_open=True)
    _check_number(reduce_by_percent, "reduce_by_percent", 0, 100, low_open=True)
    if reduce_by_percent >= 100:
        raise InvalidInput("reduce_by_percent must be below 100; got 100")
    return round(daily_dose_mg * (100 - reduce_by_percent) / 100, 1)


def renal_reduction_percent(
    crcl_ml_min: float, rule: Mapping[str, Any], unit: str = "mL/min"
) -> float | None:
    """The percentage to reduce fludarabine by under ``rule`` for a clearance measured in
    ``unit``, or ``None`` when the clearance's band gives no reduction.

    ``rule`` is the site's schedule by clearance band with its unit (``cartflow.domain.renal``)
    or the older single threshold ``{"crcl_below", "reduce_by_percent"}`` (in mL/min); a
    clearance in another unit than the schedule's is refused (:class:`InvalidInput`).
    """
    crcl = check_crcl(crcl_ml_min)
    check_fact_value(FactName.FLUDARABINE_RENAL_ADJUSTMENT, rule, "fludarabine renal adjustment")
    reduction, _ = renal.renal_reduction(rule, crcl, unit)
    return reduction if reduction > 0 else None


@dataclass(frozen=True)
class DrugDose:
    """One drug of a regimen for one patient."""

    drug: str
    mg_per_m2: float
    daily_mg: float
    days: int
    on_days: tuple[int, ...] = ()
    note: str = ""
    unadjusted_daily_mg: float | None = None  # set when a renal adjustment reduced the dose

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "drug": self.drug,
            "mg_per_m2": self.mg_per_m2,
            "daily_mg": self.daily_mg,
            "days": self.days,
        }
        if self.on_days:
            out["on_days"] = list(self.on_days)
        if self.note:
            out["note"] = self.note
        if self.unadjusted_daily_mg is not None:
            out["unadjusted_daily_mg"] = self.unadjusted_daily_mg
        return out


@dataclass(frozen=True)
class RegimenPlan:
    """One lymphodepleting regimen; alternatives say when they are used."""

    id: str
    drugs: tuple[DrugDose, ...]
    use_when: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "drugs": [d.to_dict() for d in self.drugs]}
        if self.use_when:
            out["use_when"] = self.use_when
        return out


@dataclass(frozen=True)
class LymphodepletionPlan:
    """Daily doses per drug for a patient, the infusion window and the warnings."""

    indication: str
    bsa_m2: float
    regimens: tuple[RegimenPlan, ...]
    infusion_window_days: tuple[int, int] | None
    warnings: tuple[str, ...]
    notes: tuple[str, ...]
    source: str

    @property
    def regimen(self) -> RegimenPlan:
        """The standard regimen (the first); the others are alternatives."""
        return self.regimens[0]

    def to_dict(self) -> dict[str, Any]:
        window = self.infusion_window_days
        return {
            "indication": self.indication,
            "bsa_m2": self.bsa_m2,
            "bsa_method": "Mosteller sqrt(height_cm x weight_kg / 3600), rounded to 0.01 m2; "
            "daily mg = mg/m2 x BSA, rounded to 0.1 mg",
            "regimen": [d.to_dict() for d in self.regimen.drugs],
            "regimen_id": self.regimen.id,
            "alternatives": [r.to_dict() for r in self.regimens[1:]],
            "infusion_window_days": list(window) if window is not None else None,
            "warnings": list(self.warnings),
            "notes": list(self.notes),
            "source": self.source,
        }


def _optional(
    indication: Indication,
    name: str,
    on: date,
    region: str | None,
    site: Sequence[SiteProtocolValue],
) -> ResolvedFact | NotInCatalog | None:
    """The fact, its NotInCatalog when stored as unknown, or None when the catalog lacks it
    (and no site value fills it)."""
    if name not in indication.facts:
        try:
            return resolve_for(indication, name, on, region, site)
        except NotInCatalog:
            return None
    try:
        return resolve_for(indication, name, on, region, site)
    except NotInCatalog as exc:
        return exc


def lymphodepletion_plan(
    indication: Indication,
    height_cm: float,
    weight_kg: float,
    on: date,
    region: str | None = None,
    crcl_ml_min: float | None = None,
    site_values: Iterable[SiteProtocolValue] = (),
    crcl_unit: str = "mL/min",
) -> LymphodepletionPlan:
    """The lymphodepletion plan for a patient (see the module docstring).

    Raises :class:`NotInCatalog` when the regimen is unknown, :class:`InvalidInput` for an
    implausible height, weight or clearance, an unapproved region, or a fact that differs by
    region when no region is given.
    """
    bsa = round(bsa_mosteller(height_cm, weight_kg), 2)
    crcl = None if crcl_ml_min is None else check_crcl(crcl_ml_min)
    site = tuple(site_values)
    _require_approved(indication, on, region)
    ld = resolve_for(indication, FactName.LYMPHODEPLETION, on, region, site)
    if ld.status is FactStatus.SITE_PROTOCOL:
        check_fact_value(FactName.LYMPHODEPLETION, ld.value, "site protocol lymphodepletion")
    warnings: list[str] = []
    notes: list[str] = []
    if ld.status is FactStatus.SITE_PROTOCOL:
        warnings.append(f"the regimen is the site protocol's, not the label's ({ld.source})")

    reduction: float | None = None
    has_fludarabine = any(
        d["drug"] == "fludarabine" for regimen in ld.value for d in regimen["drugs"]
    )
    if has_fludarabine:
        renal_fact = _optional(indication, FactName.FLUDARABINE_RENAL_ADJUSTMENT, on, region, site)
        if crcl is None:
            warnings.append(
                "creatinine clearance not given: fludarabine is cleared by the kidneys; "
                "give the clearance to check for a renal adjustment"
            )
        elif isinstance(renal_fact, ResolvedFact):
            reduction = renal_reduction_percent(crcl, renal_fact.value, crcl_unit)
            schedule = renal.describe(renal.check_renal_schedule(renal_fact.value))
            if reduction is None:
                notes.append(
                    f"creatinine clearance {crcl:g} {crcl_unit}: no fludarabine adjustment "
                    f"under the schedule {schedule} ({renal_fact.source})"
                )
            elif reduction >= 100:
                warnings.append(
                    f"fludarabine is not given at creatinine clearance {crcl:g} {crcl_unit} "
                    f"under the schedule {schedule} ({renal_fact.source}); "
                    f"{MODIFICATION_IS_SIGNED}"
                )
            else:
                warnings.append(
                    f"fludarabine reduced by {reduction:g}% for creatinine clearance "
                    f"{crcl:g} {crcl_unit} under the schedule {schedule} "
                    f"({renal_fact.source}); {MODIFICATION_IS_SIGNED}"
                )
        else:
            message = str(
                renal_fact or NotInCatalog(f"{indication.id}: fludarabine renal adjustment")
            )
            warnings.append(
                f"creatinine clearance {crcl:g} {crcl_unit} given; {message}; "
                "the site protocol decides any fludarabine adjustment"
            )

    regimens = []
    for regimen in ld.value:
        drugs = []
        for d in regimen["drugs"]:
            full = daily_mg(d["mg_per_m2"], bsa)
            adjusted = None
            if d["drug"] == "fludarabine" and reduction is not None:
                adjusted = 0.0 if reduction >= 100 else reduced_dose_mg(full, reduction)
            drugs.append(
                DrugDose(
                    d["drug"],
                    float(d["mg_per_m2"]),
                    full if adjusted is None else adjusted,
                    d["days"],
                    tuple(d.get("on_days", ())),
                    d.get("note", ""),
                    None if adjusted is None else full,
                )
            )
        regimens.append(RegimenPlan(regimen["id"], tuple(drugs), regimen.get("use_when", "")))

    window: tuple[int, int] | None = None
    found = _optional(indication, FactName.INFUSION_WINDOW_DAYS, on, region, site)
    if isinstance(found, ResolvedFact):
        check_fact_value(FactName.INFUSION_WINDOW_DAYS, found.value, "infusion window")
        window = (int(found.value[0]), int(found.value[1]))
        notes.append(
            f"infuse {window[0]}-{window[1]} days after lymphodepletion ends ({found.source})"
        )
    else:
        missing = found or NotInCatalog(f"{indication.id}: infusion window days")
        warnings.append(f"{missing}")
    repeat = _optional(indication, FactName.LD_REPEAT_AFTER_DAYS, on, region, site)
    if isinstance(repeat, ResolvedFact):
        notes.append(
            f"repeat lymphodepletion if the infusion is delayed more than {repeat.value} days "
            f"({repeat.source})"
        )
    omit = _optional(indication, FactName.LD_OMISSION_WBC_MAX, on, region, site)
    if isinstance(omit, ResolvedFact):
        notes.append(
            f"lymphodepletion may be omitted if WBC <= {omit.value:.3g}/L within 1 week before "
            f"infusion ({omit.source})"
        )
    return LymphodepletionPlan(
        indication.id, bsa, tuple(regimens), window, tuple(warnings), tuple(notes), ld.source
    )
