"""A site's register of signed protocol values, end to end: signed through the service, the
API, the page and the CLI (one path); re-authenticated and refused in words; superseding an
earlier value from its own date; read by eligibility and by the journey for every case at the
site; chained and covered by ``audit verify``; and a CNCT19 case released and infused through
the pages on the site's values, the case page naming them as the site's."""

from __future__ import annotations

import io
import json
from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from cartflow.cli import main
from cartflow.clinic import services
from cartflow.clinic.access import Forbidden
from cartflow.clinic.models import AuditRow, Site, SiteRegisterEntry, TherapyCase
from cartflow.clinic.services import site_register
from cartflow.clinic.services.errors import SignatureRefused
from cartflow.clinic.services.verification import verify_everything
from cartflow.clinic.triggers import create_statements, drop_statements
from cartflow.domain.errors import InvalidInput
from tests.clinic.fixtures import PASSWORD

pytestmark = pytest.mark.django_db

CNCT19 = "inaticabtagene-autoleucel/b-all"
AXI_CN = "axicabtagene-ciloleucel/lbcl-third-line"
TABLE = ("clinic_siteregisterentry",)
REGISTER_FUNCTION = "cartflow_refuse_register_change"  # migration 0009


@pytest.fixture
def cn_center(admin_user: Any) -> Site:
    return services.create_site(
        "test-center-east",
        "Test Center East (synthetic)",
        "treatment_center",
        time_zone="Asia/Shanghai",
        facility_code="W4321",
        region="CN",
        acting_user=admin_user,
    )


@pytest.fixture
def cn_physician(django_user_model: Any, cn_center: Site, admin_user: Any) -> Any:
    user = django_user_model.objects.create_user(
        "dr-east", password=PASSWORD, first_name="Test", last_name="Physician East"
    )
    services.grant_role(user, cn_center, "physician", acting_user=admin_user)
    return user


def sign(site: Site, user: Any, fact: str, value: Any, **more: Any) -> SiteRegisterEntry:
    fields = {
        "indication": CNCT19,
        "document_ref": f"EAST-SOP-{fact} (synthetic)",
        "effective_from": date(2026, 1, 1),
        "password": PASSWORD,
        **more,
    }
    return site_register.sign_entry(site, fact=fact, value=value, acting_user=user, **fields)


def test_a_signed_value_is_an_entry_of_the_sites_chain_with_its_signature_and_audit_row(
    cn_center: Site, cn_physician: Any
) -> None:
    row = sign(cn_center, cn_physician, "infusion_window_days", [2, 14])
    body = json.loads(bytes(row.body))
    assert body["type"] == "site_register.signed" and body["seq"] == 1
    assert body["signature"]["meaning"] == "approval" and body["signature"]["role"] == "physician"
    assert body["signature"]["signer"] == "Test Physician East"
    assert (
        body["data"]["value"] == [2, 14] and body["data"]["product"] == "inaticabtagene-autoleucel"
    )
    audit = AuditRow.objects.get(operation="sign_site_register")
    assert audit.summary["register_head"] == row.hash
    (entry,) = site_register.register_of(cn_center)
    assert entry.fact == "infusion_window_days" and entry.sequence == 1
    report = verify_everything(replay=False)
    assert report.ok, report.to_dict()
    assert report.checked["register_entries"] == 1


def test_a_wrong_password_another_role_or_a_label_fact_is_refused_and_nothing_kept(
    cn_center: Site, cn_physician: Any, django_user_model: Any, admin_user: Any
) -> None:
    with pytest.raises(SignatureRefused, match="password is not correct"):
        sign(cn_center, cn_physician, "infusion_window_days", [2, 14], password="wrong")
    coordinator = django_user_model.objects.create_user("coord-east", password=PASSWORD)
    services.grant_role(coordinator, cn_center, "coordinator", acting_user=admin_user)
    with pytest.raises(Forbidden, match="physician or a quality reviewer"):
        sign(cn_center, coordinator, "infusion_window_days", [2, 14])
    with pytest.raises(InvalidInput, match="label gives age"):
        sign(cn_center, cn_physician, "age", {"min": 16, "below": None})
    with pytest.raises(InvalidInput, match="infusion_window_days"):
        sign(cn_center, cn_physician, "infusion_window_days", "two weeks")
    assert not SiteRegisterEntry.objects.exists()


def test_a_new_value_supersedes_the_earlier_from_its_own_date_and_both_stay(
    cn_center: Site, cn_physician: Any
) -> None:
    sign(cn_center, cn_physician, "infusion_window_days", [2, 14])
    sign(
        cn_center,
        cn_physician,
        "infusion_window_days",
        [2, 10],
        effective_from=date(2026, 7, 1),
        document_ref="EAST-SOP-window v2 (synthetic)",
    )
    assert SiteRegisterEntry.objects.count() == 2
    before = site_register.site_values(cn_center, date(2026, 6, 30))
    after = site_register.site_values(cn_center, date(2026, 7, 1))
    assert [v.value for v in before] == [[2, 14]]
    assert [v.value for v in after] == [[2, 10]]
    (product,) = [
        p
        for p in site_register.overview(cn_center, date(2026, 7, 2))
        if p.product == "inaticabtagene-autoleucel"
    ]
    signed = product.indications[0].signed
    assert [(s.seq, s.in_force, s.superseded) for s in signed] == [
        (2, True, False),
        (1, False, True),
    ]


def _tamper(sql: str, params: list[Any]) -> None:
    vendor = connection.vendor
    with connection.cursor() as cursor:
        for statement in drop_statements(vendor, TABLE, REGISTER_FUNCTION):
            cursor.execute(statement)
        cursor.execute(sql, params)
        for statement in create_statements(vendor, TABLE, REGISTER_FUNCTION):
            cursor.execute(statement)


def test_the_register_is_append_only_and_audit_verify_finds_an_edit_or_a_cut(
    cn_center: Site, cn_physician: Any
) -> None:
    from django.db import DatabaseError, transaction

    first = sign(cn_center, cn_physician, "infusion_window_days", [2, 14])
    second = sign(cn_center, cn_physician, "post_thaw_minutes", 30)
    with pytest.raises(DatabaseError), transaction.atomic():
        SiteRegisterEntry.objects.filter(pk=first.pk).update(document_ref="edited")
    _tamper(
        "UPDATE clinic_siteregisterentry SET document_ref = %s WHERE id = %s",
        ["EAST-SOP-other", first.pk],
    )
    report = verify_everything(replay=False)
    assert "register-chain" in report.to_dict()["kinds"]
    with pytest.raises(site_register.RegisterBroken, match="does not verify"):
        site_register.register_of(cn_center)
    _tamper(
        "UPDATE clinic_siteregisterentry SET document_ref = %s WHERE id = %s",
        [first.document_ref, first.pk],
    )
    assert verify_everything(replay=False).ok
    _tamper("DELETE FROM clinic_siteregisterentry WHERE id = %s", [second.pk])
    found = verify_everything(replay=False).to_dict()["findings"]
    assert any(f["kind"] == "register-chain" and "were cut" in f["detail"] for f in found)


def test_the_api_signs_through_the_same_service_and_answers_bad_input_with_422(
    cn_center: Site, cn_physician: Any
) -> None:
    client = Client()
    client.force_login(cn_physician)
    url = f"/api/sites/{cn_center.slug}/register"
    good = {
        "indication": CNCT19,
        "fact": "storage_max_celsius",
        "value": -150,
        "document_ref": "EAST-SOP-storage (synthetic)",
        "effective_from": "2026-01-01",
        "password": PASSWORD,
    }
    answer = client.post(url, json.dumps(good), content_type="application/json")
    assert answer.status_code == 201, answer.content
    assert answer.json()["seq"] == 1 and answer.json()["role"] == "physician"
    bad = client.post(url, json.dumps({**good, "value": 5}), content_type="application/json")
    assert bad.status_code == 422 and "storage_max_celsius" in bad.content.decode()
    wrong = client.post(
        url, json.dumps({**good, "password": "nope"}), content_type="application/json"
    )
    assert wrong.status_code == 403
    shown = client.get(url + "?on=2026-11-30").json()
    (cnct19,) = [p for p in shown["products"] if p["product"] == "inaticabtagene-autoleucel"]
    indication = cnct19["indications"][0]
    assert "storage_max_celsius" in indication["unknown_facts"]
    assert "storage_max_celsius" not in indication["open_facts"]
    assert indication["signed"][0]["in_force"] is True


def test_the_page_signs_with_a_confirmation_and_lists_what_is_still_open(
    cn_center: Site, cn_physician: Any
) -> None:
    client = Client()
    client.force_login(cn_physician)
    page = client.get("/register/", follow=True)
    html = page.content.decode()
    assert page.status_code == 200 and "Protocol values of Test Center East" in html
    assert "Still open at this site:" in html and "infusion window" in html
    answer = client.post(
        f"/sites/{cn_center.slug}/register/",
        {
            "indication": CNCT19,
            "fact": "infusion_window_days",
            "value": "[2, 14]",
            "document_ref": "EAST-SOP-window (synthetic)",
            "effective_from": "2026-01-01",
            "password": PASSWORD,
        },
        follow=True,
    )
    html = answer.content.decode()
    assert answer.status_code == 200
    assert "Signed into the register of Test Center East (synthetic)" in html
    assert "EAST-SOP-window (synthetic)" in html and "in force" in html
    refused = client.post(
        f"/sites/{cn_center.slug}/register/",
        {
            "indication": CNCT19,
            "fact": "age",
            "value": '{"min": 16, "below": null}',
            "document_ref": "X",
            "password": PASSWORD,
        },
    )
    assert refused.status_code == 422 and "label gives age" in refused.content.decode()


def test_a_physician_of_another_site_gets_no_link_and_a_403(
    cn_center: Site, physician: Any, coordinator: Any
) -> None:
    client = Client()
    client.force_login(physician)
    assert client.get(f"/sites/{cn_center.slug}/register/").status_code == 403
    client.force_login(coordinator)
    assert 'href="/register/"' not in client.get("/board/").content.decode()


def test_eligibility_at_the_site_reads_its_signed_age_bound(
    cn_center: Site, cn_physician: Any
) -> None:
    client = Client()
    client.force_login(cn_physician)
    facts = {
        "diagnosis": "LBCL",
        "disease_status": "refractory",
        "prior_lines": 2,
        "age_years": 40,
        "region": "CN",
        "antigens": {"CD19": "positive"},
    }

    def axi() -> dict[str, Any]:
        answer = client.post(
            "/api/eligibility/assessment",
            json.dumps({"facts": facts, "on": "2026-11-30", "site": cn_center.slug}),
            content_type="application/json",
        )
        assert answer.status_code == 200, answer.content
        (found,) = [r for r in answer.json()["results"] if r["indication"] == AXI_CN]
        return dict(found)

    before = axi()
    assert before["status"] == "needs_information"
    assert [m["text"] for m in before["missing"]] == [
        f"{AXI_CN}: age bound: not in the catalog: enter the site's protocol value or check "
        "the current label"
    ]
    sign(cn_center, cn_physician, "age", {"min": 18, "below": None}, indication=AXI_CN)
    after = axi()
    assert after["status"] == "eligible" and after["eligible_in"] == ["CN"]
    # Before the value's first day, the site's value is not in force.
    facts_day = client.post(
        "/api/eligibility/assessment",
        json.dumps({"facts": facts, "on": "2025-12-31", "site": cn_center.slug}),
        content_type="application/json",
    ).json()
    (early,) = [r for r in facts_day["results"] if r["indication"] == AXI_CN]
    assert early["status"] == "needs_information"


def test_the_cli_signs_shows_and_reviews_the_cases_a_new_value_changes(
    cn_center: Site,
    cn_physician: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    code = main(
        [
            "register",
            "sign",
            "--site",
            cn_center.slug,
            "--user",
            "dr-east",
            "--indication",
            CNCT19,
            "--fact",
            "dose",
            "--value",
            '{"kind": "per_kg_range", "min_per_kg": 800000, "max_per_kg": 1200000}',
            "--document",
            "EAST-SOP-dose (synthetic)",
            "--from",
            "2026-01-01",
            "--password-stdin",
            "--json",
        ]
    )
    out = capsys.readouterr()
    assert code == 0, out.err
    assert json.loads(out.out)["fact"] == "dose"
    assert main(["register", "show", "--site", cn_center.slug, "--on", "2026-11-30"]) == 0
    assert "EAST-SOP-dose (synthetic)" in capsys.readouterr().out

    # An open case at the site with a manufacturing weight: a new dose range changes it.
    case = _cnct19_case_at(cn_center, cn_physician)
    code = main(
        [
            "register",
            "review",
            "--site",
            cn_center.slug,
            "--on",
            "2026-11-30",
            "--indication",
            CNCT19,
            "--fact",
            "dose",
            "--value",
            '{"kind": "per_kg_range", "min_per_kg": 500000, "max_per_kg": 1000000}',
            "--from",
            "2026-11-01",
            "--json",
        ]
    )
    out = capsys.readouterr()
    assert code == 0, out.err
    changes = json.loads(out.out)["changes"]
    assert [(c["coi"], c["what"]) for c in changes] == [(case.coi, "dose range")]
    assert "5.76e+07 to 8.64e+07" in changes[0]["before"]
    assert "3.6e+07 to 7.2e+07" in changes[0]["after"]
    # The same value, not in force on the decision date, changes nothing.
    assert (
        main(
            [
                "register",
                "review",
                "--site",
                cn_center.slug,
                "--on",
                "2026-11-30",
                "--indication",
                CNCT19,
                "--fact",
                "dose",
                "--value",
                '{"kind": "per_kg_range", "min_per_kg": 500000, "max_per_kg": 1000000}',
                "--from",
                "2026-12-01",
            ]
        )
        == 0
    )
    assert "no open case" in capsys.readouterr().out
    assert main(["register", "review", "--site", cn_center.slug]) == 2


def _cnct19_case_at(site: Site, physician: Any) -> TherapyCase:
    """A case referred at ``site`` with a weight of 72 kg recorded (no pages needed here)."""
    from cartflow.clinic.services import referral
    from cartflow.clinic.services.operations import perform
    from cartflow.domain import journey

    patient = services.register_patient(
        site,
        record_number="TEST-EAST-0001",
        given_name="Patient-E01",
        family_name="Test",
        birth_date=date(1980, 1, 1),
        acting_user=physician,
    )
    case = referral.refer_patient(
        patient,
        product_id="inaticabtagene-autoleucel",
        indication_id=CNCT19,
        acting_user=physician,
    ).case
    perform(case, journey.RecordWeight, acting_user=physician, weight_kg=72.0)
    return case


def test_the_lymphodepletion_command_reads_the_sites_renal_schedule_in_its_unit(
    cn_center: Site, cn_physician: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    regimen = [
        {
            "id": "flu-cy",
            "drugs": [
                {"drug": "fludarabine", "mg_per_m2": 30, "days": 3},
                {"drug": "cyclophosphamide", "mg_per_m2": 300, "days": 3},
            ],
        }
    ]
    schedule = {
        "unit": "mL/min/1.73 m2",
        "bands": [
            {"from": 0, "below": 30, "reduce_by_percent": 100},
            {"from": 30, "below": 70, "reduce_by_percent": 20},
            {"from": 70, "below": None, "reduce_by_percent": 0},
        ],
    }
    sign(cn_center, cn_physician, "lymphodepletion", regimen)
    sign(cn_center, cn_physician, "fludarabine_renal_adjustment", schedule)
    command = [
        "lymphodepletion",
        "--product",
        "inaticabtagene-autoleucel",
        "--indication",
        "B-ALL",
        "--height-cm",
        "170",
        "--weight-kg",
        "70",
        "--region",
        "CN",
        "--on",
        "2026-11-30",
        "--crcl",
        "50",
        "--site",
        cn_center.slug,
        "--json",
    ]
    assert main([*command, "--crcl-unit", "mL/min/1.73 m2"]) == 0
    plan = json.loads(capsys.readouterr().out)
    flu = next(d for d in plan["regimen"] if d["drug"] == "fludarabine")
    assert flu["daily_mg"] == round(flu["unadjusted_daily_mg"] * 0.8, 1)
    assert any("PAGES" not in w and "EAST-SOP-fludarabine" in w for w in plan["warnings"])
    assert main([*command, "--crcl-unit", "mL/min"]) == 2
    assert "measure or enter it in mL/min/1.73 m2" in capsys.readouterr().err
    # Without the site, the catalog alone knows no regimen for CNCT19.
    assert main([*command[:-3], "--json"]) == 2
    assert "not in the catalog" in capsys.readouterr().err


def test_review_lists_the_cases_a_new_catalog_version_changes(
    cn_center: Site,
    cn_physician: Any,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Any,
) -> None:
    from importlib import resources

    sign(
        cn_center,
        cn_physician,
        "dose",
        {"kind": "per_kg_range", "min_per_kg": 800000, "max_per_kg": 1200000},
    )
    case = _cnct19_case_at(cn_center, cn_physician)
    raw = json.loads(
        resources.files("cartflow").joinpath("data/products.json").read_text(encoding="utf-8")
    )
    raw["catalog_version"] = "test-next"
    for product in raw["products"]:
        for indication in product["indications"]:
            if indication["id"] == CNCT19:
                indication["facts"]["dose"] = [
                    {"value": {"kind": "flat_range", "min": 1e7, "max": 1e8}, "sources": ["101"]}
                ]
    path = tmp_path / "next.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    code = main(
        [
            "register",
            "review",
            "--site",
            cn_center.slug,
            "--on",
            "2026-11-30",
            "--catalog",
            str(path),
            "--json",
        ]
    )
    out = capsys.readouterr()
    assert code == 0, out.err
    (change,) = json.loads(out.out)["changes"]
    assert (change["coi"], change["what"]) == (case.coi, "dose range")
    assert "site protocol EAST-SOP-dose" in change["before"]
    assert "1e+07 to 1e+08" in change["after"] and "label" not in change["before"]


def test_the_eligibility_command_reads_the_sites_values_before_any_case(
    cn_center: Site, cn_physician: Any, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    sign(cn_center, cn_physician, "age", {"min": 18, "below": None}, indication=AXI_CN)
    patient = tmp_path / "patient.json"
    patient.write_text(
        json.dumps(
            {
                "diagnosis": "LBCL",
                "disease_status": "refractory",
                "prior_lines": 2,
                "age_years": 40,
                "region": "CN",
                "antigens": {"CD19": "positive"},
            }
        ),
        encoding="utf-8",
    )
    command = ["eligibility", "--patient", str(patient), "--on", "2026-11-30", "--json"]

    def axi(*more: str) -> str:
        assert main([*command, *more]) == 0
        results = json.loads(capsys.readouterr().out)["results"]
        return str(next(r["status"] for r in results if r["indication"] == AXI_CN))

    assert axi() == "needs_information"
    assert axi("--site", cn_center.slug) == "eligible"
    assert main([*command, "--site", "no-such-site"]) == 2
    assert "no site no-such-site" in capsys.readouterr().err
