"""The permission table, and a sweep of every route the application resolves against it.

The table below is written by hand: one line per route and method, the action it performs,
what each role at its own site gets, what the same role at another site gets, and what an
anonymous visitor gets. The sweep walks Django's URL resolver (the pages and every API
route) and the OpenAPI schema, asks each route as every persona with Django's own test client
(middleware included), and fails on a route the table does not list and on every answer
that differs from the table.

Own-site columns, in the order physician, coordinator, apheresis, manufacturing, courier,
pharmacy, quality, auditor, admin:

- ``A`` allowed: the route answers 2xx, or 4xx about the input (400, 409, 422): the sweep
  sends an empty JSON body, so an allowed write is told what is missing;
- ``F`` forbidden: 403 (the persona sees the record but may not do this);
- ``H`` hidden: 404 (the persona may not see the record: it is answered as if absent);
- ``R`` redirected (302), for the pages.

The "other" column is the same role at another site of the same kind: ``H`` (every role gets
404), ``F`` (every role gets 403), or ``=`` (the same as at its own site: a list narrowed to
what the persona may see). The anonymous column is the status code.

Every own site takes part in the fixture case (treating center, apheresis unit,
manufacturer, courier), so an own-site persona sees it; the other sites do not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from cartflow.clinic.api import api
from cartflow.domain.roles import Action, Role, roles_that_can
from tests.clinic.api_network import ROLES, ApiNetwork, api_net_fixture  # noqa: F401

pytestmark = pytest.mark.django_db

# method, route; physician coordinator apheresis manufacturing courier pharmacy quality auditor
# admin (each at its own site); the same roles at another site; anonymous.
TABLE = """
GET  /                                                           A A A A A A A R R  = 302
GET  /board/                                                     A A A A A A A A A  = 302
POST /board/                                                     A A A A A A A A A  = 302
GET  /network/                                                   F F F F F F F F A  = 302
GET  /sites/{site}/                                               F F F F F F F F A  F 302
POST /sites/{site}/                                               F F F F F F F F A  F 302
GET  /sites/{site}/registry/                                      F F F F F F A F A  F 302
GET  /sites/{site}/registry.csv                                   F F F F F F A F A  F 302
GET  /sources/                                                   A A A A A A A A A  = 302
GET  /login/                                                     R R R R R R R R R  = 200
POST /login/                                                     R R R R R R R R R  = 200
POST /logout/                                                    R R R R R R R R R  = 302
POST /i18n/setlang/                                              R R R R R R R R R  = 302
GET  /patients/                                                  A A A F F A F A F  = 302
GET  /patients/new/                                              A A F F F F F F F  = 302
POST /patients/new/                                              A A F F F F F F F  = 302
GET  /patients/{patient_id}/                                     A A H H H A F A F  H 302
POST /patients/{patient_id}/refer/                               A F H H H F F F F  H 302
GET  /cases/{coi}/                                               A A A A A A A A F  H 302
POST /cases/{coi}/step/                                          A A A A A A A A F  H 302
GET  /cases/{coi}/eligibility/                                   A A F F F F F F F  H 302
POST /cases/{coi}/eligibility/                                   A A F F F F F F F  H 302
GET  /cases/{coi}/bedside/                                       A F F F F A F F F  H 302
POST /cases/{coi}/bedside/                                       A F F F F A F F F  H 302
POST /cases/{coi}/deviations/review/                             F F F F F F A F F  H 302
GET  /cases/{coi}/audit/                                         F F F F F F A A A  H 302
GET  /cases/{coi}/labels/                                        F F A A F F A F F  H 302
POST /cases/{coi}/labels/print/                                  F F A A F F F F F  H 302
POST /cases/{coi}/labels/reprint/                                F F A A F F F F F  H 302
POST /cases/{coi}/labels/applied/                                F F A A F F A F F  H 302
POST /cases/{coi}/labels/voided/                                 F F A A F F A F F  H 302
GET  /cases/{coi}/labels/pdf/                                    F F R R F F F F F  H 302
GET  /cases/{coi}/patient-access/                                F A F F F F F F F  H 302
POST /cases/{coi}/patient-access/                                F A F F F F F F F  H 302
POST /cases/{coi}/patient-access/{access_id}/revoke/             F H F F F F F F F  H 302
POST /cases/{coi}/planned-dates/                                 F A F F F F F F F  H 302
GET  /cases/{coi}/plan/                                          F A F A F F F F F  H 302
POST /cases/{coi}/plan/                                          F A F F F F F F F  H 302
POST /cases/{coi}/plan/answer/                                   F F F A F F F F F  H 302
POST /cases/{coi}/plan/release/                                  F A F F F F F F F  H 302
GET  /capacity/                                                  F A F A F F F F A  = 302
GET  /access/{token}/                                            H H H H H H H H H  = 404
POST /access/{token}/                                            H H H H H H H H H  = 404
GET  /my/                                                        H H H H H H H H H  = 302
GET  /my/card/                                                   H H H H H H H H H  = 302
GET  /quality/                                                   F F F F F F A F F  = 302
GET  /audit/                                                     F F F F F F A A A  = 302
GET  /register/                                                  R F F F F F R F F  = 302
GET  /sites/{site}/register/                                     A F F F F F A F F  F 302
POST /sites/{site}/register/                                     A F F F F F A F F  F 302
GET  /api/                                                       H H H H H H H H H  = 404
GET  /api/docs                                                   A A A A A A A A A  = 302
GET  /api/openapi.json                                           A A A A A A A A A  = 302
GET  /api/patients                                               A A A F F A F A F  = 401
POST /api/sites/{site}/patients                                  A A F F F F F F F  F 401
GET  /api/patients/{patient_id}                                  A A H H H A F A F  H 401
GET  /api/patients/{patient_id}/antigen-tests                    A A H H H A F A F  H 401
POST /api/patients/{patient_id}/cases                            A F H H H F F F F  H 401
GET  /api/cases                                                  A A A A A A A A F  = 401
GET  /api/cases/{coi}                                            A A A A A A A A F  H 401
GET  /api/cases/{coi}/events                                     A A A A A A A A F  H 401
POST /api/eligibility/assessment                                 A A F F F F F F F  = 401
POST /api/cases/{coi}/antigen-tests                              A F F F F F F F F  H 401
POST /api/cases/{coi}/eligibility                                A F F F F F F F F  H 401
POST /api/cases/{coi}/eligibility/off-label                      A F F F F F F F F  H 401
POST /api/cases/{coi}/screening                                  A A F F F F F F F  H 401
POST /api/cases/{coi}/apheresis                                  F A F F F F F F F  H 401
POST /api/cases/{coi}/collections                                F F A F F F F F F  H 401
POST /api/cases/{coi}/weights                                    A A A F F F F F F  H 401
POST /api/cases/{coi}/bridging-therapy                           A F F F F F F F F  H 401
POST /api/cases/{coi}/manufacturing-slot                         F A F F F F F F F  H 401
POST /api/cases/{coi}/manufacturing                              F F F A F F F F F  H 401
POST /api/cases/{coi}/release                                    F F F A F F A F F  H 401
POST /api/cases/{coi}/out-of-specification                       F F F A F F A F F  H 401
GET  /api/cases/{coi}/custody                                    A A A A A A A A F  H 401
POST /api/cases/{coi}/custody/shipments                          F F F A F F F F F  H 401
POST /api/cases/{coi}/custody/temperatures                       F F F A A A F F F  H 401
POST /api/cases/{coi}/custody/receipts                           F F F F F A F F F  H 401
POST /api/cases/{coi}/custody/availability                       F F F F F A F F F  H 401
POST /api/cases/{coi}/lymphodepletion                            A F F F F F F F F  H 401
POST /api/cases/{coi}/lymphodepletion/completion                 A F F F F F F F F  H 401
POST /api/cases/{coi}/lymphodepletion/early-stop                 A F F F F F F F F  H 401
POST /api/cases/{coi}/thaws                                      F F F F F A F F F  H 401
POST /api/cases/{coi}/infusions                                  A F F F F A F F F  H 401
POST /api/cases/{coi}/monitoring                                 A F F F F F F F F  H 401
POST /api/cases/{coi}/monitoring/completion                      A F F F F F F F F  H 401
POST /api/cases/{coi}/follow-up/visits                           A A F F F F F F F  H 401
POST /api/cases/{coi}/follow-up/completion                       A F F F F F F F F  H 401
POST /api/cases/{coi}/withdrawal                                 A A F F F F F F F  H 401
POST /api/cases/{coi}/death                                      A F F F F F F F F  H 401
POST /api/cases/{coi}/product/expiry                             F F F A F A A F F  H 401
POST /api/cases/{coi}/product/disposal                           F F F F F A A F F  H 401
POST /api/cases/{coi}/deviations/reviews                          F F F F F F A F F  H 401
GET  /api/cases/{coi}/signatures                                 A A A A A A A A F  H 401
POST /api/cases/{coi}/events/{event_hash}/signatures             A F F A F A A F F  H 401
GET  /api/cases/{coi}/exceptions                                 A A A A A A A A F  H 401
POST /api/cases/{coi}/exceptions/out-of-specification-decision   F F F F F F A F F  H 401
POST /api/cases/{coi}/exceptions/quarantine-decision             F F F F F F A F F  H 401
POST /api/cases/{coi}/exceptions/lymphodepletion-omission        A F F F F F F F F  H 401
POST /api/cases/{coi}/exceptions/fludarabine-dose                A F F F F F F F F  H 401
POST /api/cases/{coi}/exceptions/site-protocol-values            A F F F F F A F F  H 401
POST /api/cases/{coi}/kinetics/measurements                      A F F F F F F F F  H 401
POST /api/cases/{coi}/marrow/blasts                              A F F F F F F F F  H 401
POST /api/cases/{coi}/toxicity/crs                               A F F F F F F F F  H 401
POST /api/cases/{coi}/toxicity/icans                             A F F F F F F F F  H 401
GET  /api/slots                                                  A A A A F F F A A  = 401
GET  /api/cases/{coi}/plan                                       A A A A A A A A F  H 401
POST /api/cases/{coi}/plan/accept                                F A F F F F F F F  H 401
POST /api/cases/{coi}/plan/confirm                               F F F A F F F F F  H 401
POST /api/cases/{coi}/plan/decline                               F F F A F F F F F  H 401
POST /api/cases/{coi}/plan/release                               F A F F F F F F F  H 401
GET  /api/capacity                                               F A F A F F F F A  = 401
GET  /api/slots/totals                                           A A A A F F F A A  = 401
POST /api/sites/{site}/slots                                     F A F F F F F F A  F 401
GET  /api/audit/verify                                           F F F F F F A A A  = 401
GET  /api/cases/{coi}/audit/verify                               F F F F F F A A A  H 401
POST /api/cases/{coi}/labels                                     F F A A F F F F F  H 401
POST /api/cases/{coi}/labels/reprints                            F F A A F F F F F  H 401
POST /api/cases/{coi}/labels/applied                             F F A A F F A F F  H 401
POST /api/cases/{coi}/labels/voided                              F F A A F F A F F  H 401
POST /api/cases/{coi}/response-assessments                       A F F F F F F F F  H 401
POST /api/cases/{coi}/toxicity/resolution                        A F F F F F F F F  H 401
GET  /api/cases/{coi}/fhir                                       A A F A F A A A F  H 401
GET  /api/sites/{site}/registry-export                           F F F F F F A F A  F 401
GET  /api/sites/{site}/register                                  A F F F F F A F F  F 401
POST /api/sites/{site}/register                                  A F F F F F A F F  F 401
"""

ALLOWED = {200, 201, 400, 409, 422}


@dataclass(frozen=True)
class Row:
    method: str
    route: str
    action: str | None
    own: dict[Role, str]
    other: str
    anonymous: int


def route_actions() -> dict[tuple[str, str], str]:
    """The action each API route checks, read from the route itself (its ``auth``)."""
    found: dict[tuple[str, str], str] = {}
    for _, router in api._routers:
        for path, view in router.path_operations.items():
            for operation in view.operations:
                actions = {getattr(check, "action", None) for check in operation.auth_callbacks}
                assert len(actions) == 1 and None not in actions, f"{path}: one action"
                for method in operation.methods:
                    found[(method, "/api" + path)] = str(actions.pop() if len(actions) else "")
    return found


ROUTE_ACTIONS = route_actions()


def parse_table() -> dict[tuple[str, str], Row]:
    rows: dict[tuple[str, str], Row] = {}
    for line in TABLE.strip().splitlines():
        method, route, *marks, other, anonymous = line.split()
        assert len(marks) == len(ROLES), f"{route}: one mark per role"
        key = (method, route)
        assert key not in rows, f"{method} {route} is listed twice"
        rows[key] = Row(
            method,
            route,
            ROUTE_ACTIONS.get(key),
            dict(zip(ROLES, marks, strict=True)),
            other,
            int(anonymous),
        )
    return rows


ROWS = parse_table()


def _walk(patterns: list[Any], prefix: str = "") -> list[str]:
    found = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            found.extend(_walk(entry.url_patterns, prefix + str(entry.pattern)))
        elif isinstance(entry, URLPattern):
            found.append(prefix + str(entry.pattern))
    return found


def resolved_routes() -> set[str]:
    """Every route Django resolves, written as the table writes it (``/api/cases/{coi}``)."""
    routes = set()
    for pattern in _walk(get_resolver().url_patterns):
        route = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", pattern).lstrip("^").rstrip("$")
        routes.add(route)
    return routes


def schema_operations() -> set[tuple[str, str]]:
    schema = api.get_openapi_schema()
    return {
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
    }


def test_every_resolved_route_is_in_the_table_and_every_row_is_a_route() -> None:
    listed = {route for _, route in ROWS}
    assert resolved_routes() - listed == set(), "routes the permission table does not list"
    assert listed - resolved_routes() == set(), "rows of the table that no route answers"


def test_every_api_operation_is_in_the_table_and_every_api_row_is_an_operation() -> None:
    api_rows = {
        key
        for key in ROWS
        if key[1].startswith("/api/") and key[1] not in {"/api/", "/api/docs", "/api/openapi.json"}
    }
    assert schema_operations() - api_rows == set(), "API operations the table does not list"
    assert api_rows - schema_operations() == set(), "API rows the schema does not have"


def test_the_table_agrees_with_the_domain_s_permission_table() -> None:
    """On a case every own site takes part in, the roles allowed are those ``can`` names."""
    for row in ROWS.values():
        if row.action is None or "{coi}" not in row.route:
            continue
        allowed = {role for role, mark in row.own.items() if mark == "A"}
        assert allowed == set(roles_that_can(Action(row.action))), row.route


def _url(route: str, net: ApiNetwork) -> str:
    values = {
        "coi": net.case.coi,
        "patient_id": str(net.patient.public_id),
        "site": net.sites["center"].slug,
        "event_hash": net.last_event().hash,
        # No access exists: a guessed access id or link token answers as absent.
        "access_id": "00000000-0000-4000-8000-000000000000",
        "token": "not-a-link-token",
    }
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], route)


def _ask(client: Any, method: str, url: str) -> int:
    if method == "GET":
        return int(client.get(url).status_code)
    return int(client.post(url, data="{}", content_type="application/json").status_code)


def _matches(mark: str, status: int) -> bool:
    return {
        "A": status in ALLOWED,
        "F": status == 403,
        "H": status == 404,
        "R": status == 302,
    }[mark]


def _methods_of(route: str) -> list[str]:
    return sorted({method for method, listed in ROWS if listed == route})


def test_every_route_answers_every_persona_as_the_table_says(api_net: ApiNetwork) -> None:
    differences: list[str] = []
    own_clients = {role: api_net.client(api_net.own[role]) for role in ROLES}
    other_clients = {role: api_net.client(api_net.other[role]) for role in ROLES}
    anonymous = api_net.client(None)
    # Logging out signs the persona's client out: ask that route last.
    for route in sorted(resolved_routes(), key=lambda r: (r == "/logout/", r)):
        for method in _methods_of(route):
            row = ROWS[(method, route)]
            url = _url(route, api_net)
            for role in ROLES:
                status = _ask(own_clients[role], method, url)
                if not _matches(row.own[role], status):
                    differences.append(
                        f"{method} {route} as {role} at own site: {status}, "
                        f"table says {row.own[role]}"
                    )
                expected = row.own[role] if row.other == "=" else row.other
                status = _ask(other_clients[role], method, url)
                if not _matches(expected, status):
                    differences.append(
                        f"{method} {route} as {role} at another site: {status}, "
                        f"table says {expected}"
                    )
            status = _ask(anonymous, method, url)
            if status != row.anonymous:
                differences.append(
                    f"{method} {route} anonymous: {status}, table says {row.anonymous}"
                )
    assert differences == []


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
def test_a_system_with_a_token_gets_what_its_user_s_role_gets_on_every_api_route(
    api_net: ApiNetwork, role: Role
) -> None:
    client = api_net.token_client(role)
    differences = []
    for (method, route), row in sorted(ROWS.items()):
        if row.action is None:
            continue
        status = _ask(client, method, _url(route, api_net))
        if not _matches(row.own[role], status):
            differences.append(f"{method} {route}: {status}, table says {row.own[role]}")
    assert differences == []


def test_a_revoked_or_unknown_token_is_answered_401(api_net: ApiNetwork) -> None:
    from django.test import Client

    from cartflow.clinic import services
    from cartflow.clinic.models import ApiToken

    url = f"/api/cases/{api_net.case.coi}"
    assert Client(HTTP_AUTHORIZATION="Bearer cft_not-a-token").get(url).status_code == 401
    row = ApiToken.objects.get(user=api_net.own[Role.COURIER])
    services.revoke_token(row, acting_user=api_net.own[Role.ADMIN])
    assert api_net.token_client(Role.COURIER).get(url).status_code == 401


def test_slots_are_scoped_to_the_user_s_sites_and_totals_stay_network_wide(
    api_net: ApiNetwork,
) -> None:
    from datetime import date, timedelta

    from cartflow.clinic import services
    from cartflow.clinic.models import SlotKind

    day = date.today() + timedelta(days=30)
    admin = api_net.own[Role.ADMIN]
    opened = {
        key: services.open_slot(api_net.sites[key], kind, day, 3, acting_user=admin)
        for key, kind in [
            ("center", SlotKind.APHERESIS_CHAIR),
            ("other-center", SlotKind.APHERESIS_CHAIR),
            ("unit", SlotKind.APHERESIS_CHAIR),
            ("other-unit", SlotKind.APHERESIS_CHAIR),
            ("factory", SlotKind.MANUFACTURING),
            ("other-factory", SlotKind.MANUFACTURING),
        ]
    }
    slug = {key: api_net.sites[key].slug for key in opened}

    def seen(user: Any) -> set[str]:
        answer = api_net.client(user).get(f"/api/slots?start={day}&end={day}")
        assert answer.status_code == 200, answer.content
        return {row["site"] for row in answer.json()}

    shared = {slug[k] for k in ("unit", "other-unit", "factory", "other-factory")}
    # Who may not book sees their own sites' slots only; a booker also the shared sites'.
    assert seen(api_net.own[Role.PHYSICIAN]) == {slug["center"]}
    assert seen(api_net.other[Role.PHYSICIAN]) == {slug["other-center"]}
    assert seen(api_net.own[Role.APHERESIS]) == {slug["unit"]}
    assert seen(api_net.own[Role.COORDINATOR]) == {slug["center"], *shared}
    assert seen(api_net.other[Role.COORDINATOR]) == {slug["other-center"], *shared}
    # The totals are the network's, whoever asks, with no site named.
    for user in (api_net.own[Role.PHYSICIAN], api_net.other[Role.APHERESIS]):
        totals = api_net.client(user).get(f"/api/slots/totals?start={day}&end={day}").json()
        by_kind = {row["kind"]: row for row in totals}
        assert by_kind[SlotKind.APHERESIS_CHAIR]["capacity"] == 12
        assert by_kind[SlotKind.MANUFACTURING]["sites"] == 2
        assert all("site" not in row for row in totals)
    # Booking another center's chair is answered as if the slot did not exist; the
    # center's own chair reaches the journey (which refuses it: the case is past apheresis).
    coordinator = api_net.client(api_net.own[Role.COORDINATOR])

    def book(key: str) -> Any:
        return coordinator.post(
            f"/api/cases/{api_net.case.coi}/apheresis",
            {
                "slot_at": f"{day.isoformat()}T09:00:00+00:00",
                "slot_id": str(opened[key].public_id),
            },
            content_type="application/json",
        )

    refused = book("other-center")
    assert refused.status_code == 404
    assert "choose one of your sites' slots" in refused.json()["detail"]
    assert book("center").status_code != 404
    assert opened["other-center"].bookings.count() == 0
