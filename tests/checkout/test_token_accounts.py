"""A reused token must exist on the account the form will ask about."""

from __future__ import annotations

import pytest

from django_accepton.sandbox import SandboxServer
from django_accepton.services.tokens import mint_token

ORDER = {"amount": 1200, "currency": "usd", "description": "Order 1", "reference": "order-1"}


@pytest.mark.django_db
def test_a_token_is_reused_on_its_own_account(accepton):
    assert mint_token(ORDER).pk == mint_token(ORDER).pk


@pytest.mark.django_db
def test_a_token_of_another_account_is_not_reused(accepton, settings):
    first = mint_token(ORDER)
    # Another account of the same environment: new keys, or the embedded sandbox started again
    # with the process (a new port, new keys and none of the old tokens).
    with SandboxServer() as other:
        settings.ACCEPTON = {
            "ENVIRONMENT": "sandbox",
            "BASE_URL": other.url,
            "SECRET_KEY": other.secret_key,
            "PUBLIC_KEY": other.public_key,
        }
        second = mint_token(ORDER)
        assert second.pk != first.pk
        assert other.state.retrieve_token(second.pk)["amount"] == 1200
