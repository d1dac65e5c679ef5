"""A case as a FHIR Bundle (R4, through fhir.resources' R4B models, which validate it).

Resources: Patient (identified for a reader who may see the patient, pseudonymised
otherwise), Condition (the indication), Observation (antigen tests; CRS and ICANS grades under
cartflow's CodeSystem, included in the Bundle, citing ASTCT 2019; transgene levels), Specimen
(each apheresis collection, its DIN), BiologicallyDerivedProduct (each bag, the chain-of-
identity identifier under the ISBT 128 system), Procedure (apheresis, infusion),
MedicationAdministration (each day's dose of each lymphodepleting drug) and Provenance (each
electronic signature: who, when, what it means).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Final

from fhir.resources.R4B.bundle import Bundle

from cartflow.clinic.fhir.facts import CaseFacts

FHIR_VERSION: Final = "4.3.0"
"""R4B, the R4-compatible release the models implement; declared in the Bundle's meta."""
ISBT128: Final = "urn:oid:2.16.840.1.113883.6.18"
"""ISBT 128 (ICCBBA), by the OID HL7's terminology registers for it."""
COI_SYSTEM: Final = "urn:cartflow:chain-of-identity"
TOXICITY_SYSTEM: Final = "urn:cartflow:codesystem:toxicity-grade"
OBSERVATION_SYSTEM: Final = "urn:cartflow:codesystem:observation"
SIGNATURE_MEANING: Final = "urn:cartflow:signature-meaning"
VERSION_TAG: Final = "urn:cartflow:fhir-version"
ASTCT_CITATION: Final = (
    "Lee DW, Santomasso BD, Locke FL, et al. ASTCT Consensus Grading for Cytokine Release "
    "Syndrome and Neurologic Toxicity Associated with Immune Effector Cells. Biol Blood "
    "Marrow Transplant. 2019;25(4):625-638."
)


def _time(value: datetime | date | str) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _code(code: str, display: str, system: str = OBSERVATION_SYSTEM) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def _codesystem() -> dict[str, Any]:
    return {
        "resourceType": "CodeSystem",
        "id": "cartflow-toxicity-grade",
        "url": TOXICITY_SYSTEM,
        "name": "CartflowToxicityGrade",
        "status": "active",
        "content": "complete",
        "description": f"CRS and ICANS grades 0 to 5 as defined by {ASTCT_CITATION}",
        "concept": [
            {"code": "crs", "display": "Cytokine release syndrome grade (ASTCT 2019)"},
            {"code": "icans", "display": "ICANS grade (ASTCT 2019)"},
        ],
    }


def _patient(facts: CaseFacts, identity: Mapping[str, Any] | None) -> dict[str, Any]:
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "id": "patient",
        "identifier": [{"system": COI_SYSTEM, "value": facts.coi}],
    }
    if identity is None:
        patient["meta"] = {"security": [{"code": "PSEUDED", "display": "pseudonymized"}]}
        return patient
    patient["identifier"].append({"type": {"text": "MR"}, "value": identity["record_number"]})
    patient["name"] = [{"family": identity["family_name"], "given": [identity["given_name"]]}]
    patient["birthDate"] = _time(identity["birth_date"])
    return patient


def build_bundle(
    facts: CaseFacts, *, identity: Mapping[str, Any] | None, generated_at: datetime
) -> Bundle:
    """The case's Bundle (type collection), validated by the R4B models."""
    subject = {"reference": "Patient/patient"}
    resources: list[dict[str, Any]] = [_codesystem(), _patient(facts, identity)]
    resources.append(
        {
            "resourceType": "Condition",
            "id": "condition",
            "subject": subject,
            "code": {"text": facts.indication},
        }
    )
    for n, (antigen, positive, at) in enumerate(facts.antigen_tests, 1):
        resources.append(
            {
                "resourceType": "Observation",
                "id": f"antigen-{n}",
                "status": "final",
                "code": _code(f"antigen-{antigen}", f"{antigen} antigen on cancer cells"),
                "subject": subject,
                "effectiveDateTime": _time(at),
                "valueBoolean": positive,
            }
        )
    for syndrome, grades in (("crs", facts.crs_grades), ("icans", facts.icans_grades)):
        for n, (at, grade) in enumerate(grades, 1):
            resources.append(
                {
                    "resourceType": "Observation",
                    "id": f"{syndrome}-{n}",
                    "status": "final",
                    "code": _code(syndrome, f"{syndrome.upper()} grade", TOXICITY_SYSTEM),
                    "subject": subject,
                    "effectiveDateTime": _time(at),
                    "valueInteger": grade,
                }
            )
    for n, (day, copies) in enumerate(facts.measurements, 1):
        level: dict[str, Any] = {
            "resourceType": "Observation",
            "id": f"transgene-{n}",
            "status": "final",
            "code": _code("transgene", "CAR transgene level"),
            "subject": subject,
            "component": [
                {
                    "code": _code("day", "days after the first infusion"),
                    "valueQuantity": {"value": day, "unit": "d"},
                }
            ],
        }
        if copies is None:
            level["dataAbsentReason"] = {"text": "below the limit of quantification"}
        else:
            level["valueQuantity"] = {"value": copies, "unit": "copies/ug genomic DNA"}
        resources.append(level)
    for n, (din, at) in enumerate(facts.collections, 1):
        resources.append(
            {
                "resourceType": "Specimen",
                "id": f"collection-{n}",
                "identifier": [{"system": ISBT128, "value": din}],
                "type": {"text": "apheresis collection (leukapheresis)"},
                "subject": subject,
                "collection": {"collectedDateTime": _time(at)},
            }
        )
        resources.append(
            {
                "resourceType": "Procedure",
                "id": f"apheresis-{n}",
                "status": "completed",
                "code": _code("apheresis", "leukapheresis"),
                "subject": subject,
                "performedDateTime": _time(at),
            }
        )
    for n, bag in enumerate(facts.bags, 1):
        resources.append(
            {
                "resourceType": "BiologicallyDerivedProduct",
                "id": f"bag-{n}",
                "identifier": [
                    {"system": ISBT128, "value": facts.coi},
                    {"system": "urn:cartflow:manufacturer-bag", "value": bag},
                ],
                "productCategory": "cells",
                "quantity": 1,
            }
        )
    for n, (bag, at) in enumerate(facts.infusions, 1):
        resources.append(
            {
                "resourceType": "Procedure",
                "id": f"infusion-{n}",
                "status": "completed",
                "code": _code("car-t-infusion", "CAR-T cell infusion"),
                "subject": subject,
                "performedDateTime": _time(at),
                "note": [{"text": f"bag {bag}"}],
            }
        )
    for n, dose in enumerate(facts.ld_doses, 1):
        resources.append(
            {
                "resourceType": "MedicationAdministration",
                "id": f"ld-{n}",
                "status": "completed",
                "medicationCodeableConcept": {"text": dose.drug},
                "subject": subject,
                "effectiveDateTime": _time(dose.on),
                "dosage": {"dose": {"value": dose.mg_per_m2, "unit": "mg/m2"}},
            }
        )
    for n, (signer, signed_at, meaning) in enumerate(facts.signatures, 1):
        resources.append(
            {
                "resourceType": "Provenance",
                "id": f"signature-{n}",
                "target": [subject],
                "recorded": _time(signed_at),
                "agent": [{"who": {"display": signer}}],
                "signature": [
                    {
                        "type": [{"system": SIGNATURE_MEANING, "code": meaning}],
                        "when": _time(signed_at),
                        "who": {"display": signer},
                    }
                ],
            }
        )
    body = {
        "resourceType": "Bundle",
        "id": "case-" + facts.coi.replace("*", "-"),  # FHIR ids take no "*"
        "meta": {"tag": [{"system": VERSION_TAG, "code": FHIR_VERSION}]},
        "type": "collection",
        "timestamp": _time(generated_at),
        "entry": [
            {"fullUrl": f"urn:cartflow:{r['resourceType']}/{r['id']}", "resource": r}
            for r in resources
        ],
    }
    return Bundle.model_validate(body)


def as_date(value: str) -> date:
    return date.fromisoformat(value[:10])
