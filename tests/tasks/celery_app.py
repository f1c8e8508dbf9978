"""The Celery app of the task tests, configured from tests/settings.py like a project's own."""

from __future__ import annotations

import os

from celery import Celery

app = Celery("django_accepton_tests")
app.config_from_object("django.conf:settings", namespace="CELERY")
# A queue of this test run's own: other runs sharing the Redis server never take its tasks.
app.conf.task_default_queue = f"django-accepton-tests-{os.getpid()}"

# shared_task binds the package's tasks to this app once they are imported.
import django_accepton.tasks  # noqa: E402, F401
