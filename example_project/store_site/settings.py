"""The example store's settings: every knob comes from the environment (see .env.example)."""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from django_accepton.schedule import BEAT_SCHEDULE

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
if (BASE_DIR / ".env").exists():
    env.read_env(str(BASE_DIR / ".env"))

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="django-insecure-example-store-only")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

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
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "store_site.urls"
WSGI_APPLICATION = "store_site.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # runserver answers requests in threads: writers queue for the lock at BEGIN instead of
    # failing with "database is locked" when a reading transaction starts to write.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "/static/"
LOGIN_URL = "/admin/login/"

ACCEPTON = {
    "ENVIRONMENT": env("ACCEPTON_ENVIRONMENT", default="sandbox"),
    "SECRET_KEY": env("ACCEPTON_SECRET_KEY", default=None),
    "PUBLIC_KEY": env("ACCEPTON_PUBLIC_KEY", default=None),
    "BASE_URL": env("ACCEPTON_BASE_URL", default=None),
    # Paid, refused or still being confirmed: the order (or membership) page says which.
    "SUCCESS_URL": "store:order_status",
    "FAILURE_URL": "store:order_status",
    "PENDING_URL": "store:order_status",
    # How AcceptOn reads a percentage promo value: "fraction" (0.15 is 15 %) or "percent"
    # (15 is 15 %). Its documents disagree; check on your staging account before launch.
    "PROMO_PERCENT_SCALE": env("ACCEPTON_PROMO_PERCENT_SCALE", default="fraction"),
    # The embedded sandbox's reading of what AcceptOn's documents leave open (docs/sandbox.md).
    "SANDBOX_DIALECT": env("ACCEPTON_SANDBOX_DIALECT", default=None),
}
# Recurring (rtx_) tokens are made in AcceptOn's dashboard and set on each plan in the admin
# (Plan.recurring_token). On a sandbox, the sandbox makes them, standing in for the dashboard.
if ACCEPTON["ENVIRONMENT"] == "sandbox":
    ACCEPTON["RECURRING_TOKEN_MAKER"] = "django_accepton.sandbox.hooks.make_recurring_token"

# Celery (store_site/celery.py). Without a broker, tasks run inline in the web process, so the
# demo needs no Redis; with CELERY_BROKER_URL set, start a worker (and beat for the schedule).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="") or "memory://"
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL == "memory://"
if (
    not CELERY_TASK_ALWAYS_EAGER
    and ACCEPTON["ENVIRONMENT"] == "sandbox"
    and not ACCEPTON["BASE_URL"]
):
    # The embedded sandbox lives in one process; a worker would sync against another, empty one.
    raise ImproperlyConfigured(
        "A Celery worker cannot share the embedded AcceptOn sandbox. Run "
        "`python -m django_accepton.sandbox` and set ACCEPTON_BASE_URL and its keys."
    )
CELERY_TASK_EAGER_PROPAGATES = True
# For `worker -B`: syncs into the mirrors, pending payments, refunds whose outcome was lost.
CELERY_BEAT_SCHEDULE = BEAT_SCHEDULE

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django_accepton": {"handlers": ["console"], "level": "INFO"}},
}
