"""The registry export: what cellular-therapy registries collect after a CAR-T infusion, one
row per infused case, each column named and mapped by name to the CIBMTR cellular therapy
forms (Pre-Cellular Therapy Essential Data, form 4000; Cellular Therapy Infusion, form 4006).
The column dictionary is :data:`COLUMNS` (printed in docs/registry.md); days are site
calendar days from the first infusion (day 0).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from django.utils.translation import gettext_noop

from cartflow.domain.journey.state import CaseState
from cartflow.domain.journey.time_windows import local_date, site_zone

DAY_28_WINDOW: Final = (21, 35)
"""The assessment read as "day 28" is the one nearest day 28 within days 21 to 35."""


@dataclass(frozen=True)
class Column:
    name: str
    form: str
    meaning: str


COLUMNS: Final = (
    Column(
        "coi",
        "-",
        gettext_noop("the chain-of-identity identifier (the case's pseudonym; no patient name)"),
    ),
    Column("product", "4006", gettext_noop("the CAR-T product (catalog id)")),
    Column(
        "indication",
        "4000",
        gettext_noop("the disease and indication treated (catalog indication id)"),
    ),
    Column(
        "infusion_date", "4006", gettext_noop("date of the first infusion (site calendar date)")
    ),
    Column(
        "crs_max_grade", "4006", gettext_noop("worst CRS grade, ASTCT 2019 (empty: never graded)")
    ),
    Column("crs_onset_day", "4006", gettext_noop("day of the first CRS grade of 1 or more")),
    Column(
        "crs_resolution_day", "4006", gettext_noop("day the last CRS episode was recorded resolved")
    ),
    Column(
        "icans_max_grade",
        "4006",
        gettext_noop("worst ICANS grade, ASTCT 2019 (empty: never graded)"),
    ),
    Column("icans_onset_day", "4006", gettext_noop("day of the first ICANS grade of 1 or more")),
    Column(
        "icans_resolution_day",
        "4006",
        gettext_noop("day the last ICANS episode was recorded resolved"),
    ),
    Column(
        "tocilizumab",
        "4006",
        gettext_noop("yes if a resolved episode records tocilizumab, else no"),
    ),
    Column(
        "corticosteroids", "4006", gettext_noop("yes if a resolved episode records corticosteroids")
    ),
    Column(
        "response_day28",
        "4006",
        gettext_noop("response at day 28 (the assessment nearest, days 21-35)"),
    ),
    Column("response_day28_method", "4006", gettext_noop("how that response was assessed")),
    Column(
        "later_responses",
        "4006",
        gettext_noop("later assessments as day:response:method, ';'-separated"),
    ),
)


def _day(state: CaseState, when: date) -> int:
    assert state.first_infusion_at is not None
    return (when - _site_date(state, state.first_infusion_at)).days


def _site_date(state: CaseState, at: object) -> date:
    assert isinstance(at, datetime)
    return local_date(at, site_zone(state.site_timezone)) if state.site_timezone else at.date()


def infusion_date(state: CaseState) -> date | None:
    first = state.first_infusion_at
    return None if first is None else _site_date(state, first)


def row(state: CaseState) -> dict[str, str]:
    """One infused case's row."""
    out = {c.name: "" for c in COLUMNS}
    out["coi"] = state.coi
    out["product"] = state.product_id
    out["indication"] = state.indication_id
    out["infusion_date"] = str(infusion_date(state) or "")
    for syndrome, grades in (("crs", state.crs_grades), ("icans", state.icans_grades)):
        if grades:
            out[f"{syndrome}_max_grade"] = str(max(g.grade for g in grades))
            onset = min((g.at for g in grades if g.grade >= 1), default=None)
            if onset is not None:
                out[f"{syndrome}_onset_day"] = str(_day(state, _site_date(state, onset)))
        resolved = [r for r in state.toxicity_resolutions if r.syndrome == syndrome]
        if resolved:
            last = max(r.resolved_at for r in resolved)
            out[f"{syndrome}_resolution_day"] = str(_day(state, _site_date(state, last)))
    given = {t for r in state.toxicity_resolutions for t in r.treatments}
    if state.toxicity_resolutions:
        out["tocilizumab"] = "yes" if "tocilizumab" in given else "no"
        out["corticosteroids"] = "yes" if "corticosteroids" in given else "no"
    low, high = DAY_28_WINDOW
    near = [r for r in state.responses if low <= r.day <= high]
    if near:
        best = min(near, key=lambda r: (abs(r.day - 28), r.day))
        out["response_day28"] = best.response
        out["response_day28_method"] = best.method
    later = sorted((r for r in state.responses if r.day > high), key=lambda r: r.day)
    out["later_responses"] = ";".join(f"{r.day}:{r.response}:{r.method}" for r in later)
    return out


def to_csv(states: Iterable[CaseState]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[c.name for c in COLUMNS], lineterminator="\n")
    writer.writeheader()
    for state in states:
        writer.writerow(row(state))
    return buffer.getvalue()


def dictionary_markdown() -> str:
    lines = ["| column | CIBMTR form | meaning |", "| --- | --- | --- |"]
    lines += [f"| `{c.name}` | {c.form} | {c.meaning} |" for c in COLUMNS]
    return "\n".join(lines) + "\n"
