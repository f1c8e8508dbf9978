"""A minimal Django project around django-accepton, for the benchmarks only.

Everything comes from the environment that ``benchmarks.run`` sets for itself and for the
gunicorn server it starts: the scratch database and the sandbox process's URL and keys.
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

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "rest_framework",
    "django_accepton",
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
