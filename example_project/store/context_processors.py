from __future__ import annotations

from django.http import HttpRequest

from django_accepton.conf import get_settings


def accepton(request: HttpRequest) -> dict[str, bool]:
    """``accepton_sandbox``: whether pages should show the sandbox's test cards."""
    return {"accepton_sandbox": get_settings().environment == "sandbox"}
