from django.db import migrations, models

HELP = "Whether subscription_created was sent for it (once, by its first writer)."


class Migration(migrations.Migration):
    """Subscriptions mirrored before this column existed were announced by whoever wrote them
    first, so they are added as announced; rows written from now on start unannounced."""

    dependencies = [
        ("django_accepton", "0012_charge_refunded_help"),
    ]

    operations = [
        migrations.AddField(
            model_name="subscription",
            name="creation_announced",
            field=models.BooleanField(default=True, editable=False, help_text=HELP),
        ),
        migrations.AlterField(
            model_name="subscription",
            name="creation_announced",
            field=models.BooleanField(default=False, editable=False, help_text=HELP),
        ),
    ]
