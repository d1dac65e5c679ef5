"""The refusal a journey guard raises: it names the step, the move, the rule and its authority."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cartflow.domain.catalog import RuleKind
from cartflow.domain.errors import DomainError, IdentityMismatch, NotInCatalog


class JourneyError(DomainError):
    """A guard refused a command.

    ``state`` is the case's current step, ``attempted`` the command's name, ``rule`` the rule in
    plain words, ``source`` where the rule comes from (a label source or the site's policy
    document) and ``kind`` whether it is a label rule or site policy. The message carries all
    five and never a patient's name or birth date (commands carry neither).
    """

    def __init__(
        self,
        state: str,
        attempted: str,
        rule: str,
        source: str,
        kind: RuleKind,
        rule_id: str = "",
        params: Mapping[str, Any] | None = None,
    ) -> None:
        self.state = state
        self.attempted = attempted
        self.rule = rule
        self.source = source
        self.kind = kind
        # A stable name for the rule (``bedside.wristband``), so the pages, the API and the
        # tests can tell refusals apart without parsing their words.
        self.rule_id = rule_id
        # The numbers and dates the rule knows (``{"earliest": "2026-12-02", ...}``), so the
        # interface can word the refusal in the reader's language (clinic/refusal_words.py).
        self.params: dict[str, Any] = dict(params or {})
        kind_text = "label rule" if kind is RuleKind.LABEL else "site policy"
        DomainError.__init__(
            self,
            f"{attempted} refused in step {state}: {rule} ({kind_text}; source: {source})",
        )


class ScanMismatch(JourneyError, IdentityMismatch):
    """A scanned identifier did not name the case, its collection or its bag."""

    def __init__(
        self,
        state: str,
        attempted: str,
        rule: str,
        source: str,
        kind: RuleKind,
        which: tuple[str, ...],
        rule_id: str = "",
    ) -> None:
        JourneyError.__init__(self, state, attempted, rule, source, kind, rule_id)
        self.which = which


class DuplicateObservation(JourneyError):
    """The same observation was recorded a moment ago: most likely a second click or a retry.

    ``first_recorded_at`` and ``first_actor`` name the record already there.
    """

    def __init__(
        self,
        state: str,
        attempted: str,
        rule: str,
        source: str,
        first_recorded_at: str,
        first_actor: str,
    ) -> None:
        JourneyError.__init__(
            self, state, attempted, rule, source, RuleKind.SITE_POLICY, "observation.duplicate"
        )
        self.first_recorded_at = first_recorded_at
        self.first_actor = first_actor


class FactMissing(JourneyError):
    """A guard needs a catalog fact that is unknown and no site protocol value fills it."""

    def __init__(self, state: str, attempted: str, error: NotInCatalog) -> None:
        JourneyError.__init__(
            self,
            state,
            attempted,
            str(error),
            "product catalog (cartflow/data/products.json)",
            RuleKind.LABEL,
            "catalog.fact_missing",
            {"what": error.what},
        )
        self.what = error.what
