"""Client for AcceptOn's DynamicKit API (``docs/api-calls.md``). Plain Python: no Django import.

>>> from django_accepton.client import AcceptOn
>>> client = AcceptOn("skey_…", environment="staging")
>>> token = client.tokens.create(1000, "usd", description="Order 42")
"""

from . import pricing
from .client import ENVIRONMENTS, FORM_SCRIPTS, AcceptOn
from .errors import (
    NOT_FOUND_ERROR_TYPES,
    AcceptOnError,
    APIConnectionError,
    APIError,
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    PagingIgnored,
    ServiceUnavailableError,
)
from .resources import (
    Charge,
    Page,
    Plan,
    PromoCode,
    Refund,
    Subscription,
    TransactionToken,
)
from .secret import Secret
from .services import (
    Charges,
    DateWindow,
    Plans,
    PromoCodes,
    Refunds,
    Service,
    Subscriptions,
    Tokens,
)
from .transport import Transport

__all__ = [
    "ENVIRONMENTS",
    "FORM_SCRIPTS",
    "NOT_FOUND_ERROR_TYPES",
    "APIConnectionError",
    "APIError",
    "AcceptOn",
    "AcceptOnError",
    "AuthenticationError",
    "Charge",
    "Charges",
    "DateWindow",
    "InvalidRequestError",
    "NotFoundError",
    "Page",
    "PagingIgnored",
    "Plan",
    "Plans",
    "PromoCode",
    "PromoCodes",
    "Refund",
    "Refunds",
    "Secret",
    "Service",
    "ServiceUnavailableError",
    "Subscription",
    "Subscriptions",
    "Tokens",
    "TransactionToken",
    "Transport",
    "pricing",
]
