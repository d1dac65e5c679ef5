"""A lot's expiry, as the manufacturer's release states it: kept with each released bag,
refused when it is not after the release, absent (not invented) where the release states
none, and read back from the log the same."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from cartflow.domain.errors import InvalidInput
from cartflow.domain.journey import JourneyError, Step, replay
from tests.domain.journey_cases import Journey


def test_the_release_keeps_each_bag_s_expiry_and_the_log_reads_it_back() -> None:
    j = Journey().walk_to(Step.MANUFACTURING)
    expiry = j.now + timedelta(days=270)
    release = j.release()
    release = replace(release, bags=tuple(replace(b, expires_at=expiry) for b in release.bags))
    (event, *_rest) = j.do(release)
    assert event.data["bags"][0]["expires_at"] == expiry.isoformat()
    assert j.state.step is Step.RELEASED
    assert [b.expires_at for b in j.state.bags] == [expiry] * len(j.state.bags)
    assert replay(j.log).bags == j.state.bags


def test_a_release_without_an_expiry_states_none_and_invents_none() -> None:
    j = Journey().walk_to(Step.MANUFACTURING)
    (event, *_rest) = j.do(j.release())
    assert "expires_at" not in event.data["bags"][0]
    assert all(b.expires_at is None for b in j.state.bags)


def test_an_expiry_not_after_the_release_or_without_its_zone_is_refused() -> None:
    j = Journey().walk_to(Step.MANUFACTURING)
    release = j.release()
    past = replace(release, bags=tuple(replace(b, expires_at=j.now) for b in release.bags))
    with pytest.raises(JourneyError, match="not after the release"):
        j.do(past)
    naive = (j.now + timedelta(days=30)).replace(tzinfo=None)
    no_zone = replace(release, bags=tuple(replace(b, expires_at=naive) for b in release.bags))
    with pytest.raises(InvalidInput, match="time zone"):
        j.do(no_zone)
    assert j.state.step is Step.MANUFACTURING
