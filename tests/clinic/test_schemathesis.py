"""Schemathesis against the API's own schema, authenticated as every role: whatever it sends,
valid or not, no answer is ever a 5xx.

Requests go through Django's test client, so the middleware runs (sessions, CSRF, auth).
Each role is a system with a token; the path names the fixture's real case, patient and
site, so the requests reach the access checks and the operations behind them rather than
stopping at 404. Examples are bounded and derandomised: the run is the same every time.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from cartflow.clinic.api import api
from cartflow.domain.roles import Role
from tests.clinic.api_network import ROLES, ApiNetwork, api_net_fixture  # noqa: F401

pytestmark = pytest.mark.django_db

SCHEMA = schemathesis.openapi.from_dict(api.get_openapi_schema())
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
EXAMPLES = {GenerationMode.POSITIVE: 4, GenerationMode.NEGATIVE: 2}


def _send(client: Client, case: Any) -> int:
    path = case.formatted_path
    if case.query:
        path += "?" + urlencode(case.query, doseq=True)
    body = case.body
    if body is None or type(body).__name__ == "NotSet":
        data: Any = ""
    elif isinstance(body, bytes | str):
        data = body  # a negative example: not JSON at all
    else:
        data = json.dumps(body)
    response = client.generic(case.method.upper(), path, data, content_type="application/json")
    return int(response.status_code)


def _check(operation: Any, client: Client, path: dict[str, str], failures: list[str]) -> None:
    for mode, examples in EXAMPLES.items():
        strategy = operation.as_strategy(generation_mode=mode, path_parameters=path)

        @given(strategy)
        @settings(
            max_examples=examples,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            status = _send(client, case)
            if status >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {status} for {case.body!r}")

        run()


def test_the_schema_lists_every_area_of_the_api() -> None:
    tags = {tag for op in OPERATIONS for tag in op.definition.raw.get("tags", [])}
    assert tags >= {
        "patients",
        "antigen tests",
        "eligibility",
        "cases",
        "step events",
        "custody",
        "signatures",
        "exceptions",
        "slots",
        "audit",
    }


@pytest.mark.slow
@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
def test_no_answer_is_ever_a_5xx_for_a_system_in_any_role(api_net: ApiNetwork, role: Role) -> None:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {api_net.tokens[role.value]}")
    failures: list[str] = []
    for operation in OPERATIONS:
        path = {
            name: value
            for name, value in {
                "coi": api_net.case.coi,
                "patient_id": str(api_net.patient.public_id),
                "site": api_net.sites["center"].slug,
                "event_hash": api_net.last_event().hash,
            }.items()
            if "{" + name + "}" in operation.path
        }
        _check(operation, client, path, failures)
    assert failures == []
