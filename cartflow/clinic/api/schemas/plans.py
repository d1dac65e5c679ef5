"""Request and response schemas of the plan routes (api/plans.py)."""

from __future__ import annotations

from datetime import date

from ninja import Schema
from pydantic import Field

from cartflow.clinic.api.schemas.common import StepIn
from cartflow.clinic.api.schemas.fields import Text


class LegOut(Schema):
    leg: str
    on: date


class ProposalOut(Schema):
    proposal: str = Field(description="send it back to accept exactly this proposal")
    site: str
    legs: list[LegOut]
    vein_to_vein_days: int
    books_chair: bool


class AcceptedOut(Schema):
    plan_id: str
    status: str
    centre: str
    manufacturing_site: str
    legs: list[LegOut]
    reason: str


class PlanOut(Schema):
    coi: str
    today: date
    proposed: ProposalOut | None
    no_plan: str | None = Field(None, description="why no plan is proposed")
    missing_facts: list[str] = Field(default_factory=list)
    accepted: AcceptedOut | None


class AcceptIn(StepIn):
    proposal: str = Field(
        "", max_length=64, description="the proposal you saw; 409 if the proposal changed since"
    )


class ReasonIn(StepIn):
    reason: Text


class WeekOut(Schema):
    monday: date
    chairs_offered: int
    chairs_taken: int
    manufacturing_offered: int
    manufacturing_taken: int
    infusions_planned: int
    infusion_beds: int
    monitoring_bed_days: int
    monitoring_capacity: int


class WeeksFilter(Schema):
    weeks: int = Field(8, ge=1, le=52)
