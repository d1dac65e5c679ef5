"""A site's register of signed protocol values: its table, append-only like the record."""

from __future__ import annotations

from typing import Any

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from cartflow.clinic.triggers import create_statements, drop_statements

# Frozen here on purpose (see 0002_append_only). The register has its own trigger function on
# PostgreSQL, so that dropping the record's triggers (a test tampering as an administrator
# could) never meets this table's, and the other way round.
APPEND_ONLY_TABLES = ("clinic_siteregisterentry",)
PG_FUNCTION = "cartflow_refuse_register_change"


def install(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    for statement in create_statements(vendor, APPEND_ONLY_TABLES, PG_FUNCTION):
        schema_editor.execute(statement)


def uninstall(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    for statement in drop_statements(vendor, APPEND_ONLY_TABLES, PG_FUNCTION):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0008_merge_trust_weight_tolerance"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="SiteRegisterEntry",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("seq", models.PositiveIntegerField()),
                ("indication", models.CharField(max_length=100)),
                ("fact", models.CharField(max_length=64)),
                ("effective_from", models.DateField()),
                ("effective_to", models.DateField(blank=True, null=True)),
                ("document_ref", models.CharField(max_length=200)),
                ("signer_name", models.CharField(max_length=300)),
                ("signer_role", models.CharField(max_length=32)),
                ("meaning", models.CharField(max_length=64)),
                ("recorded_at", models.DateTimeField()),
                ("body", models.BinaryField()),
                ("hash", models.CharField(max_length=64, unique=True)),
                ("prev_hash", models.CharField(max_length=64)),
                (
                    "signer",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "site",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="register_entries",
                        to="clinic.site",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("site", "seq"), name="register_site_seq"),
                    models.UniqueConstraint(
                        fields=("site", "prev_hash"), name="register_site_prev"
                    ),
                ],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
