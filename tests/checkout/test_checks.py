"""Start-up checks catch missing and inconsistent settings, without printing keys."""

from __future__ import annotations

import pytest
from django.core import mail
from django.template import Template

from django_accepton.checks import check_settings

SECRET = "skey_" + "5" * 32
PUBLIC = "pkey_" + "6" * 16


def ids(settings, value):
    settings.ACCEPTON = value
    return [message.id for message in check_settings()]


def test_embedded_sandbox_needs_nothing_else(settings):
    settings.DEBUG = True
    assert ids(settings, {"ENVIRONMENT": "sandbox"}) == []


def test_the_embedded_sandbox_is_refused_outside_debug(settings, monkeypatch):
    settings.DEBUG = False
    monkeypatch.delattr(mail, "outbox")  # a server's process, not a test run
    assert ids(settings, {"ENVIRONMENT": "sandbox"}) == ["accepton.E031"]


def test_a_locmem_mail_outbox_alone_is_not_a_test_run(settings, monkeypatch):
    # The locmem backend makes mail.outbox in any process that sends mail with it.
    settings.DEBUG = False
    monkeypatch.setattr(Template, "_render", lambda self, context: self.nodelist.render(context))
    assert mail.outbox is not None
    assert ids(settings, {"ENVIRONMENT": "sandbox"}) == ["accepton.E031"]


def test_the_embedded_sandbox_is_allowed_in_a_test_run_without_debug(settings):
    # Django's test runner turns DEBUG off (manage.py test); its mail outbox marks the run.
    settings.DEBUG = False
    assert mail.outbox is not None
    assert ids(settings, {"ENVIRONMENT": "sandbox"}) == []


def test_complete_staging_settings_pass(settings):
    assert (
        ids(settings, {"ENVIRONMENT": "staging", "SECRET_KEY": SECRET, "PUBLIC_KEY": PUBLIC}) == []
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({}, ["accepton.E002"]),
        ({"ENVIRONMENT": "prod"}, ["accepton.E002"]),
        ({"ENVIRONMENT": "production"}, ["accepton.E003", "accepton.E005"]),
        (
            {"ENVIRONMENT": "staging", "SECRET_KEY": PUBLIC, "PUBLIC_KEY": PUBLIC},
            ["accepton.E004", "accepton.E007"],
        ),
        (
            {"ENVIRONMENT": "staging", "SECRET_KEY": SECRET, "PUBLIC_KEY": SECRET},
            ["accepton.E006", "accepton.E007"],
        ),
        (
            {"ENVIRONMENT": "staging", "SECRET_KEY": SECRET, "PUBLIC_KEY": PUBLIC, "COLOUR": 1},
            ["accepton.E001"],
        ),
        (
            {
                "ENVIRONMENT": "production",
                "SECRET_KEY": SECRET,
                "PUBLIC_KEY": PUBLIC,
                "BASE_URL": "http://x",
            },
            ["accepton.E030", "accepton.W001"],
        ),
        (
            {
                "ENVIRONMENT": "production",
                "SECRET_KEY": SECRET,
                "PUBLIC_KEY": PUBLIC,
                "BASE_URL": "https://127.0.0.1:8765",
            },
            ["accepton.E032", "accepton.W001"],
        ),
        (
            {
                "ENVIRONMENT": "staging",
                "SECRET_KEY": SECRET,
                "PUBLIC_KEY": PUBLIC,
                "BASE_URL": "http://proxy.internal",
            },
            ["accepton.E030"],
        ),
        (
            {
                "ENVIRONMENT": "staging",
                "SECRET_KEY": SECRET,
                "PUBLIC_KEY": PUBLIC,
                "BASE_URL": "http://proxy.internal",
                "ALLOW_INSECURE_BASE_URL": True,
            },
            [],
        ),
        (
            {"ENVIRONMENT": "sandbox", "BASE_URL": "http://127.0.0.1:1"},
            ["accepton.E003", "accepton.E005"],
        ),
    ],
)
def test_problems_are_reported(settings, value, expected):
    assert ids(settings, value) == expected


def test_messages_never_contain_the_key(settings):
    settings.ACCEPTON = {
        "ENVIRONMENT": "staging",
        "SECRET_KEY": "skey_" + "9" * 32,
        "PUBLIC_KEY": "skey_" + "9" * 32,
    }
    text = " ".join(str(message) for message in check_settings())
    assert "9999" not in text
    assert "E006" in text


STAGING = {"ENVIRONMENT": "staging", "SECRET_KEY": SECRET, "PUBLIC_KEY": PUBLIC}


@pytest.mark.parametrize(
    ("setting", "value", "expected"),
    [
        ("BASE_URL", "staging-checkout.accepton.com", "accepton.E010"),
        ("BASE_URL", 12, "accepton.E010"),
        ("TIMEOUT", 0, "accepton.E011"),
        ("TIMEOUT", "30", "accepton.E011"),
        ("TIMEOUT", (5, -1), "accepton.E011"),
        ("MAX_RETRIES", -1, "accepton.E012"),
        ("MAX_RETRIES", "two", "accepton.E012"),
        ("MAX_RETRIES", True, "accepton.E012"),
        ("RECURRING_PREFIX", "v1/recurring", "accepton.E013"),
        ("FORM_SCRIPT_URL", "js.accepton.com/accepton.js", "accepton.E014"),
        ("SUCCESS_URL", "", "accepton.E015"),
        ("TOKEN_CACHE_TTL", "900", "accepton.E016"),
        ("PENDING_REVERIFY_AFTER", -5, "accepton.E016"),
        ("MAX_RESPONSE_BYTES", 0, "accepton.E016"),
        ("PRODUCT_ADAPTER", 3, "accepton.E017"),
        ("PRODUCT_ADAPTER", "not a dotted path", "accepton.E017"),
        ("RECURRING_TOKEN_MAKER", "nodots", "accepton.E017"),
        ("RECURRING_TOKEN_MAKER", "shop.makers.", "accepton.E017"),
        ("ACCEPT_PROMO_CODES", "yes", "accepton.E018"),
        ("REFUND_UNFULFILLED", 1, "accepton.E018"),
        ("PROMO_PERCENT_SCALE", "percentage", "accepton.E019"),
        ("SANDBOX_DIALECT", "friendly", "accepton.E020"),
        ("SECRET_KEY", "skey_ 123", "accepton.E004"),
        ("BASE_URL", "https://staging-checkout..accepton.com", "accepton.E010"),
        ("BASE_URL", "http://[::1", "accepton.E010"),
        ("BASE_URL", "http://127.0.0.1:99999", "accepton.E010"),
        ("TIMEOUT", float("inf"), "accepton.E011"),
    ],
)
def test_each_unusable_setting_is_its_own_clean_error(settings, setting, value, expected):
    messages = check_settings_with(settings, {**STAGING, setting: value})

    assert [message.id for message in messages] == [expected]
    assert setting in messages[0].msg
    assert "123" not in messages[0].msg or setting != "SECRET_KEY"


def check_settings_with(settings, value):
    settings.ACCEPTON = value
    return check_settings()


def test_several_unusable_settings_are_all_reported(settings):
    messages = check_settings_with(settings, {**STAGING, "TIMEOUT": 0, "MAX_RETRIES": -1})
    assert [message.id for message in messages] == ["accepton.E011", "accepton.E012"]


def test_a_key_pasted_into_another_setting_is_never_printed(settings):
    messages = check_settings_with(settings, {**STAGING, "BASE_URL": "skey_" + "4" * 28})
    assert [message.id for message in messages] == ["accepton.E010"]
    assert "4444" not in messages[0].msg


def test_odd_names_and_empty_choices_are_clean_answers(settings):
    assert [m.id for m in check_settings_with(settings, {**STAGING, 1: "x"})] == ["accepton.E001"]
    assert check_settings_with(settings, {**STAGING, "SANDBOX_DIALECT": ""}) == []
    assert check_settings_with(settings, {**STAGING, "FORM_SCRIPT_URL": "/static/a.js"}) == []
