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
"""

from django.dispatch import Signal

charge_verified = Signal()
charge_rejected = Signal()
charge_needs_attention = Signal()
