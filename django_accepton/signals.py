"""Signals a store connects to fulfil or follow up orders.

Both are sent only after the transaction that recorded the decision has committed, so a
receiver never acts on a decision that was rolled back, and each is sent once per charge.

``charge_verified(sender=Charge, charge, token)``
    The charge paid for the token: fulfil ``token.target`` (or look up ``token.reference``).
    For a plan's recurring token (``token.is_recurring``), ``token.target`` is the ``Plan``
    and ``charge.subscription`` the subscription AcceptOn created for this payment (``None``
    if none of the payer's subscriptions to the plan could be found).

    Sent by :mod:`django_accepton.services.fulfilment` with ``send_robust`` until every receiver
    returns: a receiver that raises is called again later, with the same charge. Make its effect
    once (a conditional update, or a row unique per charge id).

``charge_needs_attention(sender=Charge, charge, reason)``
    AcceptOn took money for this charge and the store did not fulfil it (``reason`` says why:
    ``amount_mismatch``, ``order_already_paid``, ``token_already_fulfilled``, …). It is listed in
    the admin under "Needs attention" with a refund button; ``REFUND_UNFULFILLED`` refunds such
    charges automatically. Sent once per charge.

``charge_rejected(sender=Charge, charge_id, token, reason, charge)``
    A submitted charge was refused; ``reason`` is a
    :class:`~django_accepton.services.verification.Reason`. ``charge`` is ``None`` when AcceptOn
    does not know the charge id. Money may have been taken (an amount mismatch, say): a human
    should look.

Changes AcceptOn reports, sent after commit, once per change, whichever way the package learnt
of it (``source``: ``"service"`` for a call of the package's services, the admin's included,
``"checkout"``, ``"sync"`` or ``"reconciliation"``; see :mod:`django_accepton.services.changes`):

``subscription_created(sender=Subscription, subscription, initial, source)``
    A subscription appeared: a first payment through the checkout, or one the sync found.
    ``initial`` is true when the sync found it on its first successful run of subscriptions
    (an account the package was just installed on): it existed before, it is not new.
``subscription_renewed(sender=Subscription, subscription, charge, source)``
    The sync found a renewal: a charge AcceptOn made billing the subscription again, now linked
    to it (``charge.renewal_of``; see :mod:`django_accepton.services.renewals`).
``subscription_cancelled(sender=Subscription, subscription, source)``
    Cancelled: by the package (the admin's button, ``cancel_subscription``) or elsewhere (found
    by the sync).
``charge_refunded(sender=Charge, charge, amount, full, source)``
    Money went back. ``amount`` is what this refund returned (``None`` when the sync only saw
    AcceptOn's ``refunded`` flag turn on: a refund made outside the package, whose amount
    AcceptOn does not show); ``full`` says whether the whole charge is refunded (``None`` when
    only AcceptOn's flag is known, whose meaning for partial refunds is undocumented).
``plan_deleted(sender=Plan, plan, source)`` / ``promo_code_deleted(sender=PromoCode, promo_code,
source)``
    Gone from AcceptOn (marked ``deleted_at``; for a code deleted through the package, the row
    is gone too and ``promo_code`` is the last copy of it).
``promo_code_changed(sender=PromoCode, promo_code, source)``
    A code's name, type or value changed.
"""

from django.dispatch import Signal

charge_verified = Signal()
charge_rejected = Signal()
charge_needs_attention = Signal()
subscription_created = Signal()
subscription_renewed = Signal()
subscription_cancelled = Signal()
charge_refunded = Signal()
plan_deleted = Signal()
promo_code_deleted = Signal()
promo_code_changed = Signal()
