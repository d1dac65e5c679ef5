"""The FHIR Bundle of every case of the demo network validates (R4B models), and reading it
back gives the same identifiers, dates, doses and grades."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model

from cartflow.clinic import access, demo_seed
from cartflow.clinic.fhir.read import read_bundle
from cartflow.clinic.models import TherapyCase
from cartflow.clinic.services import toxicity
from cartflow.clinic.services.fhir_export import export_fhir, facts_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded() -> demo_seed.SeedReport:
    return demo_seed.seed()


def _grade_one_infused_case() -> None:
    """The demo network grades no toxicity; one case gets a CRS and an ICANS grade."""
    physician = get_user_model().objects.get(username="physician")
    for case in TherapyCase.objects.order_by("coi"):
        if facts_of(case).infusions and access.roles_on_case(physician, case):
            toxicity.record_crs_grade(
                case, temperature_c=39.2, hypotension="none", oxygen="none", acting_user=physician
            )
            toxicity.record_icans_grade(case, consciousness="voice", ice=8, acting_user=physician)
            return
    raise AssertionError("no infused demo case for the demo physician")


def test_every_demo_case_exports_validates_and_reads_back(seeded: demo_seed.SeedReport) -> None:
    _grade_one_infused_case()
    cases = list(TherapyCase.objects.select_related("patient").order_by("coi"))
    assert cases
    kinds: set[str] = set()
    for case in cases:
        text = export_fhir(case, reader=None, identified=True)
        assert read_bundle(text) == facts_of(case)
        kinds |= {e["resource"]["resourceType"] for e in json.loads(text)["entry"]}
    assert {
        "Patient",
        "Condition",
        "Observation",
        "Specimen",
        "BiologicallyDerivedProduct",
        "Procedure",
        "MedicationAdministration",
        "Provenance",
        "CodeSystem",
    } <= kinds
    infused = [f for f in map(facts_of, cases) if f.infusions]
    assert any(f.ld_doses for f in infused) and any(
        f.crs_grades and f.icans_grades for f in infused
    )


def test_a_pseudonymised_export_names_no_patient(seeded: demo_seed.SeedReport) -> None:
    case = TherapyCase.objects.select_related("patient").first()
    assert case is not None
    text = export_fhir(case, reader=None, identified=False)
    patient = case.patient
    for secret in (patient.family_name, patient.record_number, patient.birth_date.isoformat()):
        assert secret not in text
    assert case.coi in text


def test_the_command_line_prints_the_pseudonymised_bundle(
    seeded: demo_seed.SeedReport, capsys: pytest.CaptureFixture[str]
) -> None:
    from cartflow.cli import main

    case = TherapyCase.objects.select_related("patient").order_by("coi").first()
    assert case is not None
    assert main(["export", "fhir", case.coi]) == 0
    text = capsys.readouterr().out
    assert read_bundle(text) == facts_of(case)
    assert case.patient.family_name not in text
