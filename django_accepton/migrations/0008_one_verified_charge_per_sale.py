# Once 0007 gave the orders paid before it their sale keys: one verified charge per sale.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("django_accepton", "0007_fulfilment_sales_backfill"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='charge',
            constraint=models.UniqueConstraint(condition=models.Q(('sale_key__isnull', False), ('verification', 'verified')), fields=('sale_key',), name='accepton_one_verified_charge_per_sale'),
        ),
    ]
