"""AcceptOn answers shaped like the fixtures of the official clients and the API reference."""

from __future__ import annotations

from typing import Any

# Shaped like a secret key, and plainly not one.
SECRET_KEY = "skey_" + "testonly" * 4
BASE_URL = "https://api.accepton.test"

TOKEN: dict[str, Any] = {
    "id": "txn_b43a7a2e4a0d4e1a9fbe3ac7d4e0a1b2",
    "type": "transaction",
    "amount": 1000,
    "application_fee": None,
    "currency": "usd",
    "description": "Order 42",
    "created": "2015-01-16T20:08:17.837Z",
}

CHARGE: dict[str, Any] = {
    "id": "chg_ff6024ab78980de7",
    "amount": 1000,
    "application_fee": None,
    "created_at": "2015-07-16T22:47:29.591+00:00",
    "currency": "usd",
    "description": "Order 42",
    "metadata": {"email": "buyer@example.com"},
    "refunded": False,
    "remote_id": "ch_16NowV2eZvKYlo2C0bgbEP5n",
    "status": "paid",
}

PAYPAL_CHARGE: dict[str, Any] = {
    "id": "chg_6c0f5e8a2d7b3c91",
    "amount": "2500",
    "application_fee": 100,
    "created_at": "2015-09-01T10:00:00Z",
    "currency": "usd",
    "refunded": False,
    "remote_id": "AP-7JD56683G1234567L",
    "status": "Completed",
}

REFUND: dict[str, Any] = {
    "id": "ref_123",
    "amount": 1000,
    "created_at": "2015-01-16T22:45:18.357Z",
    "currency": "usd",
    "metadata": None,
    "reason": "requested_by_customer",
}

PLAN: dict[str, Any] = {
    "object": "plan",
    "id": "pln_965d6898b660d85b",
    "amount": 1000,
    "created_at": "2015-08-21T20:20:14.690Z",
    "currency": "usd",
    "name": "Test Plan",
    "period_unit": "month",
}

SUBSCRIPTION: dict[str, Any] = {
    "object": "subscription",
    "id": "sub_2b3c4d5e6f708192",
    "active": True,
    "email": "mycustomer@email.com",
    "last_billed_at": "2015-08-21T22:43:34.096+00:00",
    "plan": PLAN,
}

PROMO_CODE: dict[str, Any] = {
    "object": "promo_code",
    "created_at": "2015-07-31T18:47:23.717Z",
    "name": "TEST15",
    "promo_type": "percentage",
    "value": 0.15,
}


def listing(items: list[dict[str, Any]], total: int | None = None) -> dict[str, Any]:
    return {"object": "list", "total": len(items) if total is None else total, "data": items}


def error(error_type: str, message: str) -> dict[str, Any]:
    return {"error": {"type": error_type, "message": message}}
