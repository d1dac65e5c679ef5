"""Rebuild every stored case projection from its log.

The journey now folds the records the clinic used to write beside it (CRS and ICANS grades,
transgene levels, bedside checks, deviations) into the case state; the projections stored
before this change lack those fields. The log is the truth: fold it again.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import migrations


def rebuild(apps: Any, schema_editor: Any) -> None:
    from cartflow.clinic.services.machine import STORE_EVENT_TYPES
    from cartflow.domain.events import Event as DomainEvent
    from cartflow.domain.journey import CaseState, apply

    Event = apps.get_model("clinic", "Event")
    CaseProjection = apps.get_model("clinic", "CaseProjection")
    for projection in CaseProjection.objects.order_by("pk").iterator():
        state = CaseState()
        for row in Event.objects.filter(case_id=projection.case_id).order_by("seq").iterator():
            body = json.loads(bytes(row.body))
            if body.get("type") in STORE_EVENT_TYPES:
                continue
            state = apply(state, DomainEvent.from_body(body))
        projection.state = state.to_dict()
        projection.step = str(state.step)
        projection.active = not state.is_closed
        projection.save(update_fields=["state", "step", "active"])


class Migration(migrations.Migration):
    dependencies = [("clinic", "0002_append_only")]

    operations = [migrations.RunPython(rebuild, migrations.RunPython.noop)]
