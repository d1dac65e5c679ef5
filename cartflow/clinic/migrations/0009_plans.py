"""Plans on the case (issue 14): a booking a released plan gives back keeps its row, marked
released by the event that released it; one place per slot and case is held at a time."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0008_merge_trust_weight_tolerance"),
    ]

    operations = [
        migrations.AddField(
            model_name="slotbooking",
            name="released_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="slotbooking",
            name="release_hash",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.RemoveConstraint(
            model_name="slotbooking",
            name="slot_booking_unique",
        ),
        migrations.AddConstraint(
            model_name="slotbooking",
            constraint=models.UniqueConstraint(
                condition=models.Q(released_at__isnull=True),
                fields=("slot", "case"),
                name="slot_booking_unique",
            ),
        ),
    ]
