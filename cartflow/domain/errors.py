"""The errors the domain raises. Every message says what was wrong and what is accepted."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the therapy refused an input or a move."""


class InvalidInput(DomainError):
    """An input is malformed or out of range; the message names the field and what is accepted."""


class NotInCatalog(DomainError):
    """A fact the step needs is unknown in the catalog (marked UNCONFIRMED in the reference)."""

    MESSAGE = "not in the catalog: enter the site's protocol value or check the current label"

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(f"{what}: {self.MESSAGE}")


class IdentityMismatch(DomainError):
    """A scan did not name the case (chain of identity, bag or lot); ``which`` names the scans."""

    def __init__(self, message: str, which: tuple[str, ...] = ()) -> None:
        self.which = which
        super().__init__(message)
