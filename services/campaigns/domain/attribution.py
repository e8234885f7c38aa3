"""Attribution: does a purchase convert an offer (or a holdout member's would-be offer)?"""

from __future__ import annotations

from datetime import datetime

from services.campaigns.domain.triggers import Basket


def converted_revenue(
    sku: str | None, category: str | None, window_start: datetime, window_end: datetime, basket: Basket
) -> int | None:
    """The revenue of the lines that convert, or None when the purchase does not convert.

    A SKU offer converts on that SKU, a category offer on that category, and an offer of
    neither (a win-back greeting) on any purchase, all within the attribution window, which
    for the holdout starts when they would have received the message.
    """
    if not window_start <= basket.at <= window_end:
        return None
    if sku is not None:
        lines = [line for line in basket.lines if line.sku == sku]
    elif category is not None:
        lines = [line for line in basket.lines if line.category == category]
    else:
        return basket.total_minor
    return sum(line.amount_minor for line in lines) if lines else None


def refunded_revenue(sku: str | None, category: str | None, refund: Basket) -> int:
    """How much of a converted sale's revenue a refund of it takes back: the lines that converted.

    The same match as ``converted_revenue``: a SKU offer loses what is refunded of that SKU, a
    category offer what is refunded of that category, an offer of neither the whole refund.
    """
    if sku is not None:
        return sum(line.amount_minor for line in refund.lines if line.sku == sku)
    if category is not None:
        return sum(line.amount_minor for line in refund.lines if line.category == category)
    return refund.total_minor
