from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses

from django_accepton.client import AcceptOn

from .payloads import BASE_URL, SECRET_KEY


@pytest.fixture
def sleeps() -> list[float]:
    """Backoff delays the client asked for, instead of sleeping them."""
    return []


@pytest.fixture
def client(sleeps: list[float]) -> Iterator[AcceptOn]:
    with AcceptOn(
        SECRET_KEY, environment="sandbox", base_url=BASE_URL, sleep=sleeps.append
    ) as accepton:
        yield accepton


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    """No real network: any request without a registered answer fails the test."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps
