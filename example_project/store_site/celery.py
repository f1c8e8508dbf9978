"""The store's Celery app: ``celery -A store_site worker -B`` when a broker is configured.

Settings are read from Django's, under the ``CELERY_`` prefix. Without ``CELERY_BROKER_URL``
tasks run eagerly, inline, so nothing else has to run for the demo.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "store_site.settings")

app = Celery("store_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Finds tasks.py in every installed app: django-accepton's syncs and follow-up work. Their beat
# schedule is CELERY_BEAT_SCHEDULE in settings.
app.autodiscover_tasks()
