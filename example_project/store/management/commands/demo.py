from __future__ import annotations

import os
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from django_accepton.conf import get_settings
from django_accepton.sandbox import TEST_CARDS
from store.catalogue import PROMO_CODES, ensure_embedded_sandbox_ready


class Command(BaseCommand):
    help = (
        "Migrate, seed and serve the example store (on the embedded AcceptOn sandbox by default)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args: Any, addrport: str, **options: Any) -> None:
        if os.environ.get("RUN_MAIN") == "true":
            # The autoreloader's child: the process that serves. The embedded sandbox lives in
            # this process, so it is set up here (the parent's would be gone by now).
            ensure_embedded_sandbox_ready()
            call_command("runserver", addrport)
            return
        conf = get_settings()
        call_command("migrate", verbosity=0)
        # The embedded sandbox is set up by the serving process (above), not by this one.
        call_command("seed_store", local_only=conf.uses_embedded_sandbox)
        password = secrets.token_urlsafe(9)
        admin, _ = get_user_model().objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True}
        )
        admin.set_password(password)
        admin.save()
        environment = conf.environment
        lines = [
            "",
            "  The example store of django-accepton",
            f"  Store:  http://{addrport}/",
            f"  Admin:  http://{addrport}/admin/  (user admin, password {password})",
            f"  AcceptOn environment: {environment}"
            + (" (embedded sandbox, no keys needed)" if conf.uses_embedded_sandbox else ""),
        ]
        if environment == "sandbox":
            lines += [
                "  Test cards (any future expiry, any 3-digit CVC):",
                *(f"    {number}  {name}" for name, number in TEST_CARDS.items()),
                f"  Promo code: {PROMO_CODES[0][0]} ({PROMO_CODES[0][2]} % off)",
            ]
        lines += ["  Stop with Ctrl-C.", ""]
        self.stdout.write("\n".join(lines))
        call_command("runserver", addrport)
