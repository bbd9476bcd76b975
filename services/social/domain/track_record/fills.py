"""The input: one spot fill of a trader as the track record reads it, and the rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import Enum

from planet.exchange.v2 import events_pb2 as v2
from planetkit.assets import MINOR_DIGITS
from planetkit.money import Money, check_asset

# The exchange's minor unit per asset (decimal digits of one minor unit), as its books define
# them: planetkit/assets.py, the table the exchange simulator books with too. An asset missing
# there makes the fills that need it "not counted" with that reason, never guessed.
DEFAULT_MINOR_DIGITS: Mapping[str, int] = MINOR_DIGITS
# The windows every record shows, in UTC days, besides all time. The state keeps day
# results for the longest (RETAINED_DAYS); older days are folded into one summary.
DEFAULT_WINDOWS_DAYS = (7, 30, 90)
RETAINED_DAYS = 90
DEFAULT_MIN_CLOSED_TRADES = 5


class Side(Enum):
    """Which way the trader traded the base asset."""

    BUY = "buy"
    SELL = "sell"


@dataclass(frozen=True, slots=True)
class Fill:
    """One spot fill of ``user_id``: ``quantity`` of ``base`` at ``price`` ``quote`` per base.

    ``fee`` is None when the exchange did not say which asset it was in (a v1 fill with a
    non-zero fee); ``fee_quote_value`` is the exchange's valuation of the fee in ``quote``.
    """

    fill_id: str
    user_id: str
    base: str
    quote: str
    side: Side
    price: Decimal
    quantity: Decimal
    fee: Money | None
    fee_quote_value: Money | None
    filled_at_ms: int

    def __post_init__(self) -> None:
        if not self.fill_id or not self.user_id:
            raise ValueError("a fill needs a fill id and a user id")
        check_asset(self.base)
        check_asset(self.quote)
        if self.base == self.quote:
            raise ValueError(f"fill {self.fill_id}: base and quote are both {self.base}")
        for name, value in (("price", self.price), ("quantity", self.quantity)):
            if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
                raise ValueError(f"fill {self.fill_id}: {name} must be a positive Decimal, "
                                 f"not {value!r}")
        if self.fee is not None and self.fee.amount_minor < 0:
            raise ValueError(f"fill {self.fill_id}: fee is negative: {self.fee}")
        if self.fee_quote_value is not None and (self.fee_quote_value.asset != self.quote
                                                 or self.fee_quote_value.amount_minor < 0):
            raise ValueError(f"fill {self.fill_id}: fee quote value must be a non-negative "
                             f"amount of {self.quote}, not {self.fee_quote_value}")
        if not isinstance(self.filled_at_ms, int) or self.filled_at_ms < 0:
            raise ValueError(f"fill {self.fill_id}: time must be non-negative epoch ms")

    @property
    def instrument(self) -> tuple[str, str]:
        """The pair it trades: (base, quote)."""
        return (self.base, self.quote)

    @property
    def order_key(self) -> tuple[int, str]:
        """Where it sits in the record: exchange time, then fill id."""
        return (self.filled_at_ms, self.fill_id)


@dataclass(frozen=True, slots=True)
class Rules:
    """What the record is computed and shown by (the defaults are the published definitions)."""

    minor_digits: Mapping[str, int] = field(default_factory=lambda: DEFAULT_MINOR_DIGITS)
    windows_days: tuple[int, ...] = DEFAULT_WINDOWS_DAYS
    min_closed_trades: int = DEFAULT_MIN_CLOSED_TRADES

    def __post_init__(self) -> None:
        if any(not 1 <= d <= RETAINED_DAYS for d in self.windows_days):
            raise ValueError(f"windows must be 1..{RETAINED_DAYS} days, not {self.windows_days}")
        if self.min_closed_trades < 1:
            raise ValueError("at least one closed trade is needed to show a figure")
        for asset, digits in self.minor_digits.items():
            check_asset(asset)
            if not 0 <= digits <= 18:
                raise ValueError(f"minor digits of {asset} must be 0..18, not {digits}")


DEFAULT_RULES = Rules()

_SIDES = {v2.SIDE_BUY: Side.BUY, v2.SIDE_SELL: Side.SELL}


def _decimal(text: str, what: str) -> Decimal:
    try:
        return Decimal(text)
    except (InvalidOperation, ValueError):
        raise ValueError(f"{what} is not a decimal: {text!r}") from None


def fill_of(message: v2.OrderFilled) -> Fill:
    """The track record's view of a checked wire fill (``planetkit.upcasters.decode_fill``).

    ValueError with the reason when the message is not a well-formed fill.
    """
    if message.side not in _SIDES:
        raise ValueError(f"fill {message.fill_id or '?'}: side is unspecified")
    fee = (Money(message.fee.amount_minor, message.fee.asset)
           if message.HasField("fee") else None)
    fee_value = (Money(message.fee_quote_value.amount_minor, message.fee_quote_value.asset)
                 if message.HasField("fee_quote_value") else None)
    return Fill(
        fill_id=message.fill_id, user_id=message.user_id, base=message.base_asset,
        quote=message.quote_asset, side=_SIDES[message.side],
        price=_decimal(message.price, "price"), quantity=_decimal(message.quantity, "quantity"),
        fee=fee, fee_quote_value=fee_value, filled_at_ms=message.filled_at_ms,
    )
