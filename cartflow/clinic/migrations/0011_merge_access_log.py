from django.db import migrations


class Migration(migrations.Migration):
    """The identity-read access log was built beside plans and the site's register."""

    dependencies = [
        ("clinic", "0010_merge_plans_site_register"),
        ("clinic", "0009_trust_access_log"),
    ]

    operations: list[migrations.operations.base.Operation] = []
