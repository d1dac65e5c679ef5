"""The record is append-only: triggers refuse UPDATE and DELETE; the ledger head starts at zero."""

from __future__ import annotations

from typing import Any

from django.db import migrations

from cartflow.clinic.triggers import create_statements, drop_statements

# Frozen here on purpose: a table added later gets its own migration.
APPEND_ONLY_TABLES = ("clinic_event", "clinic_ledgerentry", "clinic_auditrow", "clinic_signature")
GENESIS = "0" * 64


def install(apps: Any, schema_editor: Any) -> None:
    for statement in create_statements(schema_editor.connection.vendor, APPEND_ONLY_TABLES):
        schema_editor.execute(statement)
    apps.get_model("clinic", "LedgerHead").objects.using(
        schema_editor.connection.alias
    ).get_or_create(id=1, defaults={"seq": 0, "hash": GENESIS})


def uninstall(apps: Any, schema_editor: Any) -> None:
    for statement in drop_statements(schema_editor.connection.vendor, APPEND_ONLY_TABLES):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("clinic", "0001_initial")]
    operations = [migrations.RunPython(install, uninstall)]
