"""The errors the services raise beside the domain's own (``cartflow.domain.errors``).

The API maps :class:`Conflict` to 409, :class:`NotFound` to 404 and
:class:`SignatureRefused` to 403; a domain error (a guard that refused) to 400/422.
"""

from __future__ import annotations


class ServiceError(Exception):
    """A write the service layer refused; nothing of it was kept."""


class Conflict(ServiceError):
    """Someone else changed the record first, or took the last place; reload and try again."""


class NotFound(ServiceError):
    """No such record (or none the caller may see: the two are not told apart)."""


class SignatureRefused(ServiceError):
    """The signer's re-authentication failed; nothing was signed."""
