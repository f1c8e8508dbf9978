"""Tests of the AcceptOn sandbox, over real HTTP with ``requests`` only.

``Api`` is a deliberately thin wrapper (base URL + key) so that what a test sends is exactly what
is on the wire; the project's own client is not used here.
"""

from __future__ import annotations

from typing import Any

import requests

from django_accepton.sandbox import TEST_CARDS, SandboxServer

TIMEOUT = 10
FUTURE_YEAR = "2040"


class Api:
    def __init__(self, server: SandboxServer, key: str | None = None) -> None:
        self.server = server
        self.url = server.url
        self.session = requests.Session()
        if key != "":
            self.session.headers["Authorization"] = f"Bearer {key or server.secret_key}"

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(self.url + path, params=params, timeout=TIMEOUT)

    def post(self, path: str, data: Any = None, **kwargs: Any) -> requests.Response:
        return self.session.post(self.url + path, data=data, timeout=TIMEOUT, **kwargs)

    def put(self, path: str, data: Any = None, **kwargs: Any) -> requests.Response:
        return self.session.put(self.url + path, data=data, timeout=TIMEOUT, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.delete(self.url + path, timeout=TIMEOUT, **kwargs)

    def control(self, name: str, payload: Any = None, method: str = "POST") -> requests.Response:
        return requests.request(
            method,
            f"{self.url}/__sandbox__/{name}",
            # A control that changes state takes a JSON body, even an empty one.
            json=payload if payload is not None or method in ("GET", "HEAD") else {},
            timeout=TIMEOUT,
        )

    # Shortcuts for the objects most tests need.

    def token(self, amount: int = 1000, **extra: Any) -> dict[str, Any]:
        answer = self.post("/v1/tokens", {"amount": amount, "currency": "usd", **extra})
        assert answer.status_code == 201, answer.text
        return answer.json()  # type: ignore[no-any-return]

    def plan(self, name: str = "Gold", amount: int = 1500, unit: str = "month") -> dict[str, Any]:
        answer = self.post(
            "/v1/recurring/plans",
            {"name": name, "amount": amount, "currency": "usd", "period_unit": unit},
        )
        assert answer.status_code == 201, answer.text
        return answer.json()  # type: ignore[no-any-return]

    def pay(
        self,
        token_id: str,
        number: str = TEST_CARDS["success"],
        *,
        exp_month: str = "12",
        exp_year: str = FUTURE_YEAR,
        cvc: str = "123",
        email: str = "ann@example.com",
        **extra: str,
    ) -> requests.Response:
        """Pay as the hosted form does: form-encoded, public key as ``access_token``."""
        data = {
            "access_token": self.server.public_key,
            "token": token_id,
            "card[number]": number,
            "card[exp_month]": exp_month,
            "card[exp_year]": exp_year,
            "card[security_code]": cvc,
            "email": email,
            **extra,
        }
        return requests.post(f"{self.url}/v1/charges", data=data, timeout=TIMEOUT)

    def charge(self, amount: int = 1000, **extra: str) -> dict[str, Any]:
        answer = self.pay(self.token(amount)["id"], **extra)
        assert answer.status_code == 201, answer.text
        return answer.json()  # type: ignore[no-any-return]


def error_of(answer: requests.Response) -> tuple[int, str]:
    """``(status, error.type)`` of an error answer."""
    return answer.status_code, answer.json()["error"]["type"]
