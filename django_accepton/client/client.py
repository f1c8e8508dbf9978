"""The ``AcceptOn`` client: one object per secret key and environment."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from types import MappingProxyType, TracebackType
from typing import Self

import requests

from .errors import NotFoundError
from .secret import Secret
from .services import Charges, Plans, PromoCodes, Refunds, Subscriptions, Tokens
from .transport import Timeout, Transport

ENVIRONMENTS: Mapping[str, str] = MappingProxyType(
    {
        "production": "https://checkout.accepton.com",
        "staging": "https://staging-checkout.accepton.com",
    }
)
FORM_SCRIPTS: Mapping[str, str] = MappingProxyType(
    {
        "production": "https://js.accepton.com/scripts/accepton.js",
        "staging": "https://staging-js.accepton.com/scripts/accepton.js",
    }
)


class AcceptOn:
    """Client for AcceptOn's secret-key API.

    ``environment`` is required: ``"production"`` and ``"staging"`` select AcceptOn's hosts (their
    accounts and keys are separate); any other name (e.g. ``"sandbox"``) needs ``base_url``, which
    may also point a known environment elsewhere, such as a proxy.
    """

    tokens_class: type[Tokens] = Tokens
    charges_class: type[Charges] = Charges
    refunds_class: type[Refunds] = Refunds
    plans_class: type[Plans] = Plans
    subscriptions_class: type[Subscriptions] = Subscriptions
    promo_codes_class: type[PromoCodes] = PromoCodes
    transport_class: type[Transport] = Transport
    ping_path = "/ping"
    # Where AcceptOn's documents put plans and subscriptions (the clients disagree).
    recurring_prefixes: tuple[str, ...] = ("/v1/recurring", "/v1")

    def __init__(
        self,
        secret_key: str | Secret,
        *,
        environment: str,
        base_url: str | None = None,
        timeout: Timeout = (5, 30),
        max_retries: int = 2,
        recurring_prefix: str = "/v1/recurring",
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        # Held as a Secret from here on: no frame below shows it (see client.secret).
        secret = Secret.of(secret_key)
        secret_key = secret
        if not isinstance(environment, str) or not environment:
            raise ValueError("environment must be 'production', 'staging' or a name with base_url")
        if base_url is None:
            if environment not in ENVIRONMENTS:
                raise ValueError(
                    f"environment {environment!r} is not 'production' or 'staging': "
                    "pass base_url as well"
                )
            base_url = ENVIRONMENTS[environment]
        if not isinstance(base_url, str) or not base_url.startswith(("https://", "http://")):
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        if not recurring_prefix.startswith("/"):
            raise ValueError(f"recurring_prefix must start with '/', got {recurring_prefix!r}")

        self.environment = environment
        self.base_url = base_url.rstrip("/")
        self.recurring_prefix = recurring_prefix.rstrip("/")
        # Prefixes whose plan list answered: a 404 under one of them is about the object.
        self._serving: set[str] = set()
        self._masked_key = secret.masked
        self.transport = self.transport_class(
            secret,
            self.base_url,
            timeout=timeout,
            max_retries=max_retries,
            session=session,
            sleep=sleep,
        )
        self.tokens = self.tokens_class(self)
        self.charges = self.charges_class(self)
        self.refunds = self.refunds_class(self)
        self.plans = self.plans_class(self)
        self.subscriptions = self.subscriptions_class(self)
        self.promo_codes = self.promo_codes_class(self)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(environment={self.environment!r}, "
            f"base_url={self.base_url!r}, secret_key={self._masked_key!r})"
        )

    @property
    def form_script_url(self) -> str:
        """The ``accepton.js`` loader matching this environment, for the payment form tag."""
        if self.environment in FORM_SCRIPTS:
            return FORM_SCRIPTS[self.environment]
        return f"{self.base_url}/scripts/accepton.js"

    @property
    def timeout(self) -> Timeout:
        return self.transport.timeout

    @property
    def max_retries(self) -> int:
        return self.transport.max_retries

    def switch_recurring_prefix(self, failed: str) -> str | None:
        """After a 404 under ``failed``: the prefix plans and subscriptions live under instead,
        remembered for later calls, or ``None`` when ``failed`` does serve them (so the 404 was
        about the object asked for) or no prefix does.

        A prefix is served when its plan list answers; that costs one call per prefix tried,
        once per client: a prefix seen to serve is not asked again.
        """
        if failed == self.recurring_prefix and failed in self._serving:
            return None
        if failed != self.recurring_prefix or self._serves(failed):
            return None if failed == self.recurring_prefix else self.recurring_prefix
        for prefix in self.recurring_prefixes:
            if prefix != failed and self._serves(prefix):
                self.recurring_prefix = prefix
                return prefix
        return None

    def _serves(self, prefix: str) -> bool:
        try:
            self.transport.send("GET", f"{prefix}/plans", params={"page": 1, "per_page": 1})
        except NotFoundError as exc:
            if exc.http_status == 404:
                return False
            raise
        self._serving.add(prefix)
        return True

    def ping(self) -> bool:
        """``True`` when AcceptOn accepts the key; raises the mapped error otherwise.

        Judged by the status alone: the body of ``/ping`` was never documented.
        """
        self.transport.send("GET", self.ping_path)
        return True

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
