"""Settings for the test suite.

The database comes from ``DATABASE_URL`` (SQLite by default) so that the same suite runs on
SQLite and on PostgreSQL; the AcceptOn API is the package's sandbox, started per test session.
"""

import sys
from pathlib import Path

import environ

env = environ.Env()
BASE_DIR = Path(__file__).resolve().parent
# The example store is installed too (under /store/), for the browser tests that buy from it.
EXAMPLE_PROJECT = BASE_DIR.parent / "example_project"
if str(EXAMPLE_PROJECT) not in sys.path:
    sys.path.append(str(EXAMPLE_PROJECT))

SECRET_KEY = "tests-only-django-secret"  # signs test sessions only
# pytest-django runs every test with DEBUG = False whatever this says. This value is for the
# management commands run with these settings (makemigrations --check): they run the system
# checks, and the embedded sandbox these settings use is refused outside DEBUG (accepton.E031).
DEBUG = True
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'test.sqlite3'}")}
DATABASES["default"]["TEST"] = {"NAME": None}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file (not :memory:) so that threads in transactional tests share one database. It sits
    # next to the configured one, so runs with different DATABASE_URLs never share it.
    configured = Path(DATABASES["default"]["NAME"])
    test_name = BASE_DIR / "test-run.sqlite3"
    if configured.name not in ("", ":memory:") and configured != BASE_DIR / "test.sqlite3":
        test_name = configured.with_name(f"{configured.stem}-test-run.sqlite3")
    DATABASES["default"]["TEST"] = {"NAME": str(test_name)}
    # Threads write at once in the concurrency tests: a transaction that takes the write lock
    # when it begins waits for the other one, instead of failing with "database is locked"
    # when it turns from reading to writing.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_accepton",
    "store",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "tests.secret_watch.ScanResponsesMiddleware",
]

ROOT_URLCONF = "tests.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "store.context_processors.accepton",
            ]
        },
    }
]
STATIC_URL = "/static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REST_FRAMEWORK = {"DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema"}

# The embedded sandbox; tests that talk to AcceptOn point this at the per-session sandbox server
# (see the ``accepton`` fixture in tests/conftest.py).
ACCEPTON = {
    "ENVIRONMENT": "sandbox",
    "RECURRING_TOKEN_MAKER": "django_accepton.sandbox.hooks.make_recurring_token",
}
if env("ACCEPTON_TEST_SANDBOX_URL", default=""):
    # A Celery worker process started by the task tests: it talks to the test's sandbox.
    ACCEPTON = {
        "ENVIRONMENT": "sandbox",
        "BASE_URL": env("ACCEPTON_TEST_SANDBOX_URL"),
        "SECRET_KEY": env("ACCEPTON_TEST_SECRET_KEY"),
        "PUBLIC_KEY": env("ACCEPTON_TEST_PUBLIC_KEY"),
        "RECURRING_TOKEN_MAKER": "django_accepton.sandbox.hooks.make_recurring_token",
    }

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/0")
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default="redis://127.0.0.1:6379/1")
