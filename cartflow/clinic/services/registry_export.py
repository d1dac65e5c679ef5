"""The registry export of one treating site's infused cases, for a date range."""

from __future__ import annotations

from datetime import date

from cartflow.clinic.models import Site, TherapyCase
from cartflow.clinic.registry import infusion_date, to_csv
from cartflow.clinic.services.audit import replay


def registry_csv(site: Site, start: date | None = None, end: date | None = None) -> str:
    """The cases treated at ``site`` whose first infusion lies in [start, end], as CSV."""
    states = []
    for case in TherapyCase.objects.filter(treating_site=site).order_by("coi"):
        state = replay(case)
        infused = infusion_date(state)
        if infused is None:
            continue
        if (start is not None and infused < start) or (end is not None and infused > end):
            continue
        states.append(state)
    return to_csv(states)
