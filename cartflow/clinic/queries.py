"""Reads the pages and the API share; each is a fixed number of queries, whatever the count."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet

from cartflow.clinic.models import CaseProjection, Event, Signature, TherapyCase
from cartflow.domain import events
from cartflow.domain.journey import payloads


def active_board(cases: QuerySet[Any] | None = None) -> list[dict[str, Any]]:
    """The journey board: every active case, its step and how long it has been there.

    One query: the projection carries the step and state, joined to its case and treating
    site. ``cases`` narrows it to what the user may see (``access.cases_visible_to``).
    """
    rows = CaseProjection.objects.filter(active=True).select_related("case__treating_site")
    if cases is not None:
        rows = rows.filter(case__in=cases)
    return [
        {
            "coi": row.case.coi,
            "product": row.case.product,
            "site": row.case.treating_site.slug,
            "step": row.step,
            "version": row.version,
            "updated_at": row.updated_at,
            # Read from the JSON, not the typed state: the store folds any CaseMachine (its
            # tests use a toy one), and every machine's projection names what it waits for.
            "waiting_for": row.state.get("waiting_for", ""),
        }
        for row in rows.order_by("case__treating_site__slug", "updated_at")
    ]


def case_timeline(case: TherapyCase) -> list[dict[str, Any]]:
    """A case's events in order, each with the signatures that sign it (21 CFR 11.50).

    Two queries whatever the length: the events, then every signature of the case. A
    signature is shown under the event whose hash it signed, as printed name, time and
    meaning.
    """
    rows = list(
        Event.objects.filter(case=case)
        .order_by("seq")
        .values("seq", "type", "occurred_at", "recorded_at", "actor", "hash", "body")
    )
    signed: dict[str, list[dict[str, Any]]] = {}
    for signature in Signature.objects.filter(event__case=case).order_by("signed_at"):
        signed.setdefault(signature.event_hash, []).append(
            {
                "signer": signature.signer_name,
                "signed_at": signature.signed_at,
                "meaning": signature.meaning,
                "method": signature.method,
                "manifestation": signature.manifestation(),
            }
        )
    bodies = [json.loads(bytes(event["body"])) for event in rows]
    return [
        {
            "seq": event["seq"],
            "type": event["type"],
            "schema_version": int(body.get("schema_version", 1)),
            "occurred_at": event["occurred_at"],
            "recorded_at": event["recorded_at"],
            "actor": event["actor"],
            "hash": event["hash"],
            "data": body.get("data", {}),
            "signatures": signed.get(event["hash"], []),
        }
        for event, body in zip(rows, bodies, strict=True)
    ]


def payload_of(entry: Mapping[str, Any]) -> payloads.Payload:
    """The typed payload of a journey event in :func:`case_timeline` (an older version read
    and upgraded); ``MalformedData`` if its data is not what the type records."""
    event = events.Event(
        type=entry["type"],
        occurred_at=entry["occurred_at"],
        actor=entry["actor"],
        data=entry["data"],
        schema_version=entry["schema_version"],
    )
    return payloads.read(event)
