"""Rows written by an older schema, then the migrations after it: how a data migration is tested."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection
from django.db.migrations.executor import MigrationExecutor

APP = "django_accepton"


def migrated(before: str, after: str, fill: Callable[[Any], None]) -> None:
    """Migrate back to ``before``, let ``fill(apps)`` write rows with that schema's models,
    migrate on to ``after``, and always end on the latest migrations again."""
    executor = MigrationExecutor(connection)
    executor.migrate([(APP, before)])
    try:
        fill(executor.loader.project_state([(APP, before)]).apps)
        executor = MigrationExecutor(connection)
        executor.migrate([(APP, after)])
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
