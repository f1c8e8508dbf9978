from __future__ import annotations

import re
from datetime import date
from typing import Any

import requests
from django.template import Context, Template
from django.test import RequestFactory

SUCCESS_CARD = "4242424242424242"
DECLINE_CARD = "4000000000000002"


def pay(
    sandbox: Any, token_id: str, *, card: str = SUCCESS_CARD, promo_code: str = ""
) -> requests.Response:
    """What the sandbox's hosted form sends when the customer presses Pay."""
    data = {
        "access_token": sandbox.public_key,
        "token": token_id,
        "card[number]": card,
        "card[exp_month]": "12",
        "card[exp_year]": str(date.today().year + 2),
        "card[security_code]": "123",
        "email": "buyer@example.com",
    }
    if promo_code:
        data["promo_code"] = promo_code
    return requests.post(f"{sandbox.url}/v1/charges", data=data, timeout=10)


def control(sandbox: Any, name: str, payload: dict[str, Any]) -> None:
    answer = requests.post(f"{sandbox.url}/__sandbox__/{name}", json=payload, timeout=10)
    assert answer.status_code in (200, 201), answer.text


def render_form(product: Any, arguments: str = "", **context: Any) -> str:
    request = RequestFactory().get("/shop/")
    template = Template("{% load accepton %}{% accepton_form product " + arguments + " %}")
    return template.render(Context({"product": product, "request": request, **context}))


def token_in(html: str) -> str:
    match = re.search(r'data-token="([^"]+)"', html)
    assert match, html
    return match.group(1)
