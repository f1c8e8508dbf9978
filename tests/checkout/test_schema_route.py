"""The drf extra's OpenAPI description of the JSON route, served at ``api/schema/``."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

import django_accepton.urls
from django_accepton import __version__, views

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["spectacular", "drf default"])
def schema_class(request, settings):
    """The schema route works whatever the site's DEFAULT_SCHEMA_CLASS (or none)."""
    if request.param == "drf default":
        settings.REST_FRAMEWORK = {}
    return request.param


def test_the_schema_route_describes_the_json_route_at_its_mounted_path(client, schema_class):
    answer = client.get(reverse("accepton:schema") + "?format=json")

    assert answer.status_code == 200
    schema = json.loads(answer.content)
    assert schema["openapi"].startswith("3.")
    assert (schema["info"]["title"], schema["info"]["version"]) == ("django-accepton", __version__)
    # Only the package's routes, under the prefix the site mounts them at (tests/urls.py).
    assert list(schema["paths"]) == ["/accepton/api/charges/verify/"]
    operation = schema["paths"]["/accepton/api/charges/verify/"]["post"]
    assert operation["operationId"] == "accepton_verify_charge"
    assert set(operation["responses"]) >= {"200", "202", "400", "403", "409", "422"}


IMPORTED_UNDER_DRFS_DEFAULT = """
import tests.settings as site
site.REST_FRAMEWORK = {}  # before Django reads it: the package is imported under DRF's default
import django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
from django.urls import reverse
setup_test_environment()
print(Client().get(reverse("accepton:schema") + "?format=json").status_code)
"""


def test_the_schema_route_works_when_the_package_was_imported_under_drfs_default():
    """What the fixture above cannot show: the schema of a route is built when its module is
    imported, in a site that never set DEFAULT_SCHEMA_CLASS (a fresh interpreter)."""
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    run = subprocess.run(
        [sys.executable, "-c", IMPORTED_UNDER_DRFS_DEFAULT],
        env=environment,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert run.stdout.strip().splitlines()[-1:] == ["200"], run.stderr[-2000:]
    assert "could not resolve" not in run.stderr  # no warning on every request


def test_the_schema_is_yaml_by_default(client):
    answer = client.get(reverse("accepton:schema"))

    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("application/vnd.oai.openapi")
    assert "operationId: accepton_verify_charge" in answer.content.decode()


def test_without_the_drf_extra_both_json_routes_answer_501(monkeypatch):
    # What a site without djangorestframework or drf-spectacular gets (tests/package/smoke.py
    # checks it for real, in a virtualenv without the extra).
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "drf_spectacular" else real(name, *args),
    )
    try:
        importlib.reload(django_accepton.urls)
        routes = {p.name: p.callback for p in django_accepton.urls.urlpatterns}
        assert routes["verify"] is views.json_route_unavailable
        assert routes["schema"] is views.json_route_unavailable
    finally:
        monkeypatch.undo()
        importlib.reload(django_accepton.urls)
    answer = views.json_route_unavailable(None)
    assert answer.status_code == 501
    assert "pip install 'django-accepton[drf]'" in json.loads(answer.content)["detail"]
