"""The command line reaches the same services as the pages and the API: signed withdrawal
and death (the password re-entered), deviation review, and the blocks the case page shows,
in the same words."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from cartflow.cli import main
from cartflow.clinic.case_state import case_state
from tests.browser.network import AFTER_INFUSION, PATIENT, build_network, password, username
from tests.clinic.test_pages_journey import Pages

pytestmark = pytest.mark.django_db


@pytest.fixture
def pages() -> Pages:
    return Pages(build_network(timezone.now()))


def test_a_withdrawal_from_the_command_line_is_signed_or_refused(
    pages: Pages, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pages.register_and_refer()
    args = ["case", "withdraw", pages.coi, "--as", username("coordinator"), "--reason", "moved"]
    monkeypatch.setenv("CARTFLOW_PASSWORD", "not the password")
    assert main(args) == 2
    assert "password is not correct" in capsys.readouterr().err
    assert pages.case().projection.step != "withdrawn"
    monkeypatch.setenv("CARTFLOW_PASSWORD", password("coordinator"))
    assert main([*args, "--json"]) == 0
    done = json.loads(capsys.readouterr().out)
    assert done["step"] == "withdrawn" and "Signed by" in done["recorded"]
    state = case_state(pages.case())
    assert state.signatures[-1].event_type == "case.withdrawn"
    assert state.signatures[-1].role == "coordinator"


def test_the_command_line_prints_the_blocks_the_case_page_shows(
    pages: Pages, capsys: pytest.CaptureFixture[str]
) -> None:
    pages.walk_to_thaw()
    pages.infuse()
    pages.do(AFTER_INFUSION[0])
    assert main(["case", "blocks", pages.coi]) == 0
    out = capsys.readouterr().out
    assert "Not yet possible: Complete the monitoring period. Monitoring may be completed" in out
    page = pages.as_("physician").get(f"/cases/{pages.coi}/").content.decode()
    words = out.split("Not yet possible: Complete the monitoring period. ", 1)[1].split(" (", 1)[0]
    assert words in page


def test_deviations_are_reviewed_from_the_command_line_with_a_comment(
    pages: Pages, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pages.walk_to_thaw()
    scans = {
        "wristband": PATIENT["record_number"],
        "identity": "confirmed",
        "bag_label": "W800126999999X",
        "bag_id": "WRONG-BAG-7",
    }
    assert pages.bedside(**scans).status_code == 422
    monkeypatch.setenv("CARTFLOW_PASSWORD", password("quality"))
    review = ["case", "review-deviations", pages.coi, "--as", username("quality")]
    assert main([*review, "--numbers", "1", "--comment", "bag returned"]) == 0
    assert "reviewed and signed by" in capsys.readouterr().out
    (deviation,) = case_state(pages.case()).deviations
    assert deviation.reviewed and deviation.review_comment == "bag returned"
    assert main([*review, "--numbers", "1", "--comment", "again"]) == 2
    err = capsys.readouterr().err
    assert "Deviation number 1 was already reviewed; a review is never replaced." in err


def test_a_death_is_signed_by_a_physician_from_the_command_line(
    pages: Pages, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pages.register_and_refer()
    monkeypatch.setenv("CARTFLOW_PASSWORD", password("coordinator"))
    by_coordinator = ["case", "death", pages.coi, "--as", username("coordinator")]
    assert main([*by_coordinator, "--reason", "sepsis"]) == 2
    assert "holds no role that may do this" in capsys.readouterr().err
    monkeypatch.setenv("CARTFLOW_PASSWORD", password("physician"))
    assert (
        main(["case", "death", pages.coi, "--as", username("physician"), "--reason", "sepsis"]) == 0
    )
    out = capsys.readouterr().out
    assert "Signed by" in out and "The case is closed." in out
    assert case_state(pages.case()).signatures[-1].event_type == "case.deceased"
