"""An index on the audit trail's operation (and position).

Verification reads the audit rows of two operations only (a patient's identity sealed at
registration, a site register signed); without the index each read scanned the whole trail.
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0014_audit_rows_as_bytes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="auditrow",
            index=models.Index(fields=["operation", "seq"], name="audit_operation"),
        ),
    ]
