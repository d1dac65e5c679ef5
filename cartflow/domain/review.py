"""What a new site value or a new catalog version changes for an open case.

For a physician's review: a case's eligibility (judged again on the patient facts that were
signed with it) and its dose range (on the weight of its manufacturing order, else its latest
weight) are computed twice, under the values in force now and under the proposed ones (a new
entry of the site's register, a new catalog version, or both), and every difference is named.
Nothing is recorded; the physician decides what to do about it.

Pure: the catalogs, the site values and the decision date are passed in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from cartflow.domain.catalog import Catalog, SiteProtocolValue
from cartflow.domain.dosing import dose_for
from cartflow.domain.eligibility import evaluate_indication
from cartflow.domain.errors import DomainError
from cartflow.domain.patient_facts import parse_patient_facts


@dataclass(frozen=True)
class OpenCase:
    """What the review needs of an open case."""

    coi: str
    indication: str
    region: str | None
    step: str
    weight_kg: float | None
    patient_facts: Mapping[str, Any] | None  # as signed with eligibility, if it was


@dataclass(frozen=True)
class Change:
    coi: str
    indication: str
    step: str
    what: str  # "eligibility" or "dose range"
    before: str
    after: str

    def to_dict(self) -> dict[str, str]:
        return {
            "coi": self.coi,
            "indication": self.indication,
            "step": self.step,
            "what": self.what,
            "before": self.before,
            "after": self.after,
        }


def _eligibility(
    case: OpenCase, catalog: Catalog, on: date, values: Sequence[SiteProtocolValue]
) -> str | None:
    if case.patient_facts is None:
        return None
    try:
        facts = parse_patient_facts(dict(case.patient_facts))
        indication = catalog.indication(case.indication)
        result = evaluate_indication(facts, catalog, indication, on, values)
    except DomainError as exc:
        return f"cannot be judged: {exc}"
    reasons = [item.text for item in (*result.unmet, *result.missing)]
    status = result.status.value.replace("_", " ")
    return f"{status}: {'; '.join(reasons)}" if reasons else status


def _dose(
    case: OpenCase, catalog: Catalog, on: date, values: Sequence[SiteProtocolValue]
) -> str | None:
    if case.weight_kg is None:
        return None
    try:
        found = dose_for(
            catalog.indication(case.indication), case.weight_kg, on, case.region, values
        )
    except DomainError as exc:
        return f"unknown: {exc}"
    low = "unknown" if found.min_cells is None else f"{found.min_cells:.3g}"
    return f"{low} to {found.max_cells:.3g} cells ({found.source})"


def changes(
    cases: Sequence[OpenCase],
    on: date,
    *,
    catalog_before: Catalog,
    values_before: Sequence[SiteProtocolValue],
    catalog_after: Catalog,
    values_after: Sequence[SiteProtocolValue],
) -> list[Change]:
    """Every open case whose eligibility or dose range differs between the two, with both."""
    found: list[Change] = []
    for case in cases:
        for what, judge in (("eligibility", _eligibility), ("dose range", _dose)):
            before = judge(case, catalog_before, on, values_before)
            after = judge(case, catalog_after, on, values_after)
            if before != after:
                found.append(
                    Change(case.coi, case.indication, case.step, what, before or "—", after or "—")
                )
    return found
