from django.db import migrations


class Migration(migrations.Migration):
    """Plans on the case and the site's register were built side by side."""

    dependencies = [
        ("clinic", "0009_plans"),
        ("clinic", "0009_site_register"),
    ]

    operations: list[migrations.operations.base.Operation] = []
