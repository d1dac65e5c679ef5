"""The terminal walk-through takes one synthetic patient through all six steps."""

from __future__ import annotations

import pytest

from cartflow.cli import main


def test_it_walks_through_all_six_steps_and_shows_two_refusals(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["walkthrough"]) == 0
    out = capsys.readouterr().out
    for step in ("1. referral", "2. leukapheresis", "3. manufacturing", "4. shipped",
                 "5. lymphodepleting", "6. monitoring"):
        assert step in out
    assert out.count("REFUSED:") == 2
    assert "now: long_term_follow_up" in out
    assert "hash chain verified: True" in out
    assert "verified False, first broken link at entry 6" in out


def test_it_names_no_realistic_patient(capsys: pytest.CaptureFixture[str]) -> None:
    main(["walkthrough"])
    assert "Demo Patient-001 (synthetic)" in capsys.readouterr().out
