# Charges verified before deliveries and sale keys were recorded.

import hashlib
from typing import Any

from django.db import migrations
from django.db.models import F
from django.db.models.functions import Coalesce


def sale_keys_before(apps: Any, schema_editor: Any) -> None:
    # Orders paid before sale keys existed must count as sold, or a second token of one of them
    # paid afterwards would be sold again. The earliest verified charge of each order gets the
    # key (later ones were allowed then and stay as they are), computed as
    # services.verification.sale_key does.
    Charge = apps.get_model("django_accepton", "Charge")
    taken: set[str] = set()
    verified = (
        Charge.objects.filter(verification="verified", recurring=False, token__isnull=False)
        .select_related("token")
        .order_by("verified_at", "claimed_at")
    )
    for charge in verified.iterator():
        token = charge.token
        if token.id.startswith("rtx_"):
            continue
        if token.content_type_id and token.object_id:
            key = f"{token.environment}:{token.content_type_id}:{token.object_id}"[:128]
        elif token.reference:
            digest = hashlib.sha256(token.reference.encode()).hexdigest()
            key = f"{token.environment}:ref:{digest}"
        else:
            continue
        if key in taken:
            continue
        taken.add(key)
        Charge.objects.filter(pk=charge.pk).update(sale_key=key)


def delivered_before(apps: Any, schema_editor: Any) -> None:
    # Charges verified before deliveries were recorded were announced when they were verified:
    # they must not be announced again by the redelivery task.
    Charge = apps.get_model("django_accepton", "Charge")
    Charge.objects.filter(verification="verified", fulfilled_at__isnull=True).update(
        fulfilled_at=Coalesce(F("verified_at"), F("claimed_at"))
    )


class Migration(migrations.Migration):
    dependencies = [
        ("django_accepton", "0006_fulfilment_sales_attention"),
    ]

    operations = [
        migrations.RunPython(delivered_before, migrations.RunPython.noop),
        migrations.RunPython(sale_keys_before, migrations.RunPython.noop),
    ]
