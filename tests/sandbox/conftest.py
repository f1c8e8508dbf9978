"""The sandbox's own tests describe its ``classic`` behaviour unless a test names a dialect;
``test_dialects.py`` covers each switch's other readings."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/sandbox/" not in item.nodeid:
            continue
        if item.get_closest_marker("accepton_dialect") or item.get_closest_marker(
            "accepton_dialects"
        ):
            continue
        item.add_marker(pytest.mark.accepton_dialect("classic"))
