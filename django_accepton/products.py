"""What a checkout sells: the product protocol.

Anything can be sold if it tells its price in one of three ways:

* it has ``accepton_amount`` (minor units), ``accepton_currency`` and optionally
  ``accepton_description``, ``accepton_reference``, ``accepton_sold_once`` and
  ``accepton_quantity`` attributes (or properties);
* it is a mapping with ``amount``, ``currency`` and optionally ``description``, ``reference``,
  ``sold_once`` and ``quantity``;
* ``ACCEPTON["PRODUCT_ADAPTER"]`` names a callable that turns it into a :class:`ProductInfo`.

What is sold once and what is sold again and again differ:

* an **order** (``sold_once`` true, the default) is paid once: every shopper who opens it is
  offered the same token, and a second paid charge for it, through whatever token, is never
  fulfilled (``order_already_paid``, an attention item);
* a **catalogue product** (``sold_once`` false: a "Buy now" button on a product page) is sold
  to every shopper who pays: each shopper gets a token of their own (per session), every
  verified charge is one sale of ``quantity`` of it, and ``charge_verified`` says which product
  (``token.target``) and how many (``token.quantity``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.module_loading import import_string

from django_accepton.conf import get_settings
from django_accepton.models import Plan

CURRENCY_RE = re.compile(r"^[a-z]{3}$")


class ProductError(ValueError):
    """The object cannot be sold: it has no usable price."""


@dataclass(frozen=True)
class ProductInfo:
    amount: int
    currency: str
    description: str = ""
    reference: str = ""
    application_fee: int | None = None
    merchant_paypal_account: str = ""
    # A saved model instance the token is linked to (generic relation), if any.
    instance: models.Model | None = None
    # An order (sold once) or a catalogue product (sold to every shopper who pays).
    sold_once: bool = True
    quantity: int = 1

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount <= 0:
            raise ProductError(
                f"amount must be a positive integer of minor units, not {self.amount!r}."
            )
        currency = str(self.currency).lower()
        if not CURRENCY_RE.match(currency):
            raise ProductError(f"currency must be a 3-letter ISO 4217 code, not {self.currency!r}.")
        object.__setattr__(self, "currency", currency)
        fee = self.application_fee
        if fee is not None and (isinstance(fee, bool) or not isinstance(fee, int) or fee < 0):
            raise ProductError(f"application_fee must be a non-negative integer, not {fee!r}.")
        if not isinstance(self.sold_once, bool):
            raise ProductError(f"sold_once must be True or False, not {self.sold_once!r}.")
        count = self.quantity
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 1_000_000:
            raise ProductError(f"quantity must be a whole number from 1, not {count!r}.")


def _from_mapping(data: Mapping[str, Any]) -> ProductInfo:
    try:
        return ProductInfo(
            amount=data["amount"],
            currency=data["currency"],
            description=str(data.get("description", "")),
            reference=str(data.get("reference", "")),
            application_fee=data.get("application_fee"),
            merchant_paypal_account=str(data.get("merchant_paypal_account", "")),
            sold_once=data.get("sold_once", True),
            quantity=data.get("quantity", 1),
        )
    except KeyError as exc:
        raise ProductError(f"A product mapping needs {exc.args[0]!r}.") from None


def _from_attributes(obj: Any) -> ProductInfo:
    instance = obj if isinstance(obj, models.Model) and obj.pk is not None else None
    return ProductInfo(
        amount=obj.accepton_amount,
        currency=obj.accepton_currency,
        description=str(getattr(obj, "accepton_description", "") or ""),
        reference=str(getattr(obj, "accepton_reference", "") or ""),
        application_fee=getattr(obj, "accepton_application_fee", None),
        merchant_paypal_account=str(getattr(obj, "accepton_merchant_paypal_account", "") or ""),
        instance=instance,
        sold_once=getattr(obj, "accepton_sold_once", True),
        quantity=getattr(obj, "accepton_quantity", 1),
    )


def describe_product(obj: Any) -> ProductInfo:
    if isinstance(obj, ProductInfo):
        return obj
    adapter_path = get_settings().product_adapter
    if adapter_path:
        adapter: Callable[[Any], ProductInfo | None] = import_string(adapter_path)
        info = adapter(obj)
        if info is not None:
            return info
    if isinstance(obj, Mapping):
        return _from_mapping(obj)
    if hasattr(obj, "accepton_amount") and hasattr(obj, "accepton_currency"):
        return _from_attributes(obj)
    if isinstance(obj, Plan):
        raise ProductError(
            "A plan is paid with its recurring token: {% accepton_subscription_form plan %}."
        )
    raise ProductError(
        f"{type(obj).__name__} is not a product: give it accepton_amount and accepton_currency, "
        "pass a dict with amount and currency, or set ACCEPTON['PRODUCT_ADAPTER']."
    )
