"""Printing and reprinting a label through the API answers the labels' PDF and records the
print: the label identifiers come from the event the print stored."""

from __future__ import annotations

import pytest

from cartflow.clinic.models import Event
from cartflow.clinic.services.labels import replay_state
from cartflow.domain.roles import Role
from tests.clinic.api_network import build_network

pytestmark = pytest.mark.django_db


def test_the_apheresis_unit_prints_and_reprints_the_collection_bag_label() -> None:
    net = build_network("apheresis_scheduled")
    nurse = net.client(net.own[Role.APHERESIS])
    url = f"/api/cases/{net.case.coi}/labels"

    printed = nurse.post(url, {"kind": "collection_bag"}, content_type="application/json")
    assert printed.status_code == 201, printed.content[:500]
    assert printed["Content-Type"] == "application/pdf"
    assert printed.content.startswith(b"%PDF")
    (label,) = replay_state(net.case).labels
    assert Event.objects.filter(case=net.case, type="label.printed").count() == 1

    reprinted = nurse.post(
        f"{url}/reprints",
        {"label_id": label.label_id, "reason": "smudged in the printer"},
        content_type="application/json",
    )
    assert reprinted.status_code == 201, reprinted.content[:500]
    assert reprinted.content.startswith(b"%PDF")
    assert Event.objects.filter(case=net.case, type="label.reprinted").count() == 1
