"""Start-up checks catch missing and inconsistent settings, without printing keys."""

from __future__ import annotations

import pytest

from django_accepton.checks import check_settings

SECRET = "skey_" + "5" * 32
PUBLIC = "pkey_" + "6" * 16


def ids(settings, value):
    settings.ACCEPTON = value
    return [message.id for message in check_settings()]


def test_embedded_sandbox_needs_nothing_else(settings):
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
            ["accepton.W001"],
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
