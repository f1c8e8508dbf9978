"""Entry point of the worker process in test_worker_process: Django first, then the tests' app.

A project's own Celery module does the same through ``app.autodiscover_tasks()``, which runs
after Django is set up.
"""

import django

django.setup()

from tests.tasks.celery_app import app  # noqa: E402

__all__ = ["app"]
