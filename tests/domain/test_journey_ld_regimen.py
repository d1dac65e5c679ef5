"""StartLymphodepletion names one of the label's lymphodepleting regimens for the indication in
force on the date and region (by the catalog's regimen id); the event records the regimen used.

tisagenlecleucel LBCL (US): flu-cy (fludarabine 25 mg/m2 x3, cyclophosphamide 250 mg/m2 x3) or
bendamustine 90 mg/m2 x2 (when cyclophosphamide cannot be given).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from cartflow.domain.catalog import Catalog, Fact, FactName, FactStatus, FactVersion, RuleKind
from cartflow.domain.events import Event
from cartflow.domain.journey import (
    FactMissing,
    JourneyError,
    ModifyFludarabineDose,
    RecordSiteProtocolValue,
    StartLymphodepletion,
    Step,
    apply,
    replay,
)
from cartflow.domain.journey import event_types as T
from cartflow.domain.journey.regimens import regimens_for_case
from cartflow.domain.roles import Role
from tests.domain.journey_cases import LBCL, Journey, catalog

SITE_REGIMEN = [
    {
        "id": "site-flu-cy",
        "drugs": [
            {"drug": "fludarabine", "mg_per_m2": 30, "days": 3},
            {"drug": "cyclophosphamide", "mg_per_m2": 500, "days": 3},
        ],
    }
]


def with_unknown_regimen(source: Catalog, indication_id: str) -> Catalog:
    """The catalog with the indication's regimen UNCONFIRMED (as for equecabtagene)."""
    unknown = Fact(
        FactName.LYMPHODEPLETION,
        (FactVersion(None, FactStatus.UNKNOWN, note="UNCONFIRMED: regimen not in the reference"),),
    )
    products = []
    for product in source.products:
        indications = tuple(
            replace(i, facts={**i.facts, FactName.LYMPHODEPLETION: unknown})
            if i.id == indication_id
            else i
            for i in product.indications
        )
        products.append(replace(product, indications=indications))
    return replace(source, products=tuple(products))


def start(regimen: str) -> StartLymphodepletion:
    return StartLymphodepletion(actor="physician-1", regimen=regimen)


def test_the_labels_regimen_by_id_starts_lymphodepletion_and_is_recorded() -> None:
    j = Journey().walk_to(Step.AVAILABLE)
    (event,) = j.do(start(" FLU-CY "))
    assert j.state.step is Step.LYMPHODEPLETING
    assert j.state.ld_courses[-1].regimen == "flu-cy"
    assert event.schema_version == T.CURRENT_VERSION[T.LD_STARTED] == 2
    assert event.data["regimen"] == "flu-cy"
    assert event.data["regimen_drugs"] == [
        {"drug": "fludarabine", "mg_per_m2": 25, "days": 3},
        {"drug": "cyclophosphamide", "mg_per_m2": 250, "days": 3},
    ]
    (fact,) = event.data["facts"]
    assert fact["name"] == "lymphodepletion" and fact["status"] == "label"


def test_the_labels_alternative_regimen_is_accepted_with_its_use() -> None:
    j = Journey().walk_to(Step.AVAILABLE)
    (event,) = j.do(start("bendamustine"))
    assert event.data["regimen_drugs"] == [{"drug": "bendamustine", "mg_per_m2": 90, "days": 2}]
    assert "cystitis" in event.data["regimen_use_when"]


@pytest.mark.parametrize(
    "text", ["fludarabine + cyclophosphamide", "cy-flu", "R-CHOP", "flu-cy x3 days"]
)
def test_any_other_regimen_is_refused_naming_the_labels_regimens(text: str) -> None:
    j = Journey().walk_to(Step.AVAILABLE)
    with pytest.raises(JourneyError) as caught:
        j.do(start(text))
    error = caught.value
    message = str(error)
    assert error.state == "available" and error.attempted == "StartLymphodepletion"
    assert error.kind is RuleKind.LABEL and "label rule" in message
    assert error.source.startswith("label source [") and f"source: {error.source}" in message
    assert "flu-cy (fludarabine 25 mg/m2 x3 day(s), cyclophosphamide 250 mg/m2 x3 day(s))" in (
        message
    )
    assert "bendamustine (bendamustine 90 mg/m2 x2 day(s))" in message
    assert repr(text) in message and LBCL in message
    assert j.state.step is Step.AVAILABLE


def test_a_repeat_course_is_checked_against_the_label_too() -> None:
    j = Journey(region="EU", timezone="Europe/Paris").walk_to(Step.LYMPHODEPLETED)
    j.later(days=29)
    with pytest.raises(JourneyError, match="lymphodepleting regimens"):
        j.do(start("fludarabine + cyclophosphamide"))
    (event,) = j.do(start("flu-cy"))
    assert event.data["repeat"] is True and event.data["regimen"] == "flu-cy"


def test_an_unknown_regimen_blocks_until_the_site_records_its_protocol() -> None:
    j = Journey(catalog=with_unknown_regimen(catalog(), LBCL)).walk_to(Step.AVAILABLE)
    with pytest.raises(FactMissing) as caught:
        j.do(start("flu-cy"))
    assert "not in the catalog" in str(caught.value) and "lymphodepletion" in str(caught.value)
    j.do(
        RecordSiteProtocolValue(
            actor="p",
            fact="lymphodepletion",
            value=SITE_REGIMEN,
            document_ref="SOP-LD-002 rev 1",
            effective_on=date(2026, 1, 1),
            signature=j.sign(Role.PHYSICIAN),
        )
    )
    with pytest.raises(JourneyError) as refused:
        j.do(start("flu-cy"))
    assert refused.value.kind is RuleKind.SITE_POLICY
    assert refused.value.source == "site protocol SOP-LD-002 rev 1"
    assert "site protocol's lymphodepleting regimens" in str(refused.value)
    (event,) = j.do(start("site-flu-cy"))
    assert j.state.step is Step.LYMPHODEPLETING
    assert event.data["regimen_drugs"][1] == {
        "drug": "cyclophosphamide",
        "mg_per_m2": 500,
        "days": 3,
    }
    (fact,) = event.data["facts"]
    assert fact["status"] == "site_protocol" and fact["source"] == "site protocol SOP-LD-002 rev 1"


def test_a_signed_fludarabine_reduction_still_applies_and_is_recorded() -> None:
    j = Journey().walk_to(Step.AVAILABLE)
    j.do(
        ModifyFludarabineDose(
            actor="p",
            creatinine_clearance_ml_min=55,
            reduction_percent=20,
            reason="creatinine clearance 55 mL/min",
            signature=j.sign(Role.PHYSICIAN),
        )
    )
    (event,) = j.do(start("flu-cy"))
    flu, cy = event.data["regimen_drugs"]
    assert flu == {"drug": "fludarabine", "mg_per_m2": 25, "days": 3, "reduced_by_percent": 20.0}
    assert "reduced_by_percent" not in cy
    j.do(
        ModifyFludarabineDose(
            actor="p",
            creatinine_clearance_ml_min=40,
            reduction_percent=30,
            reason="creatinine clearance fell to 40 mL/min",
            signature=j.sign(Role.PHYSICIAN),
        )
    )
    assert j.state.step is Step.LYMPHODEPLETING


def test_apply_reads_version_1_and_version_2_of_ld_started() -> None:
    j = Journey().walk_to(Step.AVAILABLE)
    before = j.state
    (v2,) = j.do(start("flu-cy"))
    v1 = Event(
        T.LD_STARTED,
        v2.occurred_at,
        "physician-1",
        {"regimen": "fludarabine + cyclophosphamide", "repeat": False},
        1,
        v2.site,
    )
    one, two = apply(before, v1), apply(before, v2)
    assert one.anomalies == two.anomalies == ()
    assert one.step is two.step is Step.LYMPHODEPLETING
    assert one.ld_courses[-1].regimen == "fludarabine + cyclophosphamide"
    assert two.ld_courses[-1].regimen == "flu-cy"
    assert replay([*j.log[:-1], v1.to_body()]).step is Step.LYMPHODEPLETING


def test_the_regimens_a_case_may_be_given_are_exactly_those_the_guard_accepts() -> None:
    j = Journey().walk_to(Step.AVAILABLE)
    given = regimens_for_case(j.state, j.catalog, j.now)
    assert [r["id"] for r in given.regimens] == ["flu-cy", "bendamustine"]
    assert given.whose == "the label's" and given.named("FLU-CY") is not None
    assert given.named("cy-flu") is None
    with pytest.raises(JourneyError, match="one of the label's lymphodepleting regimens"):
        j.do(start("cy-flu"))
    j.do(start(str(given.regimens[1]["id"])))
    assert j.state.ld_courses[-1].regimen == "bendamustine"


def test_an_unknown_regimen_is_missing_for_the_page_and_the_guard_alike() -> None:
    j = Journey(catalog=with_unknown_regimen(catalog(), LBCL)).walk_to(Step.AVAILABLE)
    with pytest.raises(FactMissing) as for_the_page:
        regimens_for_case(j.state, j.catalog, j.now)
    with pytest.raises(FactMissing) as for_the_guard:
        j.do(start("flu-cy"))
    assert for_the_page.value.rule == for_the_guard.value.rule
