# The site settings printed labels need (cartflow/clinic/labels/content.py).

from django.db import migrations, models

import cartflow.clinic.models.sites


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0003_rebuild_projections"),
    ]

    operations = [
        migrations.AddField(
            model_name="site",
            name="apheresis_label_fields",
            field=models.JSONField(
                blank=True, default=cartflow.clinic.models.sites.default_apheresis_label_fields
            ),
        ),
        migrations.AddField(
            model_name="site",
            name="iccbba_assigned",
            field=models.BooleanField(default=False),
        ),
    ]
