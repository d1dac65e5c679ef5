"""The answer to a recorded step is built from the rows the append wrote, not read back (it
is built while the write holds the network's lock). Here every such answer of the API's
walks is checked against the same answer read back from the database, as it used to be."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.serializers.json import DjangoJSONEncoder

from cartflow.clinic.api import common
from cartflow.clinic.models import Event
from tests.clinic.api_network import api_net_fixture  # noqa: F401
from tests.clinic.test_api_journey import (  # noqa: F401  (the walks, run again here)
    test_a_case_walks_from_registration_to_infusion_through_the_api,
    test_a_reviewer_signs_an_event_already_recorded_and_the_signature_shows,
    test_a_temperature_excursion_quarantines_until_quality_decides,
)

pytestmark = pytest.mark.django_db

compared: list[tuple[str, bool]] = []
"""Every answer compared in this module's walks: its event type, and whether it was signed."""


@pytest.fixture(autouse=True)
def answers_equal_their_read_back(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    built = common._appended_out

    def checked(appended: Any, signature: Any) -> dict[str, Any]:
        mine = built(appended, signature)
        read_back = common.event_out(Event.objects.get(pk=appended.id))
        as_json = [json.dumps(x, cls=DjangoJSONEncoder, sort_keys=True) for x in (mine, read_back)]
        assert as_json[0] == as_json[1]
        compared.append((str(mine["type"]), bool(mine["signatures"])))
        return mine

    monkeypatch.setattr(common, "_appended_out", checked)
    yield


def test_the_walks_compared_many_answers_signed_ones_among_them() -> None:
    # Collected after the imported walks, so it runs after them.
    assert len(compared) >= 10
    assert any(signed for _, signed in compared)
