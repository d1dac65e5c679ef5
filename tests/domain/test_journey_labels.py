"""Label reconciliation: printing, applying, reprinting and voiding are events of the case, and
release waits until every printed label is accounted for."""

from __future__ import annotations

import pytest

from cartflow.domain.errors import InvalidInput
from cartflow.domain.journey import (
    ApplyLabels,
    JourneyError,
    PrintLabels,
    ReprintLabel,
    Step,
    VoidLabels,
    replay,
)
from cartflow.domain.journey.labels import RECONCILIATION_SOURCE
from tests.domain.journey_cases import Journey


def _manufacturing() -> Journey:
    return Journey().walk_to(Step.MANUFACTURING)


def test_printing_records_each_label_with_who_when_and_how_many() -> None:
    j = _manufacturing()
    (event,) = j.do(PrintLabels(actor="mfg-1", kind="product_bag", count=2))
    assert event.type == "label.printed"
    assert event.actor == "mfg-1" and event.occurred_at == j.now
    assert event.data["count"] == 2
    assert [(x.label_id, x.number, x.of, x.status) for x in j.state.labels] == [
        ("L001", 1, 2, "printed"),
        ("L002", 2, 2, "printed"),
    ]


def test_release_is_refused_while_one_printed_label_is_unreconciled() -> None:
    j = _manufacturing()
    j.do(PrintLabels(actor="mfg-1", kind="product_bag", count=1))
    j.do(PrintLabels(actor="mfg-1", kind="shipper"))
    j.do(ApplyLabels(actor="mfg-1", label_ids=("L001",)))
    with pytest.raises(JourneyError) as refused:
        j.do(j.release())
    assert refused.value.rule_id == "labels.unreconciled"
    assert "L002 (shipper)" in refused.value.rule
    assert refused.value.source == RECONCILIATION_SOURCE
    assert "FACT-JACIE" in str(refused.value)
    assert j.state.step is Step.MANUFACTURING


def test_release_is_accepted_once_the_label_is_applied() -> None:
    j = _manufacturing()
    j.do(PrintLabels(actor="mfg-1", kind="product_bag", count=1))
    j.do(ApplyLabels(actor="mfg-1", label_ids=("L001",)))
    j.do(j.release())
    assert j.state.step is Step.RELEASED


def test_release_is_accepted_once_the_label_is_voided_with_a_reason() -> None:
    j = _manufacturing()
    j.do(PrintLabels(actor="mfg-1", kind="product_bag", count=1))
    with pytest.raises(InvalidInput, match="reason"):
        j.do(VoidLabels(actor="mfg-1", label_ids=("L001",), reason=" "))
    (event,) = j.do(VoidLabels(actor="mfg-1", label_ids=("L001",), reason="smudged print"))
    assert event.data == {
        **event.data,
        "label_ids": ["L001"],
        "count": 1,
        "reason": "smudged print",
    }
    j.do(j.release())
    assert j.state.step is Step.RELEASED
    assert j.state.labels[0].reason == "smudged print"


def test_a_reprint_replaces_the_label_and_the_new_one_must_be_accounted_for() -> None:
    j = _manufacturing()
    j.do(PrintLabels(actor="mfg-1", kind="product_bag", count=2))
    j.do(ReprintLabel(actor="mfg-1", label_id="L002", reason="torn on the printer"))
    assert [(x.label_id, x.status, x.number) for x in j.state.labels] == [
        ("L001", "printed", 1),
        ("L002", "reprinted", 2),
        ("L003", "printed", 2),
    ]
    assert j.state.labels[2].replaces == "L002"
    j.do(ApplyLabels(actor="mfg-1", label_ids=("L001",)))
    with pytest.raises(JourneyError, match="L003"):
        j.do(j.release())
    j.do(ApplyLabels(actor="mfg-1", label_ids=("L003",)))
    j.do(j.release())


def test_a_label_is_accounted_for_once() -> None:
    j = _manufacturing()
    j.do(PrintLabels(actor="mfg-1", kind="shipper"))
    j.do(ApplyLabels(actor="mfg-1", label_ids=("L001",)))
    with pytest.raises(JourneyError, match="already applied"):
        j.do(VoidLabels(actor="mfg-1", label_ids=("L001",), reason="late"))
    with pytest.raises(InvalidInput, match="not printed"):
        j.do(ApplyLabels(actor="mfg-1", label_ids=("L009",)))


def test_each_kind_is_printed_in_its_own_steps() -> None:
    j = Journey().walk_to(Step.APHERESIS_SCHEDULED)
    j.do(PrintLabels(actor="aph-1", kind="collection_bag"))
    with pytest.raises(JourneyError, match="product_bag labels are printed only"):
        j.do(PrintLabels(actor="aph-1", kind="product_bag", count=1))
    with pytest.raises(InvalidInput, match="kind"):
        j.do(PrintLabels(actor="aph-1", kind="wristband"))
    with pytest.raises(InvalidInput, match="one at a time"):
        j.do(PrintLabels(actor="aph-1", kind="collection_bag", count=2))


def test_the_labels_replay_from_the_stored_log() -> None:
    j = _manufacturing()
    j.do(PrintLabels(actor="mfg-1", kind="product_bag", count=2))
    j.do(ReprintLabel(actor="mfg-1", label_id="L001", reason="misprint"))
    j.do(VoidLabels(actor="mfg-1", label_ids=("L002", "L003"), reason="batch cancelled"))
    assert replay(j.log) == j.state
    assert j.state.anomalies == ()
