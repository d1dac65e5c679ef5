"""An audit row is stored as the bytes that were hashed; its columns are generated from them.

Each audit row's hash has always been the SHA-256 of its canonical bytes
(``cartflow.clinic.sealing.audit_bytes``), which were rebuilt from its columns to verify it.
The bytes are now stored (``body``), computed here for every row from its columns as they
stand, exactly as when it was written; then the columns are dropped and generated from the
bytes by the database (``GENERATED ALWAYS AS ... STORED``), like an event's
(``0012_event_columns_from_bytes``), so that no UPDATE can make them differ. Only the user's
foreign key stays a column of its own, beside the key the bytes recorded. A row that had
been edited keeps its edit in its bytes, which then do not hash to its hash: verification
still names it. The audit trail's append-only triggers are lifted for the change.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, models

from cartflow.clinic.models.entry_columns import (
    INTEGER,
    JSON,
    TEXT,
    TIME,
    EntryValue,
    pg_create_functions,
)
from cartflow.clinic.sealing import audit_bytes
from cartflow.clinic.triggers import create_statements, drop_statements

AUDIT_TABLE = ("clinic_auditrow",)


def lift_triggers(apps: Any, schema_editor: Any) -> None:
    for statement in drop_statements(schema_editor.connection.vendor, AUDIT_TABLE):
        # The function is shared with the other tables' triggers: only the trigger goes.
        if not statement.startswith("DROP FUNCTION"):
            schema_editor.execute(statement)


def restore_triggers(apps: Any, schema_editor: Any) -> None:
    for statement in create_statements(schema_editor.connection.vendor, AUDIT_TABLE):
        schema_editor.execute(statement)


def create_functions(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for statement in pg_create_functions():  # CREATE OR REPLACE: adds the JSON one
            schema_editor.execute(statement)


def store_bytes(apps: Any, schema_editor: Any) -> None:
    AuditRow = apps.get_model("clinic", "AuditRow")
    rows = AuditRow.objects.using(schema_editor.connection.alias)
    for row in rows.order_by("pk").iterator(chunk_size=2000):
        data, _ = audit_bytes(
            seq=row.seq,
            at=row.at,
            user_id=row.user_id,
            username=row.username,
            operation=row.operation,
            case_coi=row.case_coi,
            request_id=row.request_id,
            ip=row.ip,
            user_agent=row.user_agent,
            summary=row.summary,
            prev=row.prev_hash,
        )
        rows.filter(pk=row.pk).update(body=data)
    if schema_editor.connection.vendor == "postgresql":
        # Deferred foreign-key checks pending on the table would block its ALTER TABLE.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _generated(key: str, kind: str, output: Any, unique: bool = False) -> models.GeneratedField:
    return models.GeneratedField(
        db_persist=True,
        expression=EntryValue(key, kind, output_field=output),
        output_field=output,
        unique=unique,
    )


GENERATED = {
    "at": lambda: _generated("at", TIME, models.DateTimeField()),
    "username": lambda: _generated("username", TEXT, models.CharField(max_length=150)),
    "operation": lambda: _generated("operation", TEXT, models.CharField(max_length=64)),
    "case_coi": lambda: _generated("case", TEXT, models.CharField(max_length=14)),
    "request_id": lambda: _generated("request_id", TEXT, models.CharField(max_length=64)),
    "ip": lambda: _generated("ip", TEXT, models.CharField(max_length=64)),
    "user_agent": lambda: _generated("user_agent", TEXT, models.CharField(max_length=300)),
    "summary": lambda: _generated("summary", JSON, models.JSONField()),
    "seq": lambda: _generated("seq", INTEGER, models.BigIntegerField(), unique=True),
    "prev_hash": lambda: _generated("prev", TEXT, models.CharField(max_length=64)),
}


class Migration(migrations.Migration):
    dependencies = [("clinic", "0013_ledger_columns_from_bytes")]

    operations = [
        migrations.RunPython(lift_triggers, restore_triggers),
        migrations.RunPython(create_functions, migrations.RunPython.noop),
        migrations.AddField(
            model_name="auditrow", name="body", field=models.BinaryField(default=b"")
        ),
        migrations.RunPython(store_bytes, migrations.RunPython.noop),
        migrations.RemoveIndex(model_name="auditrow", name="audit_case"),
        *[migrations.RemoveField(model_name="auditrow", name=name) for name in GENERATED],
        *[
            migrations.AddField(model_name="auditrow", name=name, field=field())
            for name, field in GENERATED.items()
        ],
        migrations.AddField(
            model_name="auditrow",
            name="recorded_user_id",
            field=_generated("user_id", INTEGER, models.IntegerField()),
        ),
        migrations.AddIndex(
            model_name="auditrow",
            index=models.Index(fields=["case_coi", "at"], name="audit_case"),
        ),
        migrations.RunPython(restore_triggers, lift_triggers),
    ]
