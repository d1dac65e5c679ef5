"""A site's register of signed protocol values: supersession by date, the one resolution of a
fact (label first, then the site's signed value in force, then a value on the case), the
checks on what a site may sign, the journey's guards reading it, and the fludarabine renal
schedule by clearance band in the unit the site states."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, seed, settings
from hypothesis import strategies as st

from cartflow.catalog_file import load_catalog
from cartflow.domain import dosing, journey
from cartflow.domain.catalog import FactStatus, SiteProtocolValue
from cartflow.domain.errors import InvalidInput, NotInCatalog
from cartflow.domain.journey import FactMissing
from cartflow.domain.renal import check_renal_schedule, describe, renal_reduction
from cartflow.domain.roles import Role
from cartflow.domain.site_register import (
    RegisterEntry,
    Used,
    check_entry,
    entry_in_force,
    resolve_fact,
    unknown_facts,
    values_in_force,
)

CATALOG = load_catalog()
CNCT19 = "inaticabtagene-autoleucel/b-all"
WINDOW = "infusion_window_days"


def entry(
    seq: int,
    value: object,
    *,
    start: date = date(2026, 1, 1),
    end: date | None = None,
    fact: str = WINDOW,
    site: str = "site-a",
    indication: str = CNCT19,
    role: Role = Role.PHYSICIAN,
) -> RegisterEntry:
    return RegisterEntry(
        site=site,
        indication=indication,
        fact=fact,
        value=value,
        document_ref=f"SOP-{seq} (synthetic)",
        effective_from=start,
        effective_to=end,
        signed_by="signer-1",
        signer_role=role,
        sequence=seq,
    )


def test_a_later_entry_supersedes_from_its_own_date_and_the_earlier_still_answers_before() -> None:
    first = entry(1, [2, 14])
    second = entry(2, [2, 10], start=date(2026, 6, 1))
    register = (first, second)
    assert entry_in_force(register, "site-a", CNCT19, WINDOW, date(2026, 5, 31)) == first
    assert entry_in_force(register, "site-a", CNCT19, WINDOW, date(2026, 6, 1)) == second
    assert entry_in_force(register, "site-a", CNCT19, WINDOW, date(2025, 12, 31)) is None
    assert entry_in_force(register, "site-b", CNCT19, WINDOW, date(2026, 7, 1)) is None


def test_an_entry_ends_on_its_last_day_exclusive() -> None:
    bounded = entry(1, [2, 14], end=date(2026, 3, 1))
    assert entry_in_force((bounded,), "site-a", CNCT19, WINDOW, date(2026, 2, 28)) == bounded
    assert entry_in_force((bounded,), "site-a", CNCT19, WINDOW, date(2026, 3, 1)) is None


def test_resolve_fact_says_the_site_value_was_used_and_names_its_document() -> None:
    found = resolve_fact(
        CATALOG,
        (entry(1, [2, 14]),),
        site="site-a",
        indication=CNCT19,
        fact=WINDOW,
        on=date(2026, 11, 30),
        region="CN",
    )
    assert found.used is Used.SITE_REGISTER
    assert found.fact.value == [2, 14]
    assert found.fact.status is FactStatus.SITE_PROTOCOL
    assert found.fact.source.startswith("site protocol SOP-1 (synthetic)")


def test_resolve_fact_uses_the_label_when_the_catalog_knows_it_whatever_the_site_signed() -> None:
    # tisagenlecleucel B-ALL's window is a label fact: a site entry never replaces it.
    found = resolve_fact(
        CATALOG,
        (entry(1, [2, 30], indication="tisagenlecleucel/b-all"),),
        site="site-a",
        indication="tisagenlecleucel/b-all",
        fact=WINDOW,
        on=date(2026, 11, 30),
        region="US",
    )
    assert found.used is Used.LABEL and found.fact.value != [2, 30]


def test_resolve_fact_falls_back_to_a_value_recorded_on_the_case_then_refuses() -> None:
    old = SiteProtocolValue(CNCT19, WINDOW, [3, 9], "OLD-SOP", "p", date(2024, 1, 1))
    found = resolve_fact(
        CATALOG,
        (),
        site="site-a",
        indication=CNCT19,
        fact=WINDOW,
        on=date(2026, 11, 30),
        region="CN",
        case_values=(old,),
    )
    assert found.used is Used.CASE_VALUE and found.fact.value == [3, 9]
    with pytest.raises(NotInCatalog, match="not in the catalog"):
        resolve_fact(
            CATALOG,
            (),
            site="site-a",
            indication=CNCT19,
            fact=WINDOW,
            on=date(2026, 11, 30),
            region="CN",
        )


def test_values_in_force_puts_the_register_before_the_case_values() -> None:
    old = SiteProtocolValue(CNCT19, WINDOW, [3, 9], "OLD-SOP", "p", date(2024, 1, 1))
    values = values_in_force((entry(1, [2, 14]),), "site-a", date(2026, 11, 30), (old,))
    assert [v.value for v in values] == [[2, 14], [3, 9]]
    indication = CATALOG.indication(CNCT19)
    assert indication.resolve(WINDOW, date(2026, 11, 30), "CN", values).value == [2, 14]


@seed(9)
@settings(deadline=None, max_examples=60, derandomize=True)
@given(
    starts=st.lists(st.integers(min_value=0, max_value=300), min_size=1, max_size=6),
    day=st.integers(min_value=0, max_value=400),
)
def test_the_value_in_force_is_the_last_signed_among_those_started(
    starts: list[int], day: int
) -> None:
    base = date(2026, 1, 1).toordinal()
    register = tuple(
        entry(i, [2, i + 3], start=date.fromordinal(base + s)) for i, s in enumerate(starts, 1)
    )
    on = date.fromordinal(base + day)
    found = entry_in_force(register, "site-a", CNCT19, WINDOW, on)
    started = [e for e in register if e.effective_from <= on]
    assert found == (max(started, key=lambda e: e.sequence) if started else None)


def test_check_entry_refuses_what_a_site_may_not_sign() -> None:
    check_entry(CATALOG, entry(1, [2, 14]), "CN")  # accepted
    with pytest.raises(InvalidInput, match="label gives"):
        check_entry(CATALOG, entry(1, [2, 14], indication="tisagenlecleucel/b-all"), "US")
    with pytest.raises(InvalidInput, match="unknown fact"):
        check_entry(CATALOG, entry(1, 3, fact="colour"), "CN")
    with pytest.raises(InvalidInput, match="physician or a quality reviewer"):
        check_entry(CATALOG, entry(1, [2, 14], role=Role.COORDINATOR), "CN")
    with pytest.raises(InvalidInput, match="last day"):
        check_entry(CATALOG, entry(1, [2, 14], end=date(2026, 1, 1)), "CN")
    with pytest.raises(InvalidInput, match="infusion_window_days"):
        check_entry(CATALOG, entry(1, "two weeks"), "CN")
    with pytest.raises(InvalidInput, match="unknown indication"):
        check_entry(CATALOG, entry(1, [2, 14], indication="nothing/b-all"), "CN")


def test_unknown_facts_lists_what_the_catalog_does_not_know_for_cnct19() -> None:
    facts = unknown_facts(CATALOG.indication(CNCT19), date(2026, 11, 30), "CN")
    assert {"dose", "lymphodepletion", WINDOW} <= set(facts)
    assert "age" not in facts  # "adult patients": a label fact
    assert "fludarabine_renal_adjustment" in facts


# --- the journey reads the register ---------------------------------------------------------

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _referred() -> journey.CaseState:
    refer = journey.ReferPatient(
        actor="physician-1",
        coi="G123498654321H",
        product_id="inaticabtagene-autoleucel",
        indication_id=CNCT19,
        region="CN",
        site="site-a",
        site_timezone="Asia/Shanghai",
    )
    state = journey.CaseState()
    for event in journey.decide(state, refer, CATALOG, NOW):
        state = journey.apply(state, event)
    return state


def test_a_guard_reads_the_sites_value_in_force_on_the_command_date() -> None:
    from cartflow.domain.journey.guards import Context

    state = _referred()
    register = (entry(1, [2, 14]), entry(2, [2, 10], start=date(2026, 12, 1)))
    ctx = Context(state, CATALOG, "ThawBag", NOW, NOW, register)
    assert ctx.resolve(WINDOW).value == [2, 14]
    later = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    assert Context(state, CATALOG, "ThawBag", later, later, register).resolve(WINDOW).value == [
        2,
        10,
    ]
    with pytest.raises(FactMissing):
        Context(state, CATALOG, "ThawBag", NOW, NOW, ()).resolve(WINDOW)
    other_site = (entry(1, [2, 14], site="site-b"),)
    with pytest.raises(FactMissing):
        Context(state, CATALOG, "ThawBag", NOW, NOW, other_site).resolve(WINDOW)


# --- the fludarabine renal schedule ------------------------------------------------------------

SCHEDULE = {
    "unit": "mL/min/1.73 m2",
    "bands": [
        {"from": 0, "below": 30, "reduce_by_percent": 100},
        {"from": 30, "below": 70, "reduce_by_percent": 20},
        {"from": 70, "below": None, "reduce_by_percent": 0},
    ],
}


def test_the_renal_schedule_gives_the_band_at_both_edges() -> None:
    assert renal_reduction(SCHEDULE, 29.9, "mL/min/1.73 m2")[0] == 100
    assert renal_reduction(SCHEDULE, 30, "mL/min/1.73 m2")[0] == 20
    assert renal_reduction(SCHEDULE, 69.9, "mL/min/1.73 m2")[0] == 20
    assert renal_reduction(SCHEDULE, 70, "mL/min/1.73 m2")[0] == 0
    assert "30 to 70 mL/min/1.73 m2: reduced by 20%" in describe(check_renal_schedule(SCHEDULE))


def test_a_clearance_in_another_unit_is_refused_never_converted() -> None:
    with pytest.raises(InvalidInput, match=r"states creatinine clearance in mL/min/1\.73 m2"):
        renal_reduction(SCHEDULE, 50, "mL/min")


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"unit": "mg/dL", "bands": SCHEDULE["bands"]}, "unit must be one of"),
        ({"unit": "mL/min", "bands": []}, "at least one band"),
        (
            {"unit": "mL/min", "bands": [{"from": 10, "below": None, "reduce_by_percent": 0}]},
            "must start at 0",
        ),
        (
            {"unit": "mL/min", "bands": [{"from": 0, "below": 30, "reduce_by_percent": 0}]},
            "open-ended",
        ),
        (
            {"unit": "mL/min", "bands": [{"from": 0, "below": None, "reduce_by_percent": 120}]},
            "percentage",
        ),
    ],
)
def test_a_malformed_schedule_is_refused_with_what_is_accepted(bad: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        check_renal_schedule(bad)


def test_the_lymphodepletion_plan_reads_the_sites_schedule_in_its_unit() -> None:
    indication = CATALOG.indication("ciltacabtagene-autoleucel/mm")
    value = SiteProtocolValue(
        indication.id, "fludarabine_renal_adjustment", SCHEDULE, "SOP-R", "p", date(2026, 1, 1)
    )
    plan = dosing.lymphodepletion_plan(
        indication,
        170,
        70,
        date(2026, 11, 30),
        "US",
        crcl_ml_min=50,
        site_values=[value],
        crcl_unit="mL/min/1.73 m2",
    )
    flu = next(d for d in plan.regimen.drugs if d.drug == "fludarabine")
    assert flu.unadjusted_daily_mg is not None
    assert flu.daily_mg == pytest.approx(round(flu.unadjusted_daily_mg * 0.8, 1), abs=0.11)
    assert any("reduced by 20%" in w and "site protocol SOP-R" in w for w in plan.warnings)
    stopped = dosing.lymphodepletion_plan(
        indication,
        170,
        70,
        date(2026, 11, 30),
        "US",
        crcl_ml_min=20,
        site_values=[value],
        crcl_unit="mL/min/1.73 m2",
    )
    assert next(d for d in stopped.regimen.drugs if d.drug == "fludarabine").daily_mg == 0.0
    with pytest.raises(InvalidInput, match=r"measure or enter it in mL/min/1\.73 m2"):
        dosing.lymphodepletion_plan(
            indication, 170, 70, date(2026, 11, 30), "US", crcl_ml_min=50, site_values=[value]
        )
