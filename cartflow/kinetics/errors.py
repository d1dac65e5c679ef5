"""The errors the kinetics package raises; each message says what was wrong and what is accepted."""

from __future__ import annotations

from cartflow.domain.errors import DomainError


class KineticsError(DomainError):
    """A kinetics request that cannot be answered (bad input or no model for it)."""


class NoPopulationModel(KineticsError):
    """There is no population model for the product and disease asked about.

    We never borrow another product's model: the answer is this error.
    """

    MESSAGE = "no population model for this product"

    def __init__(self, product_id: str, disease: str) -> None:
        self.product_id = product_id
        self.disease = disease
        super().__init__(self.MESSAGE)
