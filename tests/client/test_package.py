"""The client is plain Python: importable and usable where Django is not configured."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import django_accepton.client as client_package

REPOSITORY = Path(__file__).resolve().parents[2]


def test_importing_the_client_does_not_import_django() -> None:
    code = (
        "import sys, django_accepton.client\n"
        "loaded = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.strip() == ""


def test_public_names() -> None:
    for name in client_package.__all__:
        assert hasattr(client_package, name), name
    assert {"AcceptOn", "ENVIRONMENTS", "APIConnectionError", "Page", "PromoCode"} <= set(
        client_package.__all__
    )
