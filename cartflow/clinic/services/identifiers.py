"""Chain-of-identity identifiers, allocated by the database: never twice, on either database."""

from __future__ import annotations

from django.db import connection

from cartflow.clinic.models import IdentifierSequence
from cartflow.domain.errors import InvalidInput
from cartflow.domain.identifiers import Din, new_identifier

SEQUENCE = IdentifierSequence._meta.db_table
LAST_SEQUENCE = 999_999


def next_sequence(facility: str, year: int) -> int:
    """The next sequence number of ``facility`` in ``year`` (two-digit), atomically.

    One upsert: the first case of a year inserts 1, every later one increments under the
    row's lock, so concurrent allocations queue on the row and each gets its own number.
    Must run inside the caller's transaction, so a rolled-back case gives its number back.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {SEQUENCE} (facility, year, last) VALUES (%s, %s, 1) "
            f"ON CONFLICT (facility, year) DO UPDATE SET last = {SEQUENCE}.last + 1 "
            f"RETURNING last",
            [facility, year],
        )
        sequence = int(cursor.fetchone()[0])
    if sequence > LAST_SEQUENCE:
        raise InvalidInput(
            f"the facility {facility} has used all {LAST_SEQUENCE} identifiers of year {year:02d}"
        )
    return sequence


def allocate_identifier(facility: str, year: int) -> Din:
    return new_identifier(facility, year % 100, next_sequence(facility, year % 100))
