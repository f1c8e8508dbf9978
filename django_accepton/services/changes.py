"""Telling the store what changed at AcceptOn, once per change, from wherever it is learnt.

A change reaches the package in one of three ways: a service the store calls (a refund, a
cancellation, a promo code edit, also from the admin), the checkout (a first payment starts a
subscription), or a sync that finds what changed in AcceptOn's dashboard or by AcceptOn's own
doing (a renewal, a cancellation, a refund, a deletion). Each place compares what it writes with
what the mirror held before, and announces only a real change; the mirror then holds the new
state, so whoever learns of the change next (the sync after the service, say) finds nothing new
and announces nothing. Signals go out with ``send_robust`` after the transaction that wrote the
change commits, with ``source`` saying which way it came (``"service"``, ``"checkout"``,
``"sync"``, ``"reconciliation"``).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)


def announce(signal: Signal, sender: Any, **kwargs: Any) -> None:
    """Send ``signal`` once the current transaction commits (at once outside one); a receiver
    that raises is logged and does not stop the others."""

    def send() -> None:
        for receiver, error in signal.send_robust(sender, **kwargs):
            if isinstance(error, Exception):
                logger.error(
                    "Receiver %s of a change signal failed",
                    getattr(receiver, "__qualname__", receiver),
                    exc_info=(type(error), error, error.__traceback__),
                )

    transaction.on_commit(send)
