from django.db import migrations, models


class Migration(migrations.Migration):
    """Rows mirrored before this column existed hold the empty token, which no write uses: they
    were announced by whoever wrote them first. The database default keeps a worker still
    running the previous code able to insert subscriptions while a deployment rolls out."""

    dependencies = [
        ("django_accepton", "0012_charge_refunded_help"),
    ]

    operations = [
        migrations.AddField(
            model_name="subscription",
            name="insert_token",
            field=models.CharField(
                blank=True,
                db_default="",
                default="",
                editable=False,
                help_text="Written once, by the write that inserted the row and announced it.",
                max_length=32,
            ),
        ),
    ]
