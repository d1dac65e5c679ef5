"""An independent checker of journey logs.

It reads only the recorded event bodies (``Event.to_body()``, as the clinic stores them), keeps
its own small model, and lists every infusion that happened without one of its guards:

- eligibility signed by a physician;
- the product released with a dose inside the recorded label range, or out of specification
  and accepted under a quality-signed exception with a reason;
- no quarantine open (a temperature above the storage limit with no quality release);
- the product shipped and received with scans naming the case and all of its bags;
- lymphodepletion completed within the recorded window before infusion (site calendar days),
  with a regimen among the recorded ``lymphodepletion`` fact's regimens, or omitted under a
  physician-signed exception with a recent low white-cell count;
- the bag thawed within the recorded post-thaw limit;
- a bedside check in the same record, just before it: the patient's wristband and second
  identifier confirmed, the bag's label naming the case or its collection, the bag number the
  thawed bag, given by one person and witnessed by another, the witness the physician who
  signs;
- a physician's signature.

It also lists every CRS or ICANS grade and every transgene level recorded before the first
infusion, or with a clinical time before it.

It deliberately shares no code with ``cartflow.domain.journey``: its day count, its state and
its reading of the log are written again here, so a bug in the journey is not repeated in it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from cartflow.domain.errors import InvalidInput
from cartflow.domain.identifiers import Din, parse_identifier

WBC_FRESH_DAYS = 7
OBSERVATIONS = frozenset({"toxicity.crs_graded", "toxicity.icans_graded", "kinetics.measured"})


def _names(scan: Any) -> Din | None:
    try:
        return parse_identifier(str(scan))
    except InvalidInput:
        return None


def _day_count(a: datetime, b: datetime, zone: ZoneInfo) -> int:
    return b.astimezone(zone).toordinal() - a.astimezone(zone).toordinal()


def _fact(data: Mapping[str, Any], name: str) -> Any:
    for fact in data.get("facts") or ():
        if fact.get("name") == name:
            return fact.get("value")
    return None


def _signed_by(data: Mapping[str, Any], *roles: str) -> bool:
    sig = data.get("signature")
    return isinstance(sig, Mapping) and sig.get("role") in roles and bool(sig.get("signer_id"))


@dataclass
class _Product:
    bags: list[str] = field(default_factory=list)
    release_ok: bool = False
    oos_pending: bool = False
    rejected: bool = False
    quarantined: bool = False
    shipped_ok: bool = False
    received_ok: bool = False
    ld_completed: datetime | None = None
    ld_running: bool = False
    ld_regimen_ok: bool = False
    omission: Mapping[str, Any] | None = None
    thawed: dict[str, datetime] = field(default_factory=dict)
    infused: set[str] = field(default_factory=set)
    disposed: bool = False


@dataclass
class _Case:
    coi: Din | None = None
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    eligible: bool = False
    product: _Product = field(default_factory=_Product)
    infusions: int = 0
    dins: set[Din] = field(default_factory=set)
    first_infusion: datetime | None = None
    bedside: Mapping[str, Any] | None = None  # the check just before, if the last event


def check_log(bodies: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every guard an infusion in ``bodies`` lacked, one line each (empty: all held)."""
    case = _Case()
    problems: list[str] = []
    for index, body in enumerate(bodies):
        kind = body["type"]
        data: Mapping[str, Any] = body.get("data") or {}
        at = datetime.fromisoformat(body["occurred_at"])
        p = case.product
        bedside, case.bedside = case.bedside, None
        if kind == "bedside.verified":
            case.bedside = data
        elif kind == "collection.recorded" and _names(data.get("din")) is not None:
            case.dins.add(_names(data.get("din")))  # type: ignore[arg-type]
        elif kind in OBSERVATIONS and (case.first_infusion is None or at < case.first_infusion):
            problems.append(f"event {index} ({kind}): recorded before the first infusion")
        if kind == "case.referred":
            case.coi = _names(data.get("coi"))
            zone = data.get("tz") if body.get("schema_version") == 1 else data.get("site_timezone")
            case.zone = ZoneInfo(str(zone))
        elif kind == "eligibility.signed":
            case.eligible = case.eligible or _signed_by(data, "physician")
        elif kind == "apheresis.scheduled" and p.disposed:
            case.product = _Product()
        elif kind == "product.released":
            low, high = data["dose_range"]["min"], data["dose_range"]["max"]
            dose = data["dose_cells"]
            p.bags = [b["bag_id"] for b in data["bags"]]
            p.release_ok = (
                low is not None
                and high is not None
                and low <= dose <= high
                and _signed_by(data, "manufacturing", "quality")
            )
        elif kind == "product.out_of_specification":
            p.bags = [b["bag_id"] for b in data["bags"]]
            p.oos_pending = True
        elif kind == "exception.out_of_specification_accepted":
            if p.oos_pending and _signed_by(data, "quality") and data.get("reason"):
                p.release_ok = True
            p.oos_pending = False
        elif kind in ("quality.out_of_specification_rejected", "quality.quarantine_rejected"):
            p.rejected = True
        elif kind == "product.shipped":
            p.shipped_ok = _names(data.get("scanned_coi")) == case.coi and sorted(
                data.get("scanned_bag_ids", [])
            ) == sorted(p.bags)
        elif kind == "product.temperature_recorded":
            if data["celsius"] > data["limit_celsius"]:
                p.quarantined = True
        elif kind == "quality.quarantine_released":
            if _signed_by(data, "quality") and data.get("reason"):
                p.quarantined = False
        elif kind == "product.received":
            p.received_ok = (
                p.shipped_ok
                and _names(data.get("scanned_coi")) == case.coi
                and sorted(data.get("scanned_bag_ids", [])) == sorted(p.bags)
                and data["celsius"] <= data["limit_celsius"]
            )
        elif kind == "ld.started":
            p.ld_running, p.ld_completed, p.omission = True, None, None
            regimens = _fact(data, "lymphodepletion") or ()
            p.ld_regimen_ok = data.get("regimen") in {r.get("id") for r in regimens}
        elif kind == "ld.completed":
            p.ld_running, p.ld_completed = False, at
        elif kind == "exception.ld_omitted":
            ok = (
                _signed_by(data, "physician")
                and data.get("reason")
                and data["wbc_per_l"] <= data["limit_per_l"]
            )
            p.omission = data if ok else None
        elif kind == "product.thawed":
            p.thawed[data["bag_id"]] = at
        elif kind in ("product.expired",):
            p.rejected = True
        elif kind == "product.disposed":
            p.disposed = True
        elif kind == "product.infused":
            where = f"event {index} (product.infused)"
            found = _infusion_problems(case, data, at) + _bedside_problems(case, data, bedside)
            problems.extend(f"{where}: {m}" for m in found)
            p.infused.add(str(data.get("bag_id")))
            case.infusions += 1
            case.first_infusion = case.first_infusion or at
    return problems


def _infusion_problems(case: _Case, data: Mapping[str, Any], at: datetime) -> list[str]:
    p = case.product
    out: list[str] = []
    if not case.eligible:
        out.append("no physician-signed eligibility")
    if not p.release_ok:
        out.append("product not released within the dose range nor under a signed exception")
    if p.rejected:
        out.append("product rejected or expired")
    if p.quarantined:
        out.append("product quarantined without a quality release")
    if not p.received_ok:
        out.append("product not shipped and received with matching scans")
    bag = str(data.get("bag_id"))
    if bag not in p.bags or bag in p.infused:
        out.append("bag is not an uninfused bag of this product")
    if data.get("part", 1) == 1:
        out.extend(_ld_problems(case, data, at))
    window = _fact(data, "post_thaw_minutes")
    thawed = p.thawed.get(bag)
    if thawed is None or window is None or (at - thawed).total_seconds() / 60 > window:
        out.append("bag not thawed within the post-thaw limit")
    if not _signed_by(data, "physician"):
        out.append("no physician signature")
    return out


def _bedside_problems(
    case: _Case, data: Mapping[str, Any], check: Mapping[str, Any] | None
) -> list[str]:
    if check is None:
        return ["no bedside check of patient and bag just before the infusion"]
    out = []
    bag = str(data.get("bag_id"))
    label = _names(check.get("scanned_bag_label"))
    if not (
        case.coi is not None
        and check.get("wristband") in ("record number", "chain of identity")
        and check.get("identity") == "confirmed"
        and (label == case.coi or label in case.dins)
        and check.get("scanned_bag_id") == bag == check.get("bag_id")
    ):
        out.append("no bedside match of patient and bag")
    performer = (check.get("performer") or {}).get("user_id")
    signer = (data.get("signature") or {}).get("signer_id")
    if not performer or not signer or performer == signer or check.get("witness") != signer:
        out.append("not two people at the bedside (a performer and a different witness)")
    return out


def _ld_problems(case: _Case, data: Mapping[str, Any], at: datetime) -> list[str]:
    p = case.product
    if p.omission is not None:
        measured = datetime.fromisoformat(p.omission["wbc_measured_at"])
        if 0 <= _day_count(measured, at, case.zone) <= WBC_FRESH_DAYS:
            return []
        return ["lymphodepletion omitted without a recent low white-cell count"]
    window = _fact(data, "infusion_window_days")
    if p.ld_completed is None or p.ld_running or window is None:
        return ["lymphodepletion not completed"]
    if not p.ld_regimen_ok:
        return ["lymphodepletion with a regimen that is not among the recorded regimens"]
    days = _day_count(p.ld_completed, at, case.zone)
    if not window[0] <= days <= window[1]:
        return [f"infusion on day {days} after lymphodepletion, outside {window}"]
    return []
