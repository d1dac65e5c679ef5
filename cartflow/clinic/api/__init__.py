"""The JSON API under ``/api/``: one router per area, its schema at ``/api/openapi.json`` and
its docs at ``/api/docs``.

Systems (a manufacturer's or courier's integration) send ``Authorization: Bearer <token>``;
people use their session from the login page (unsafe methods then need the CSRF token).
Every route names its action (``cartflow.domain.roles.Action``); the access check runs
before the body is read, so the answers are, in order: 401 without credentials, 404 for a
case or patient the user may not see, 403 for one they see but may not act on, 422 naming
each wrong field, then what the operation answers (201, 409 on a conflict, 422 with the rule
when a guard of the journey refuses).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from ninja import NinjaAPI

from cartflow.clinic.api import (
    audit,
    cases,
    custody,
    eligibility,
    errors,
    exceptions,
    kinetics,
    marrow,
    patients,
    plans,
    records_out,
    register,
    signatures,
    slots,
    steps,
    toxicity,
)

api = NinjaAPI(
    title="cartflow",
    version="1",
    urls_namespace="api",
    # The schema and its docs map every route: for signed-in people only.
    docs_decorator=login_required,
    description=__doc__.split("\n\n", 1)[1] if __doc__ else "",
)
errors.install(api)

for area in (
    patients,
    cases,
    eligibility,
    steps,
    custody,
    signatures,
    exceptions,
    toxicity,
    kinetics,
    marrow,
    slots,
    plans,
    audit,
    records_out,
    register,
):
    api.add_router("/", area.router)
