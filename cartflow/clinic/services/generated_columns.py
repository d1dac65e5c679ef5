"""Whether the database still generates an event's (or ledger entry's, or audit row's) columns
from its bytes, as defined.

The columns beside an event's body are generated from it by the database
(:mod:`cartflow.clinic.models.entry_columns`). While the table's definition is the one the
migrations wrote, they cannot differ from the hashed bytes, and verification need not read
and compare them row by row. Someone able to change the definition could make them differ:
drop a column's generation (``ALTER TABLE ... DROP EXPRESSION`` on PostgreSQL; a table
rebuilt by hand on SQLite) and then edit it, or replace the function a column is computed by.
So verification asks :func:`columns_generated` first, within its snapshot, and compares the
columns row by row whenever the answer is no: the check is what decides, this only lets it
skip work when the database vouches for the columns.

- SQLite: the table's ``CREATE TABLE`` text must hold each column exactly as Django writes it
  from the model (name, type, ``GENERATED ALWAYS AS (...) STORED``).
- PostgreSQL: each column must be generated (``attgenerated = 's'``) by the expression the
  model compiles to (compared as PostgreSQL prints it back, without casts and quotes), and
  each function it calls must have the source the migration gave it.

What this does not see (the system catalog edited in place: SQLite's ``writable_schema``, an
UPDATE of ``pg_attribute``) the replay still does: with the replay, every row's columns are
compared with its bytes whatever the schema says (``docs/threat-model.md``).
"""

from __future__ import annotations

import re
from typing import Any

from django.db import connection, models

from cartflow.clinic.models import Event
from cartflow.clinic.models.entry_columns import PG_FUNCTIONS, pg_function_source

Model = type[models.Model]


def generated_fields(model: Model = Event) -> list[models.GeneratedField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, models.GeneratedField)]


def columns_generated(model: Model = Event) -> bool:
    """Whether every generated column of the model's table (events, ledger entries, audit rows) is
    generated as the model defines it (and, on PostgreSQL, by the functions the migration
    created)."""
    if connection.vendor == "sqlite":
        return _sqlite_generated(model)
    if connection.vendor == "postgresql":
        return _postgres_generated(model)
    return False


def _sqlite_generated(model: Model) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = %s",
            [model._meta.db_table],
        )
        found = cursor.fetchone()
    if found is None or not isinstance(found[0], str):
        return False
    table = found[0]
    quote = connection.ops.quote_name
    for field in generated_fields(model):
        expression, _ = field.generated_sql(connection)
        definition = (
            f"{quote(field.column)} {field.db_type(connection)} "
            f"GENERATED ALWAYS AS ({expression}) STORED"
        )
        if table.count(definition) != 1 or table.count(quote(field.column) + " ") != 1:
            return False
    return True


def _printed(expression: str) -> str:
    """An expression as PostgreSQL prints it back and as Django compiled it, made
    comparable: casts, quotes around names, spaces and case dropped."""
    expression = re.sub(r"::[a-z ]+", "", expression.lower())
    return re.sub(r"[\s\"]", "", expression)


def _postgres_generated(model: Model) -> bool:
    names = [name for name, _, _ in PG_FUNCTIONS.values()]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.attname, a.attgenerated, pg_get_expr(d.adbin, d.adrelid) "
            "FROM pg_attribute a LEFT JOIN pg_attrdef d "
            "ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped",
            [model._meta.db_table],
        )
        columns: dict[str, tuple[Any, Any]] = {
            name: (generated, printed) for name, generated, printed in cursor.fetchall()
        }
        cursor.execute(
            "SELECT p.proname, p.prosrc, p.provolatile FROM pg_proc p "
            "WHERE p.proname = ANY(%s)",
            [names],
        )
        functions = cursor.fetchall()
    for field in generated_fields(model):
        generated, printed = columns.get(field.column, (None, None))
        expression, _ = field.generated_sql(connection)
        if generated != "s" or not printed or _printed(printed) != _printed(expression):
            return False
    expected = {name: pg_function_source(kind) for kind, (name, _, _) in PG_FUNCTIONS.items()}
    if sorted(name for name, _, _ in functions) != sorted(expected):
        return False  # one missing, or another of the same name beside it
    return all(source == expected[name] and volatile == "i" for name, source, volatile in functions)
