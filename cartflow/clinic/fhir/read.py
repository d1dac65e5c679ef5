"""Reading an exported Bundle back into cartflow's case facts (the round trip's other half)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from cartflow.clinic.fhir.bundle import COI_SYSTEM, FHIR_VERSION, ISBT128, VERSION_TAG
from cartflow.clinic.fhir.facts import CaseFacts, DailyDose
from cartflow.domain.errors import InvalidInput


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _system(resource: Mapping[str, Any], system: str) -> list[str]:
    return [i["value"] for i in resource.get("identifier", ()) if i.get("system") == system]


def read_bundle(text: str | bytes) -> CaseFacts:
    """The case facts an exported Bundle carries; the Bundle is validated first."""
    bundle = Bundle.model_validate_json(text)
    body: dict[str, Any] = bundle.model_dump(mode="json", exclude_none=True)
    tags = {(t.get("system"), t.get("code")) for t in body.get("meta", {}).get("tag", ())}
    if (VERSION_TAG, FHIR_VERSION) not in tags:
        raise InvalidInput(f"the Bundle does not declare FHIR {FHIR_VERSION}")
    by_type: dict[str, list[dict[str, Any]]] = {}
    for entry in body.get("entry", ()):
        resource = entry["resource"]
        by_type.setdefault(resource["resourceType"], []).append(resource)

    def code_of(resource: Mapping[str, Any]) -> str:
        return str(resource["code"]["coding"][0]["code"])

    observations = by_type.get("Observation", [])
    antigen = [o for o in observations if code_of(o).startswith("antigen-")]
    grades = {
        syndrome: tuple(
            sorted(
                (_dt(o["effectiveDateTime"]), int(o["valueInteger"]))
                for o in observations
                if code_of(o) == syndrome
            )
        )
        for syndrome in ("crs", "icans")
    }
    levels = []
    for o in observations:
        if code_of(o) != "transgene":
            continue
        day = float(o["component"][0]["valueQuantity"]["value"])
        copies = o.get("valueQuantity", {}).get("value")
        levels.append((day, None if copies is None else float(copies)))
    specimens = by_type.get("Specimen", [])
    bags = by_type.get("BiologicallyDerivedProduct", [])
    infusions = [p for p in by_type.get("Procedure", []) if code_of(p) == "car-t-infusion"]
    (patient,) = by_type["Patient"]
    (condition,) = by_type["Condition"]
    return CaseFacts(
        coi=_system(patient, COI_SYSTEM)[0],
        indication=condition["code"]["text"],
        antigen_tests=tuple(
            (
                code_of(o).removeprefix("antigen-"),
                bool(o["valueBoolean"]),
                _dt(o["effectiveDateTime"]),
            )
            for o in antigen
        ),
        collections=tuple(
            (_system(s, ISBT128)[0], _dt(s["collection"]["collectedDateTime"])) for s in specimens
        ),
        bags=tuple(
            next(i["value"] for i in b["identifier"] if i["system"] != ISBT128) for b in bags
        ),
        infusions=tuple(
            (p["note"][0]["text"].removeprefix("bag "), _dt(p["performedDateTime"]))
            for p in infusions
        ),
        ld_doses=tuple(
            sorted(
                DailyDose(
                    date.fromisoformat(m["effectiveDateTime"][:10]),
                    m["medicationCodeableConcept"]["text"],
                    float(m["dosage"]["dose"]["value"]),
                )
                for m in by_type.get("MedicationAdministration", [])
            )
        ),
        crs_grades=grades["crs"],
        icans_grades=grades["icans"],
        measurements=tuple(sorted(levels)),
        signatures=tuple(
            sorted(
                (
                    p["signature"][0]["who"]["display"],
                    _dt(p["recorded"]),
                    p["signature"][0]["type"][0]["code"],
                )
                for p in by_type.get("Provenance", [])
            )
        ),
    )
