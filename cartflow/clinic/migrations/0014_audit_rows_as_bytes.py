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
    from_bytes,
    pg_create_functions,
)
from cartflow.clinic.sealing import audit_bytes
from cartflow.clinic.triggers import lifted

AUDIT_TABLE = ("clinic_auditrow",)


lift_triggers, restore_triggers = lifted(AUDIT_TABLE)


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


GENERATED = {
    "at": lambda: from_bytes("at", TIME, models.DateTimeField()),
    "username": lambda: from_bytes("username", TEXT, models.CharField(max_length=150)),
    "operation": lambda: from_bytes("operation", TEXT, models.CharField(max_length=64)),
    "case_coi": lambda: from_bytes("case", TEXT, models.CharField(max_length=14)),
    "request_id": lambda: from_bytes("request_id", TEXT, models.CharField(max_length=64)),
    "ip": lambda: from_bytes("ip", TEXT, models.CharField(max_length=64)),
    "user_agent": lambda: from_bytes("user_agent", TEXT, models.CharField(max_length=300)),
    "summary": lambda: from_bytes("summary", JSON, models.JSONField()),
    "seq": lambda: from_bytes("seq", INTEGER, models.BigIntegerField(), unique=True),
    "prev_hash": lambda: from_bytes("prev", TEXT, models.CharField(max_length=64)),
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
            field=from_bytes("user_id", INTEGER, models.IntegerField()),
        ),
        migrations.AddIndex(
            model_name="auditrow",
            index=models.Index(fields=["case_coi", "at"], name="audit_case"),
        ),
        migrations.RunPython(restore_triggers, lift_triggers),
    ]
