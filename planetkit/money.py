"""Money: integer minor units of one named asset. Amounts of different assets never add.

Every amount Planet sums (fees, fill values, later tips and payouts) is a ``Money``; adding,
subtracting or comparing two of different assets raises ``AssetMismatch`` instead of silently
producing a number in no currency. Minor units are the exchange's (USDT: cents; BTC: satoshi);
converting between assets is the exchange's business (it reports quote values), never ours.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# Upper-case letters and digits, 2-12 long: USDT, BTC, 1INCH.
_ASSET = re.compile(r"^[A-Z0-9]{2,12}$")
# Amounts are int64 on the wire; a sum that leaves that range could not be published again.
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


class AssetMismatch(ValueError):
    """Two amounts of different assets met in one sum or comparison."""


def check_asset(asset: str) -> str:
    """``asset`` if it is an asset code (USDT, BTC); ValueError saying why otherwise."""
    if not isinstance(asset, str) or not _ASSET.match(asset):
        raise ValueError(f"asset must be an upper-case code like USDT or BTC, not {asset!r}")
    return asset


@dataclass(frozen=True, slots=True)
class Money:
    """``amount_minor`` minor units of ``asset``."""

    amount_minor: int
    asset: str

    def __post_init__(self) -> None:
        # bool is an int subclass; True USDT is a bug, not one cent.
        if not isinstance(self.amount_minor, int) or isinstance(self.amount_minor, bool):
            raise ValueError(f"amount must be an integer of minor units, not {self.amount_minor!r}")
        if not INT64_MIN <= self.amount_minor <= INT64_MAX:
            raise ValueError(f"amount {self.amount_minor} does not fit in int64 minor units")
        check_asset(self.asset)

    @staticmethod
    def zero(asset: str) -> Money:
        """Nothing, of ``asset``."""
        return Money(0, asset)

    def _same_asset(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.asset != self.asset:
            raise AssetMismatch(
                f"cannot combine {self.asset} with {other.asset}: amounts of different assets "
                f"never add (use the exchange's quote value)"
            )

    def __add__(self, other: Money) -> Money:
        self._same_asset(other)
        return Money(self.amount_minor + other.amount_minor, self.asset)

    def __sub__(self, other: Money) -> Money:
        self._same_asset(other)
        return Money(self.amount_minor - other.amount_minor, self.asset)

    def __lt__(self, other: Money) -> bool:
        self._same_asset(other)
        return self.amount_minor < other.amount_minor

    def __le__(self, other: Money) -> bool:
        self._same_asset(other)
        return self.amount_minor <= other.amount_minor

    def __gt__(self, other: Money) -> bool:
        self._same_asset(other)
        return self.amount_minor > other.amount_minor

    def __ge__(self, other: Money) -> bool:
        self._same_asset(other)
        return self.amount_minor >= other.amount_minor

    def __str__(self) -> str:
        return f"{self.amount_minor} {self.asset} minor"


def total(amounts: Iterable[Money], asset: str) -> Money:
    """The sum of ``amounts``, all of ``asset`` (AssetMismatch otherwise); zero when empty.

    The asset is stated, not inferred from the first amount, so an empty sum has one and a
    sum of the wrong asset fails even when every amount agrees with every other.
    """
    result = Money.zero(asset)
    for amount in amounts:
        result = result + amount
    return result
