"""Response assessments and the end of a CRS or ICANS episode: what a registry asks after
the infusion, recorded as observations of the case."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cartflow.domain.errors import InvalidInput
from cartflow.domain.journey import (
    GradeCrs,
    JourneyError,
    RecordResponseAssessment,
    ResolveToxicity,
    Step,
    replay,
)
from cartflow.domain.journey.time_windows import local_date
from tests.domain.journey_cases import NEW_YORK, Journey


def _infused() -> Journey:
    return Journey().walk_to(Step.INFUSED)


def test_a_response_is_recorded_with_its_method_date_and_day() -> None:
    j = _infused().later(days=30)
    infused_on = local_date(j.state.first_infusion_at, NEW_YORK)  # type: ignore[arg-type]
    on = infused_on + timedelta(days=28)
    j.do(
        RecordResponseAssessment(
            actor="dr-1", response="complete_remission", method="pet_ct", assessed_on=on
        )
    )
    (record,) = j.state.responses
    assert (record.response, record.method, record.assessed_on, record.day) == (
        "complete_remission",
        "pet_ct",
        on,
        28,
    )


def test_a_response_before_the_infusion_is_refused() -> None:
    j = Journey().walk_to(Step.LYMPHODEPLETED)
    with pytest.raises(JourneyError, match="after the infusion"):
        j.do(
            RecordResponseAssessment(
                actor="dr-1", response="relapse", method="ct", assessed_on=j.now.date()
            )
        )
    j = _infused().later(days=2)
    with pytest.raises(InvalidInput, match="response: one of"):
        j.do(
            RecordResponseAssessment(
                actor="dr-1", response="cured", method="ct", assessed_on=j.now.date()
            )
        )


def test_an_episode_resolves_with_its_onset_worst_grade_and_treatments() -> None:
    j = _infused().later(days=1)
    j.do(GradeCrs(actor="dr-1", temperature_c=39.0, hypotension="none", oxygen="none"))
    onset = j.now
    j.later(hours=6)
    j.do(GradeCrs(actor="dr-1", temperature_c=39.5, hypotension="no-vasopressors", oxygen="none"))
    j.later(days=2)
    j.do(
        ResolveToxicity(actor="dr-1", syndrome="crs", treatments=("tocilizumab", "corticosteroids"))
    )
    (episode,) = j.state.toxicity_resolutions
    assert episode.onset_at == onset
    assert episode.max_grade == 2
    assert episode.treatments == ("corticosteroids", "tocilizumab")
    assert replay(j.log) == j.state


def test_there_is_nothing_to_resolve_without_an_open_episode() -> None:
    j = _infused().later(days=1)
    with pytest.raises(JourneyError) as refused:
        j.do(ResolveToxicity(actor="dr-1", syndrome="icans"))
    assert refused.value.rule_id == "toxicity.no_open_episode"
    j.do(GradeCrs(actor="dr-1", temperature_c=38.5, hypotension="none", oxygen="none"))
    j.later(days=1)
    j.do(ResolveToxicity(actor="dr-1", syndrome="crs"))
    j.later(hours=1)
    with pytest.raises(JourneyError, match="no open CRS episode"):
        j.do(ResolveToxicity(actor="dr-1", syndrome="crs"))
