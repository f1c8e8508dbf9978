"""The resources of an AcceptOn account, one module each, as AcceptOn's API groups its calls.

Each class owns the ``table.Table`` of its objects and the rules AcceptOn applies to them (what
is checked, in which order, with which error). What they share belongs to the account they are
handed (``state.SandboxState``): the one lock, the clock, the sequence counter that orders
objects made in the same millisecond, the dialect, id generation, rendering, and the other
resources (a form charge reads its token and promo code and may start a subscription; a renewal
makes a charge). The account's public methods delegate here; call those, not these.

Public methods take the account's lock; the internal ones (``get``, ``add``, ``seed``...) expect
the caller to hold it.
"""

from __future__ import annotations

from .charges import Charges
from .plans import Plans
from .promo_codes import PromoCodes
from .refunds import Refunds
from .subscriptions import Subscriptions
from .tokens import Tokens

__all__ = ["Charges", "Plans", "PromoCodes", "Refunds", "Subscriptions", "Tokens"]
