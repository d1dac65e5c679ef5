"""The facts of a case that an export must carry and a read-back must give back: identifiers,
dates, doses and grades. Both the export and the read-back are compared on these."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cartflow.domain.events import Event
from cartflow.domain.journey import payloads
from cartflow.domain.journey.event_types import LD_STARTED
from cartflow.domain.journey.state import CaseState


@dataclass(frozen=True, order=True)
class DailyDose:
    """One day's dose of one lymphodepleting drug, in mg/m2 (the regimen's unit)."""

    on: date
    drug: str
    mg_per_m2: float


@dataclass(frozen=True)
class CaseFacts:
    coi: str
    indication: str
    antigen_tests: tuple[tuple[str, bool, datetime], ...]
    collections: tuple[tuple[str, datetime], ...]
    bags: tuple[str, ...]
    infusions: tuple[tuple[str, datetime], ...]
    ld_doses: tuple[DailyDose, ...]
    crs_grades: tuple[tuple[datetime, int], ...]
    icans_grades: tuple[tuple[datetime, int], ...]
    measurements: tuple[tuple[float, float | None], ...]
    signatures: tuple[tuple[str, datetime, str], ...]  # signer, signed at, meaning


def _ld_doses(state: CaseState, events: Iterable[Mapping[str, Any]]) -> tuple[DailyDose, ...]:
    """Each day's dose from the regimens recorded at ``ld.started``, counted in site days."""
    zone = ZoneInfo(state.site_timezone or "UTC")
    doses = []
    for body in events:
        if body.get("type") != LD_STARTED:
            continue
        event = Event.from_body(body)
        started = payloads.read(event)
        assert isinstance(started, payloads.LdStarted)
        first_day = event.occurred_at.astimezone(zone).date()
        for drug in started.regimen_drugs:
            reduced = drug.reduced_by_percent or 0.0
            amount = round(drug.mg_per_m2 * (1 - reduced / 100.0), 3)
            days = drug.on_days or range(1, drug.span + 1)
            for day in days:
                doses.append(DailyDose(first_day + timedelta(days=day - 1), drug.drug, amount))
    return tuple(sorted(doses))


def case_facts(state: CaseState, events: Iterable[Mapping[str, Any]]) -> CaseFacts:
    """The facts of one case, from its folded state and its stored event bodies."""
    return CaseFacts(
        coi=state.coi,
        indication=state.indication_id,
        antigen_tests=tuple((a.antigen, a.positive, a.at) for a in state.antigen_tests),
        collections=tuple((c.din, c.at) for c in state.collections if c.succeeded),
        bags=tuple(b.bag_id for b in state.bags),
        infusions=tuple((i.bag_id, i.at) for i in state.infusions),
        ld_doses=_ld_doses(state, events),
        crs_grades=tuple(sorted((g.at, g.grade) for g in state.crs_grades)),
        icans_grades=tuple(sorted((g.at, g.grade) for g in state.icans_grades)),
        measurements=tuple(sorted((m.day, m.copies_per_ug) for m in state.measurements)),
        signatures=tuple(
            sorted(
                (s.signer_id, datetime.fromisoformat(s.signed_at), s.meaning)
                for s in state.signatures
            )
        ),
    )
