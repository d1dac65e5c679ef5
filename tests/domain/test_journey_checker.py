"""The independent checker can fail: each guard removed from a good log is reported."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from cartflow.domain.journey import OmitLymphodepletion, Step
from cartflow.domain.roles import Role
from tests.domain.journey_cases import OTHER_COI, Journey
from tests.domain.journey_checker import check_log

Log = list[dict[str, Any]]


def good_log() -> Log:
    return Journey().walk_to(Step.LONG_TERM_FOLLOW_UP).log


def first(log: Log, kind: str) -> dict[str, Any]:
    return next(b for b in log if b["type"] == kind)


def drop(kind: str) -> Callable[[Log], Log]:
    return lambda log: [b for b in log if b["type"] != kind]


def signed_by(kind: str, role: str) -> Callable[[Log], Log]:
    def change(log: Log) -> Log:
        first(log, kind)["data"]["signature"]["role"] = role
        return log

    return change


def scanned(kind: str, field: str, value: Any) -> Callable[[Log], Log]:
    def change(log: Log) -> Log:
        first(log, kind)["data"][field] = value
        return log

    return change


def shifted(kind: str, delta: timedelta) -> Callable[[Log], Log]:
    def change(log: Log) -> Log:
        body = first(log, kind)
        body["occurred_at"] = (datetime.fromisoformat(body["occurred_at"]) + delta).isoformat()
        return log

    return change


def warm_transit(log: Log) -> Log:
    shipped = log.index(first(log, "product.shipped"))
    reading = copy.deepcopy(log[shipped])
    reading["type"] = "product.temperature_recorded"
    reading["data"] = {
        "celsius": -100.0,
        "limit_celsius": -120.0,
        "excursion": True,
        "location": "hub",
    }
    return [*log[: shipped + 1], reading, *log[shipped + 1 :]]


def dose_outside(log: Log) -> Log:
    first(log, "product.released")["data"]["dose_cells"] = 7e8
    return log


TAMPERING: dict[str, tuple[Callable[[Log], Log], str]] = {
    "eligibility removed": (drop("eligibility.signed"), "eligibility"),
    "eligibility signed by a coordinator": (
        signed_by("eligibility.signed", "coordinator"),
        "eligibility",
    ),
    "release removed": (drop("product.released"), "released"),
    "dose outside the recorded range": (dose_outside, "released"),
    "quarantine without a quality release": (warm_transit, "quarantined"),
    "receipt scan of another case": (
        scanned("product.received", "scanned_coi", OTHER_COI.barcode),
        "received",
    ),
    "receipt removed": (drop("product.received"), "received"),
    "lymphodepletion not completed": (drop("ld.completed"), "lymphodepletion"),
    "lymphodepletion with a regimen outside the label's": (
        scanned("ld.started", "regimen", "fludarabine + cyclophosphamide"),
        "regimen",
    ),
    "lymphodepletion ended a day before the window": (
        shifted("ld.completed", timedelta(days=-10)),
        "outside",
    ),
    "thaw removed": (drop("product.thawed"), "thawed"),
    "thaw 40 minutes before infusion": (
        shifted("product.thawed", timedelta(minutes=-30)),
        "thawed",
    ),
    "wristband that matched nothing": (
        scanned("bedside.verified", "wristband", "none"),
        "bedside",
    ),
    "second identifier not confirmed": (
        scanned("bedside.verified", "identity", ""),
        "bedside",
    ),
    "bag label of another case": (
        scanned("bedside.verified", "scanned_bag_label", OTHER_COI.barcode),
        "bedside",
    ),
    "another bag at the bedside": (
        scanned("bedside.verified", "scanned_bag_id", "BAG-9"),
        "bedside",
    ),
    "bedside check removed": (drop("bedside.verified"), "bedside check"),
    "the nurse as her own witness": (
        scanned("bedside.verified", "performer", {"user_id": "physician-1", "role": "pharmacy"}),
        "two people",
    ),
    "infusion signed by a nurse": (signed_by("product.infused", "pharmacy"), "physician"),
}


def test_the_checker_finds_nothing_wrong_with_a_good_log() -> None:
    assert check_log(good_log()) == []


@pytest.mark.parametrize("name", sorted(TAMPERING))
def test_the_checker_reports_an_infusion_without_its_guard(name: str) -> None:
    change, words = TAMPERING[name]
    problems = check_log(change(copy.deepcopy(good_log())))
    assert problems, name
    assert any(words in p for p in problems), problems


def test_the_checker_accepts_a_signed_omission_with_a_recent_low_count_and_no_other() -> None:
    j = Journey().walk_to(Step.AVAILABLE)
    j.do(
        OmitLymphodepletion(
            actor="p",
            wbc_per_l=8e8,
            wbc_measured_at=j.now,
            reason="low count",
            signature=j.sign(Role.PHYSICIAN),
        )
    )
    j.later(hours=3).walk_to(Step.INFUSED)
    assert check_log(j.log) == []
    unsigned = copy.deepcopy(j.log)
    first(unsigned, "exception.ld_omitted")["data"]["signature"]["role"] = "coordinator"
    assert any("lymphodepletion" in p for p in check_log(unsigned))
