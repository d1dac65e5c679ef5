"""The refusal a journey guard raises: it names the step, the move, the rule and its authority."""

from __future__ import annotations

from cartflow.domain.catalog import RuleKind
from cartflow.domain.errors import DomainError, IdentityMismatch, NotInCatalog


class JourneyError(DomainError):
    """A guard refused a command.

    ``state`` is the case's current step, ``attempted`` the command's name, ``rule`` the rule in
    plain words, ``source`` where the rule comes from (a label source or the site's policy
    document) and ``kind`` whether it is a label rule or site policy. The message carries all
    five and never a patient's name or birth date (commands carry neither).
    """

    def __init__(self, state: str, attempted: str, rule: str, source: str, kind: RuleKind) -> None:
        self.state = state
        self.attempted = attempted
        self.rule = rule
        self.source = source
        self.kind = kind
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
    ) -> None:
        JourneyError.__init__(self, state, attempted, rule, source, kind)
        self.which = which


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
        )
        self.what = error.what
