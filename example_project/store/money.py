"""Amounts are stored in the currency's minor unit (cents); people read them as money.

The store shows money exactly as the package's admin and pages do (``django_accepton.money``).
"""

from __future__ import annotations

from django_accepton.money import decimals, format_money

__all__ = ["decimals", "format_money"]
