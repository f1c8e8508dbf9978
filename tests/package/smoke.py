"""Run inside a fresh virtualenv holding only the wheel and its core requirements (Django,
requests): the core works, and every extra that is missing says so clearly.

``make package-check`` builds the wheel, checks its metadata with twine, installs it into a new
virtualenv and runs this file there. It is not collected by pytest (it needs that virtualenv).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import django
from django.conf import settings

sys.path.insert(0, str(Path(__file__).resolve().parent))  # smoke_urls

assert importlib.util.find_spec("rest_framework") is None, "the drf extra is installed here"
assert importlib.util.find_spec("celery") is None, "the celery extra is installed here"

settings.configure(
    DEBUG=True,
    SECRET_KEY="smoke-test-only",
    ALLOWED_HOSTS=["testserver"],
    ROOT_URLCONF="smoke_urls",
    INSTALLED_APPS=[
        "django.contrib.contenttypes",
        "django.contrib.auth",
        "django.contrib.sessions",
        "django_accepton",
    ],
    MIDDLEWARE=[
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}],
    ACCEPTON={"ENVIRONMENT": "sandbox"},
    USE_TZ=True,
)
django.setup()

from django.core.management import call_command  # noqa: E402
from django.template import Context, Template  # noqa: E402
from django.test import Client  # noqa: E402

call_command("check", fail_level="ERROR")
call_command("migrate", verbosity=0)

# The checkout form renders on the embedded sandbox: client, models, services, tag.
html = Template("{% load accepton %}{% accepton_form product %}").render(
    Context({"product": {"amount": 1200, "currency": "usd", "description": "Smoke"}})
)
assert 'data-token="txn_' in html, html

# The JSON route says which extra it needs; the form's route works without it.
answer = Client().post("/accepton/api/charges/verify/", "{}", content_type="application/json")
assert answer.status_code == 501, answer.status_code
assert "django-accepton[drf]" in json.loads(answer.content)["detail"]
answer = Client().get("/accepton/api/schema/")  # its OpenAPI description, the same extra
assert answer.status_code == 501, answer.status_code
assert "django-accepton[drf]" in json.loads(answer.content)["detail"]
assert Client().post("/accepton/return/", {}).status_code == 400

try:
    import django_accepton.tasks  # noqa: F401
except ImportError as exc:
    assert "django-accepton[celery]" in str(exc), exc  # noqa: PT017 - no pytest here
else:
    raise AssertionError("django_accepton.tasks imported without Celery")

# The German locale ships compiled.
from django.utils import translation  # noqa: E402

with translation.override("de"):
    assert translation.gettext("Payment received") == "Zahlung erhalten"

print(f"package smoke test passed on Python {sys.version.split()[0]}, Django {django.__version__}")
