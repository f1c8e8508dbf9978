from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from django_accepton.conf import get_settings
from store.catalogue import ensure_remote_catalogue
from store.models import Product

PRODUCTS = [
    ("fountain-pen", "Fountain pen", "A steel-nib pen that writes from the first stroke.", 4500),
    ("notebook", "Dot-grid notebook", "A5, 160 pages of 100 g paper that does not bleed.", 1800),
    ("ink", "Blue-black ink", "50 ml of iron-gall ink that darkens as it dries.", 1200),
    ("letter-set", "Letter set", "Twenty sheets and envelopes of cotton paper.", 2500),
]


class Command(BaseCommand):
    help = (
        "Create the example store's products, and its plans and promo code at AcceptOn "
        "(idempotent: what exists is left alone)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--local-only",
            action="store_true",
            help="Create the products only; leave AcceptOn alone.",
        )

    def handle(self, *args: Any, local_only: bool = False, **options: Any) -> None:
        created = 0
        for slug, name, blurb, price in PRODUCTS:
            _, new = Product.objects.get_or_create(
                slug=slug, defaults={"name": name, "blurb": blurb, "price": price}
            )
            created += new
        self.stdout.write(f"{created} products created, {len(PRODUCTS) - created} already there.")
        if local_only:
            return
        remote = ensure_remote_catalogue()
        self.stdout.write(
            f"AcceptOn: {remote['plans']} plans and {remote['promo_codes']} promo codes created."
        )
        if get_settings().uses_embedded_sandbox:
            self.stdout.write(
                "(The embedded sandbox lives in this process only: the server sets up its own "
                "when it starts.)"
            )
