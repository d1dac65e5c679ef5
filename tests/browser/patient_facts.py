"""What the patient-view browser test needs to know of the server's database, read (or, for
``child``, written through the services) in a process of its own:
``python -m tests.browser.patient_facts facts|child`` prints JSON."""

from __future__ import annotations

import json
import sys
from datetime import date


def facts() -> dict[str, object]:
    from django.contrib.auth import get_user_model

    from cartflow.clinic import demo_patients
    from cartflow.clinic.models import Membership, Patient, Site, TherapyCase

    staff = get_user_model().objects.filter(memberships__isnull=False).distinct()
    return {
        "cases": [
            {"coi": c.coi, "site": c.treating_site.slug, "step": c.projection.step}
            for c in TherapyCase.objects.select_related("treating_site", "projection")
        ],
        "staff_usernames": sorted({u.username for u in staff}),
        "staff_names": sorted({u.get_full_name() for u in staff if u.get_full_name()}),
        "hidden_sites": sorted(
            Site.objects.filter(kind__in=["manufacturing_site", "courier"]).values_list(
                "name", flat=True
            )
        ),
        "patients": sorted(
            {p.record_number for p in Patient.objects.all()}
            | {p.family_name for p in Patient.objects.all()}
        ),
        "members": Membership.objects.count(),
        "patient_logins": [[u, p] for u, p, _ in demo_patients.logins()],
    }


def child() -> dict[str, object]:
    """A synthetic child of nine at the demo children's centre, referred."""
    from django.contrib.auth import get_user_model

    from cartflow.clinic import services
    from cartflow.clinic.models import Site
    from cartflow.clinic.services import referral

    users = get_user_model().objects
    today = date.today()
    patient = services.register_patient(
        Site.objects.get(slug="demo-childrens"),
        record_number="DEMO-CHILD-01",
        given_name="Demo",
        family_name="Patient-Child",
        birth_date=date(today.year - 9, 1, 1),
        acting_user=users.get(username="coordinator"),
    )
    case = referral.refer_patient(
        patient,
        product_id="tisagenlecleucel",
        indication_id="tisagenlecleucel/b-all",
        acting_user=users.get(username="physician"),
    ).case
    return {"coi": case.coi}


def main(argv: list[str]) -> int:
    import django

    django.setup()
    print(json.dumps({"facts": facts, "child": child}[argv[0]]()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
