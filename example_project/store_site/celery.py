"""The store's Celery app: ``celery -A store_site worker -B`` when a broker is configured.

Settings are read from Django's, under the ``CELERY_`` prefix. Without ``CELERY_BROKER_URL``
tasks run eagerly, inline, so nothing else has to run for the demo.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "store_site.settings")

app = Celery("store_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Finds tasks.py in every installed app: django-accepton's syncs and follow-up work.
app.autodiscover_tasks()


@app.on_after_finalize.connect
def schedule_accepton(sender: Celery, **kwargs: Any) -> None:
    """django-accepton's beat schedule (syncs, pending payments, refunds of unknown outcome).

    Merged here rather than in settings: its module imports models, which settings cannot.
    """
    from django_accepton.tasks import BEAT_SCHEDULE

    sender.conf.beat_schedule = {**BEAT_SCHEDULE, **(sender.conf.beat_schedule or {})}
