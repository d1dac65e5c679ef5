"""Database triggers that refuse UPDATE and DELETE on the record, on SQLite and PostgreSQL.

The migration that installs them passes its own frozen list of tables, so adding a table
here later means a new migration, not a changed old one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MESSAGE = "cartflow: {table} is append-only: rows are never updated or deleted"
PG_FUNCTION = "cartflow_refuse_change"


def create_statements(
    vendor: str, tables: tuple[str, ...], function: str = PG_FUNCTION
) -> list[str]:
    """``function`` names PostgreSQL's trigger function: a table added later may bring its own,
    so that dropping one group's triggers and function never touches another's."""
    if vendor == "postgresql":
        statements = [
            # The message is built with || rather than RAISE's % placeholders, which a
            # driver would take for its own parameters.
            f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$ "
            f"BEGIN RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege', "
            f"MESSAGE = 'cartflow: ' || TG_TABLE_NAME || ' is append-only: rows are never "
            f"updated or deleted (' || TG_OP || ' refused)'; "
            f"END; $$ LANGUAGE plpgsql"
        ]
        for table in tables:
            statements.append(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {function}()"
            )
        return statements
    if vendor == "sqlite":
        statements = []
        for table in tables:
            for op in ("UPDATE", "DELETE"):
                statements.append(
                    f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE.format(table=table)} "
                    f"({op} refused)'); END"
                )
        return statements
    raise NotImplementedError(f"append-only triggers for {vendor} are not written")


def drop_statements(
    vendor: str, tables: tuple[str, ...], function: str = PG_FUNCTION
) -> list[str]:
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}" for table in tables] + [
            f"DROP FUNCTION IF EXISTS {function}()"
        ]
    if vendor == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS {table}_no_{op}"
            for table in tables
            for op in ("update", "delete")
        ]
    raise NotImplementedError(f"append-only triggers for {vendor} are not written")


MigrationStep = Callable[[Any, Any], None]


def lifted(tables: tuple[str, ...]) -> tuple[MigrationStep, MigrationStep]:
    """A migration's pair of ``RunPython`` steps that drop the tables' append-only triggers
    (never the trigger function, which other tables share) and put them back: around a
    change of their rows or of their definition (SQLite drops the triggers with a table it
    rebuilds)."""

    def lift(apps: Any, schema_editor: Any) -> None:
        for statement in drop_statements(schema_editor.connection.vendor, tables):
            if not statement.startswith("DROP FUNCTION"):
                schema_editor.execute(statement)

    def restore(apps: Any, schema_editor: Any) -> None:
        for statement in create_statements(schema_editor.connection.vendor, tables):
            schema_editor.execute(statement)

    return lift, restore
