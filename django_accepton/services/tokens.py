"""Minting transaction tokens for checkout pages, and reusing them while they are fresh."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from django_accepton.api import current_environment, get_client, get_connection
from django_accepton.conf import get_settings
from django_accepton.models import TransactionToken
from django_accepton.products import ProductInfo, describe_product


@dataclass
class TokenCacheStats:
    """How often a render reused a token (hit) or had to ask AcceptOn for one (miss)."""

    hits: int = 0
    misses: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def record(self, *, hit: bool) -> None:
        with self._lock:
            if hit:
                self.hits += 1
            else:
                self.misses += 1

    def reset(self) -> None:
        with self._lock:
            self.hits = self.misses = 0


token_cache_stats = TokenCacheStats()


def _target(info: ProductInfo) -> tuple[ContentType | None, str]:
    if info.instance is None:
        return None, ""
    return ContentType.objects.get_for_model(info.instance), str(info.instance.pk)


def _account() -> str:
    """The AcceptOn account tokens are minted on: its host and public key (never the secret).

    A token exists only on the account that minted it. New keys, or an embedded sandbox that
    started again with the process (new port, new keys, no tokens), must not be handed a token
    of the old one.
    """
    try:
        connection = get_connection()
    except ImproperlyConfigured:
        return get_client().base_url
    return f"{connection.base_url}|{connection.public_key}"


def _fingerprint(
    environment: str,
    info: ProductInfo,
    content_type: ContentType | None,
    object_id: str,
    shopper: str,
    user_id: str,
) -> str:
    # Every field that changes what the customer pays, or for what, is part of the key:
    # a new price can never reuse a token minted for the old one. A catalogue product's token
    # is also its shopper's: two shoppers never pay one token.
    parts = [
        user_id,
        shopper if not info.sold_once else "",
        str(info.sold_once),
        str(info.quantity),
        environment,
        _account(),
        str(content_type.pk if content_type else ""),
        object_id,
        info.reference,
        str(info.amount),
        info.currency,
        info.description,
        str(info.application_fee if info.application_fee is not None else ""),
        info.merchant_paypal_account,
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _reusable(fingerprint: str, environment: str, ttl: int) -> TransactionToken | None:
    if ttl <= 0:
        return None
    return (
        TransactionToken.objects.filter(
            fingerprint=fingerprint,
            environment=environment,
            consumed_at__isnull=True,
            created__gte=timezone.now() - timedelta(seconds=ttl),
            # A token somebody already paid with (even unconfirmed) is not handed out again.
            charges__isnull=True,
        )
        .order_by("-created")
        .first()
    )


def mint_token(
    product: Any, *, reuse: bool = True, shopper: str = "", user: Any = None
) -> TransactionToken:
    """A token for ``product`` (see :mod:`django_accepton.products`), reused while fresh.

    Reuse keeps page renders from costing an API call each: the same product at the same price,
    within ``ACCEPTON["TOKEN_CACHE_TTL"]`` seconds and not yet paid, gets the same token. A
    catalogue product (not ``sold_once``) reuses a token only for the same ``shopper`` (the
    template tag passes a random id kept in the session); without one it mints a token each
    time. ``user``, when signed in, is the customer the token (and the charge that pays it) is
    linked to; it is part of the reuse key, so two users never share a token.
    """
    customer = user if getattr(user, "is_authenticated", False) else None
    info = describe_product(product)
    environment = current_environment()
    content_type, object_id = _target(info)
    fingerprint = _fingerprint(
        environment, info, content_type, object_id, shopper, str(customer.pk) if customer else ""
    )
    if not info.sold_once and not shopper:
        reuse = False
    if reuse:
        cached = _reusable(fingerprint, environment, get_settings().token_cache_ttl)
        if cached is not None:
            token_cache_stats.record(hit=True)
            return cached
    remote = get_client().tokens.create(
        amount=info.amount,
        currency=info.currency,
        description=info.description or None,
        application_fee=info.application_fee,
        merchant_paypal_account=info.merchant_paypal_account or None,
    )
    token_cache_stats.record(hit=False)
    return TransactionToken.objects.create(
        id=remote.id,
        environment=environment,
        amount=info.amount,
        currency=info.currency,
        description=info.description,
        application_fee=info.application_fee,
        merchant_paypal_account=info.merchant_paypal_account,
        content_type=content_type,
        object_id=object_id,
        reference=info.reference,
        fingerprint=fingerprint,
        quantity=info.quantity,
        sold_once=info.sold_once,
        user=customer,
        raw=remote.raw,
    )
