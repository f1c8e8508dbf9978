"""Minting transaction tokens for checkout pages, and reusing them while they are fresh."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.cache import caches
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


# ----- the reuse hint ---------------------------------------------------------------------------
#
# With ``TOKEN_CACHE`` naming one of the project's caches, a fresh token is also kept there under
# its fingerprint, so that a render of a page whose token is fresh costs neither a query nor a
# call (one cache read). The database stays the truth, and the cache only a hint that can say
# "no" but never hand out a token someone paid:
#
# - a claim of a token (verification calls forget_token before it inserts the claim) writes a
#   *tombstone* under the same fingerprint naming the token, and a hint for a token its
#   fingerprint's tombstone names is ignored. A render that read the database just before the
#   claim and wrote its hint just after is thus still never believed;
# - an entry is a copy of the row's columns, kept no longer than the token is fresh.
#
# The cache must be shared by every process that renders or verifies (Redis, Memcached, the
# database or file cache): in a process-local cache, one process would keep handing out a token
# another one has seen paid, so LocMemCache is refused (accepton.E021).

_HINT_FIELDS = (
    "id",
    "environment",
    "amount",
    "currency",
    "description",
    "application_fee",
    "merchant_paypal_account",
    "content_type_id",
    "object_id",
    "reference",
    "fingerprint",
    "quantity",
    "sold_once",
    "user_id",
)


def _hint_cache() -> Any:
    alias = get_settings().token_cache
    return caches[alias] if alias else None


def _hint_key(fingerprint: str) -> str:
    return f"django_accepton:token:{fingerprint}"


def _claimed_key(fingerprint: str) -> str:
    return f"django_accepton:token-claimed:{fingerprint}"


def _hinted(fingerprint: str) -> TransactionToken | None:
    store = _hint_cache()
    if store is None:
        return None
    found = store.get_many([_hint_key(fingerprint), _claimed_key(fingerprint)])
    values = found.get(_hint_key(fingerprint))
    if not isinstance(values, dict) or values.get("fingerprint") != fingerprint:
        return None
    if found.get(_claimed_key(fingerprint)) == values.get("id"):
        return None  # claimed since: the database decides
    token = TransactionToken(**{field: values[field] for field in _HINT_FIELDS})
    token.created = values["created"]
    token._state.adding = False
    token._state.db = "default"
    return token


def _remember(token: TransactionToken, ttl: int) -> None:
    store = _hint_cache()
    if store is None or ttl <= 0:
        return
    left = int(ttl - (timezone.now() - token.created).total_seconds())
    if left > 0:
        values = {field: getattr(token, field) for field in _HINT_FIELDS}
        values["created"] = token.created
        store.set(_hint_key(token.fingerprint), values, timeout=left)


def forget_token(token: TransactionToken) -> None:
    """``token`` is being claimed: no page may be handed it again (see above)."""
    store = _hint_cache()
    if store is None or not token.fingerprint:
        return
    ttl = max(get_settings().token_cache_ttl, 1)
    store.set(_claimed_key(token.fingerprint), token.pk, timeout=ttl)
    store.delete(_hint_key(token.fingerprint))


def _reusable(fingerprint: str, environment: str, ttl: int) -> TransactionToken | None:
    if ttl <= 0:
        return None
    hinted = _hinted(fingerprint)
    if hinted is not None and hinted.environment == environment:
        return hinted
    found = (
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
    if found is not None:
        _remember(found, ttl)
    return found


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
    token = TransactionToken.objects.create(
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
    if reuse:
        _remember(token, get_settings().token_cache_ttl)
    return token
