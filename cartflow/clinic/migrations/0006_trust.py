"""The audit trail chained, patients' identities sealed by hash; rows already written sealed too.

The audit table's append-only triggers are lifted for the one backfill that writes the new
columns of the rows already there, then put back. Each patient already registered gets one
``seal_identity`` audit row recording the hash of its identity as it stands at this migration.
It depends on 0005 because this branch already holds it; a merge migration joins it with any
other 0004/0005.
"""

from __future__ import annotations

from typing import Any

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

from cartflow.clinic.sealing import audit_bytes, identity_hash
from cartflow.clinic.triggers import create_statements, drop_statements

AUDIT_TABLE = ("clinic_auditrow",)
GENESIS = "0" * 64


def _lift(schema_editor: Any) -> None:
    for statement in drop_statements(schema_editor.connection.vendor, AUDIT_TABLE):
        # The function is shared with the other tables' triggers: only the trigger goes.
        if not statement.startswith("DROP FUNCTION"):
            schema_editor.execute(statement)


def lift_triggers(apps: Any, schema_editor: Any) -> None:
    _lift(schema_editor)


def restore_triggers(apps: Any, schema_editor: Any) -> None:
    for statement in create_statements(schema_editor.connection.vendor, AUDIT_TABLE):
        schema_editor.execute(statement)


def seal(apps: Any, schema_editor: Any) -> None:
    alias = schema_editor.connection.alias
    AuditRow = apps.get_model("clinic", "AuditRow")
    Patient = apps.get_model("clinic", "Patient")
    LedgerHead = apps.get_model("clinic", "LedgerHead")
    head, _ = LedgerHead.objects.using(alias).get_or_create(
        id=1, defaults={"seq": 0, "hash": GENESIS}
    )
    seq, prev = 0, GENESIS

    def chain(row: Any) -> None:
        nonlocal seq, prev
        seq += 1
        _, digest = audit_bytes(
            seq=seq,
            at=row.at,
            user_id=row.user_id,
            username=row.username,
            operation=row.operation,
            case_coi=row.case_coi,
            request_id=row.request_id,
            ip=row.ip,
            user_agent=row.user_agent,
            summary=row.summary,
            prev=prev,
        )
        AuditRow.objects.using(alias).filter(pk=row.pk).update(
            seq=seq, hash=digest, prev_hash=prev
        )
        prev = digest

    for row in AuditRow.objects.using(alias).order_by("pk").iterator():
        chain(row)
    now = timezone.now()
    for patient in Patient.objects.using(alias).order_by("pk").iterator():
        sealed = identity_hash(
            public_id=patient.public_id,
            site_id=patient.treating_site_id,
            record_number=patient.record_number,
            given_name=patient.given_name,
            family_name=patient.family_name,
            birth_date=patient.birth_date,
            sex=patient.sex,
        )
        Patient.objects.using(alias).filter(pk=patient.pk).update(identity_hash=sealed)
        chain(
            AuditRow.objects.using(alias).create(
                at=now,
                user=None,
                username="system",
                operation="seal_identity",
                summary={"patient": str(patient.public_id), "identity": sealed},
            )
        )
    LedgerHead.objects.using(alias).filter(pk=head.pk).update(audit_seq=seq, audit_hash=prev)
    if schema_editor.connection.vendor == "postgresql":
        # Deferred foreign-key checks pending on the audit table would block its trigger.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0005_labels_site_settings"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(lift_triggers, restore_triggers),
        migrations.AddField(
            model_name="auditrow",
            name="hash",
            field=models.CharField(default="", max_length=64),
        ),
        migrations.AddField(
            model_name="auditrow",
            name="prev_hash",
            field=models.CharField(default="", max_length=64),
        ),
        migrations.AddField(
            model_name="auditrow",
            name="seq",
            field=models.PositiveBigIntegerField(null=True, unique=True),
        ),
        migrations.AddField(
            model_name="ledgerhead",
            name="audit_hash",
            field=models.CharField(default=GENESIS, max_length=64),
        ),
        migrations.AddField(
            model_name="ledgerhead",
            name="audit_seq",
            field=models.PositiveBigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="patient",
            name="identity_hash",
            field=models.CharField(default="", editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.CreateModel(
            name="IdempotentAnswer",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("key", models.CharField(max_length=200)),
                ("fingerprint", models.CharField(max_length=64)),
                ("status", models.PositiveSmallIntegerField()),
                ("answer", models.TextField()),
                ("created_at", models.DateTimeField()),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("user", "key"), name="idempotency_user_key")
                ],
            },
        ),
        migrations.RunPython(seal, migrations.RunPython.noop),
        migrations.RunPython(restore_triggers, lift_triggers),
    ]
