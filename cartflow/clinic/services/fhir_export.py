"""The FHIR export of one case, for a reader: identified where they may see the patient."""

from __future__ import annotations

import json
from typing import Any

from django.utils import timezone

from cartflow.clinic.access import may_identify
from cartflow.clinic.access_log import identity_shown
from cartflow.clinic.fhir.bundle import build_bundle
from cartflow.clinic.fhir.facts import CaseFacts, case_facts
from cartflow.clinic.models import Event, TherapyCase
from cartflow.clinic.services.append import resolve_case
from cartflow.clinic.services.audit import replay


def facts_of(case: TherapyCase | str) -> CaseFacts:
    """The case's facts, from its log (the projection is only a cache)."""
    case = resolve_case(case)
    bodies = [
        json.loads(bytes(body))
        for body in Event.objects.filter(case=case).order_by("seq").values_list("body", flat=True)
    ]
    return case_facts(replay(case), bodies)


def export_fhir(case: TherapyCase | str, *, reader: Any, identified: bool | None = None) -> str:
    """The case as a FHIR Bundle (JSON); the Patient names the patient only for a reader
    who may see them (``identified`` overrides, for the command line run by an operator)."""
    case = resolve_case(case)
    show = may_identify(reader, case) if identified is None else identified
    identity = None
    if show:
        patient = case.patient
        identity_shown([patient])  # the access log, when a request asked for it
        identity = {
            "record_number": patient.record_number,
            "family_name": patient.family_name,
            "given_name": patient.given_name,
            "birth_date": patient.birth_date,
        }
    bundle = build_bundle(facts_of(case), identity=identity, generated_at=timezone.now())
    return str(bundle.model_dump_json(exclude_none=True, indent=2))
