"""``{% form_once %}``: a page form's one-time token (a builtin of the project's templates)."""

from cartflow.clinic.form_once import register

__all__ = ["register"]
