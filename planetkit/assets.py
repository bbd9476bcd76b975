"""The exchange's minor unit per asset: the one table every part of Planet books with.

How many decimal digits one minor unit of an asset has (USDT cents: 2; BTC satoshi: 8) is
the exchange's definition, not a standard: its books say it, and everything Planet computes
in minor units (the simulated exchange's values, the track record's money) must read the
same table, or one side would round a figure the other never wrote. An asset missing here
has no known minor unit: callers refuse or exclude it with that reason, never guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

MINOR_DIGITS: Mapping[str, int] = MappingProxyType(
    {"USDT": 2, "USDC": 2, "USD": 2, "EUR": 2, "BTC": 8, "ETH": 8, "SOL": 8})


def minor_digits(asset: str) -> int | None:
    """Decimal digits of one minor unit of ``asset``; None when the exchange defines none."""
    return MINOR_DIGITS.get(asset)
