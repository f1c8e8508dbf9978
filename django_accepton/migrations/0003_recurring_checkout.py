# Recurring (rtx_) checkout: a plan's recurring token, the subscription a payment created, and
# the one-verified-charge-per-token constraint narrowed to one-off tokens.

from typing import Any

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models


def mark_recurring_claims(apps: Any, schema_editor: Any) -> None:
    # No release verified rtx_ tokens, but a claim of one may exist: flag it like new ones.
    Charge = apps.get_model('django_accepton', 'Charge')
    TransactionToken = apps.get_model('django_accepton', 'TransactionToken')
    recurring_tokens = TransactionToken.objects.filter(id__startswith='rtx_')
    Charge.objects.filter(token__in=recurring_tokens).update(recurring=True)


class Migration(migrations.Migration):

    dependencies = [
        ('django_accepton', '0002_mirrors_refunds_sync'),
    ]

    operations = [
        migrations.AddField(
            model_name='plan',
            name='recurring_token',
            field=models.CharField(blank=True, help_text="The rtx_ token made for this plan in AcceptOn's dashboard; customers pay it to subscribe. The sandbox makes its own.", max_length=64, null=True, unique=True, validators=[django.core.validators.RegexValidator('^rtx_[A-Za-z0-9]{1,60}$', 'A recurring token looks like rtx_….')]),
        ),
        migrations.AddField(
            model_name='charge',
            name='recurring',
            field=models.BooleanField(default=False, help_text="Claimed for a plan's recurring (rtx_) token."),
        ),
        migrations.AddField(
            model_name='charge',
            name='subscription',
            field=models.OneToOneField(blank=True, help_text='The subscription AcceptOn created for this payment of a recurring token.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='charge', to='django_accepton.subscription'),
        ),
        migrations.RemoveConstraint(
            model_name='charge',
            name='accepton_one_verified_charge_per_token',
        ),
        migrations.AddConstraint(
            model_name='charge',
            constraint=models.UniqueConstraint(condition=models.Q(('recurring', False), ('verification', 'verified')), fields=('token',), name='accepton_one_verified_charge_per_token'),
        ),
        # Last: it only narrows the constraint, and leaves no pending trigger events before
        # the schema changes on PostgreSQL.
        migrations.RunPython(mark_recurring_claims, migrations.RunPython.noop),
    ]
