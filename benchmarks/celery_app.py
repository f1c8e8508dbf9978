"""The bench project's Celery app: ``celery -A benchmarks.celery_app worker``.

Its settings are Django's, under the ``CELERY_`` prefix (``benchmarks/settings.py``): Redis
databases 2 (broker) and 3 (results) unless the environment says otherwise, and a queue named
for the run, so that two runs at once never take each other's tasks.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")

app = Celery("benchmarks")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Finds django_accepton.tasks: the fanned-out sync among them.
app.autodiscover_tasks()
