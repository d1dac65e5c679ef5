"""A small synthetic network for the API tests: every role at its own site, the same role at
another site (the outsiders), system tokens, and one case walked to ``shipped`` that every
own site takes part in (treating center, apheresis unit, manufacturer, courier).

The case is walked with the demo seed's operations, so it has a real, verified event log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from cartflow.clinic import services
from cartflow.clinic.demo_seed import Crew, Walk, main_path, password_for
from cartflow.clinic.models import Event, Patient, Site, TherapyCase
from cartflow.clinic.services import referral
from cartflow.domain.roles import Role

ROLES = tuple(Role)

OWN_SITE = {
    Role.PHYSICIAN: "center",
    Role.COORDINATOR: "center",
    Role.APHERESIS: "unit",
    Role.MANUFACTURING: "factory",
    Role.COURIER: "courier",
    Role.PHARMACY: "center",
    Role.QUALITY: "center",
    Role.AUDITOR: "center",
    Role.ADMIN: "center",
}
OTHER_OF = {
    "center": "other-center",
    "unit": "other-unit",
    "factory": "other-factory",
    "courier": "other-courier",
}

SITES = {
    "center": ("test-api-center", "Test API Center (synthetic)", "treatment_center", "W7001"),
    "unit": ("test-api-unit", "Test API Apheresis Unit (synthetic)", "apheresis_unit", "W7011"),
    "factory": ("test-api-factory", "Test API Factory (synthetic)", "manufacturing_site", None),
    "courier": ("test-api-courier", "Test API Courier (synthetic)", "courier", None),
    "other-center": (
        "test-api-other-center",
        "Test Other Center (synthetic)",
        "treatment_center",
        "W7002",
    ),
    "other-unit": ("test-api-other-unit", "Test Other Unit (synthetic)", "apheresis_unit", "W7012"),
    "other-factory": (
        "test-api-other-factory",
        "Test Other Factory (synthetic)",
        "manufacturing_site",
        None,
    ),
    "other-courier": ("test-api-other-courier", "Test Other Courier (synthetic)", "courier", None),
}


@dataclass
class ApiNetwork:
    sites: dict[str, Site]
    own: dict[Role, Any]
    other: dict[Role, Any]
    patient: Patient
    case: TherapyCase
    walk: Walk
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self, user: Any | None) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    def token_client(self, role: Role) -> Client:
        return Client(HTTP_AUTHORIZATION=f"Bearer {self.tokens[role.value]}")

    def last_event(self) -> Event:
        return Event.objects.filter(case=self.case).order_by("-seq").first()  # type: ignore[return-value]


def build_network(
    stage: str = "shipped",
    indication_id: str = "tisagenlecleucel/lbcl",
    center_time_zone: str = "UTC",
) -> ApiNetwork:
    users = get_user_model()
    admin = users.objects.create_user("test-api-setup", password="setup-only")
    sites = {
        key: services.create_site(
            slug,
            name,
            kind,
            facility_code=fin,
            acting_user=admin,
            time_zone=center_time_zone if key == "center" else "UTC",
        )
        for key, (slug, name, kind, fin) in SITES.items()
    }

    def persona(role: Role, site_key: str, prefix: str) -> Any:
        username = f"{prefix}-{role.value}"
        user = users.objects.create_user(
            username,
            password=password_for(username),
            first_name="Test",
            last_name=f"{prefix.title()} {role.value.title()}",
        )
        services.grant_role(user, sites[site_key], role.value, acting_user=admin)
        return user

    own = {role: persona(role, OWN_SITE[role], "own") for role in ROLES}
    other = {role: persona(role, OTHER_OF[OWN_SITE[role]], "other") for role in ROLES}
    patient = services.register_patient(
        sites["center"],
        record_number="DEMO-7001",
        given_name="Demo",
        family_name="Patient-701",
        # B-ALL's label admits patients up to 25: the synthetic patient is a teenager there.
        birth_date=date(2012, 1, 1) if indication_id.endswith("/b-all") else date(1970, 1, 1),
        acting_user=own[Role.COORDINATOR],
    )
    crew = Crew(
        physician=own[Role.PHYSICIAN],
        coordinator=own[Role.COORDINATOR],
        apheresis=own[Role.APHERESIS],
        maker=own[Role.MANUFACTURING],
        courier=own[Role.COURIER],
        nurse=own[Role.PHARMACY],
        quality=own[Role.QUALITY],
        unit=sites["unit"],
        factory=sites["factory"],
        courier_site=sites["courier"].slug,
    )
    ops = main_path(stage)
    now = timezone.now()
    clock = now - sum((delta for delta, _ in ops), timedelta()) - timedelta(days=1)
    case = referral.refer_patient(
        patient,
        product_id="tisagenlecleucel",
        indication_id=indication_id,
        acting_user=own[Role.PHYSICIAN],
        now=clock,
    ).case
    walk = Walk(case, crew, clock, iter(range(1, 1_000_000)))
    for delta, op in ops:
        walk.clock += delta
        op(walk, admin)
    network = ApiNetwork(sites, own, other, patient, case, walk)
    for role in ROLES:
        _, token = services.issue_token(own[role], f"{role.value} system", acting_user=admin)
        network.tokens[role.value] = token
    return network


@pytest.fixture(name="api_net")
def api_net_fixture(db: None) -> ApiNetwork:
    return build_network()
