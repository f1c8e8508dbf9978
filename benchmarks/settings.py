"""A minimal Django project around django-accepton, for the benchmarks only.

Everything comes from the environment that ``benchmarks.run`` sets for itself and for the
gunicorn server and Celery workers it starts: the scratch database, the sandbox process's URL
and keys, and the run's Celery queue.
"""

import os

import environ

env = environ.Env()

SECRET_KEY = "benchmarks-only-django-secret"  # noqa: S105 - signs nothing that matters
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
USE_TZ = True
TIME_ZONE = "UTC"
DATABASES = {"default": env.db("BENCH_DATABASE_URL")}
# One connection per worker thread, kept between requests, as a production site would.
DATABASES["default"]["CONN_MAX_AGE"] = 60
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Two Celery worker processes write the same file: each waits for the other's lock.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 30

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "rest_framework",
    "django_accepton",
    # The bare view's table (benchmarks.models), made by migrate --run-syncdb.
    "benchmarks",
]
MIDDLEWARE = [
    "benchmarks.middleware.CountQueries",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
]
ROOT_URLCONF = "benchmarks.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGGING_CONFIG = None  # nothing printed per request

ACCEPTON = {
    "ENVIRONMENT": "sandbox",
    "BASE_URL": os.environ.get("BENCH_ACCEPTON_URL", ""),
    "SECRET_KEY": os.environ.get("BENCH_ACCEPTON_SECRET_KEY", ""),
    "PUBLIC_KEY": os.environ.get("BENCH_ACCEPTON_PUBLIC_KEY", ""),
}

# Celery (benchmarks/celery_app.py): Redis databases 2 and 3, and a queue of the run's own.
CELERY_BROKER_URL = os.environ.get("BENCH_CELERY_BROKER_URL", "redis://127.0.0.1:6379/2")
CELERY_RESULT_BACKEND = os.environ.get("BENCH_CELERY_RESULT_BACKEND", "redis://127.0.0.1:6379/3")
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("BENCH_CELERY_QUEUE", "accepton-bench")
CELERY_RESULT_EXPIRES = 3600
# One task at a time per worker process: ranges go to whichever process is free.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
