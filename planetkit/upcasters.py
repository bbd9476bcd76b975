"""Upcasters: the exchange's v1 payloads read as their v2 form, so consumers see one shape.

The exchange's fee and fill topics hold ``planet.exchange.v1`` payloads from before schema 2
and ``planet.exchange.v2`` ones after (the envelope's ``type`` says which). A consumer decodes
either with ``decode_fee`` / ``decode_fill`` and gets a validated v2 message; v1 history stays
replayable for as long as it is kept.

What v1 did not say stays unsaid, never guessed:

- a v1 fee in the pool's quote asset is its own quote value (the same amount of the same
  asset); a v1 fee in any other currency gets no ``quote_value``: the exchange never valued
  it, and converting at some rate of ours would invent money. ``fee_quote_value`` rejects such a
  fee with its reason (consumers dead-letter it), so it is never summed as quote value;
- a v1 fill has no fee asset and no quote value: its fee becomes zero of the quote asset when
  it was zero, and is left unset otherwise, as are the quote values.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from planet.exchange.v1 import events_pb2 as v1
from planet.exchange.v2 import events_pb2 as v2
from planetkit.envelope import DomainEvent, UndecodableEvent, decode
from planetkit.money import Money, check_asset

_SIDES = {"buy": v2.SIDE_BUY, "sell": v2.SIDE_SELL}


def money_of(message: v2.Money, what: str) -> Money:
    """A wire ``Money`` as a checked ``planetkit.money.Money`` (non-negative); UndecodableEvent."""
    try:
        value = Money(message.amount_minor, message.asset)
    except ValueError as exc:
        raise UndecodableEvent(f"{what}: {exc}") from None
    if value.amount_minor < 0:
        raise UndecodableEvent(f"{what} is negative: {value}")
    return value


def _wire(value: Money) -> v2.Money:
    return v2.Money(amount_minor=value.amount_minor, asset=value.asset)


def _require(ok: bool, reason: str) -> None:
    if not ok:
        raise UndecodableEvent(reason)


# --- trade fees -----------------------------------------------------------------------------


def upcast_fee(old: v1.TradeFeeCharged, quote_asset: str) -> v2.TradeFeeCharged:
    """The v2 form of a v1 fee; its quote value only when it was charged in ``quote_asset``."""
    _require(old.amount_minor >= 0, f"TradeFeeCharged amount is negative: {old.amount_minor}")
    fee = money_of(v2.Money(amount_minor=old.amount_minor, asset=old.currency),
                   "v1 TradeFeeCharged currency/amount")
    new = v2.TradeFeeCharged(fee_id=old.fee_id, user_id=old.user_id, fee=_wire(fee),
                             charged_at_ms=old.charged_at_ms)
    if fee.asset == quote_asset:
        new.quote_value.CopyFrom(_wire(fee))
    return new


def check_fee(fee: v2.TradeFeeCharged) -> v2.TradeFeeCharged:
    """``fee`` if it is well formed (user, fee id, fee as Money); UndecodableEvent otherwise."""
    _require(bool(fee.user_id), "TradeFeeCharged lacks user_id")
    _require(fee.HasField("fee"), "TradeFeeCharged lacks fee")
    money_of(fee.fee, "TradeFeeCharged.fee")
    if fee.HasField("quote_value"):
        money_of(fee.quote_value, "TradeFeeCharged.quote_value")
    return fee


def decode_fee(raw: bytes | None, quote_asset: str) -> DomainEvent[v2.TradeFeeCharged]:
    """A fee record of either schema, as a checked v2 fee; UndecodableEvent with the reason."""
    check_asset(quote_asset)
    event = decode(raw, v2.TradeFeeCharged, v1.TradeFeeCharged)
    payload = event.payload
    if isinstance(payload, v1.TradeFeeCharged):
        return DomainEvent(event.envelope, check_fee(upcast_fee(payload, quote_asset)))
    if not isinstance(payload, v2.TradeFeeCharged):  # decode returned one of the two asked for
        raise UndecodableEvent(f"unexpected payload {type(payload).__name__}")
    return DomainEvent(event.envelope, check_fee(payload))


def fee_quote_value(fee: v2.TradeFeeCharged, quote_asset: str) -> Money:
    """What ``fee`` is worth in the pool's ``quote_asset``, as the exchange reported it.

    UndecodableEvent (so the record is dead-lettered with this reason, never summed) when the
    fee carries no quote value (a v1 fee in another currency) or one in another asset.
    """
    if not fee.HasField("quote_value"):
        raise UndecodableEvent(
            f"fee {fee.fee_id or '?'} in {fee.fee.asset} has no value in the quote asset "
            f"{quote_asset} (a v1 fee the exchange never valued): not counted"
        )
    value = money_of(fee.quote_value, "TradeFeeCharged.quote_value")
    if value.asset != quote_asset:
        raise UndecodableEvent(
            f"fee {fee.fee_id or '?'} is valued in {value.asset}, not in the pool's quote asset "
            f"{quote_asset}: not counted"
        )
    return value


# --- fills ----------------------------------------------------------------------------------


def _positive_decimal(value: str, what: str) -> str:
    try:
        d = Decimal(value)
    except (InvalidOperation, ValueError):
        raise UndecodableEvent(f"{what} is not a decimal: {value!r}") from None
    _require(d.is_finite() and d > 0, f"{what} must be a positive decimal, not {value!r}")
    return value


def upcast_fill(old: v1.OrderFilled) -> v2.OrderFilled:
    """The v2 form of a v1 fill: pair split, side named, fee only when it was zero."""
    base, slash, quote = old.pair.partition("/")
    _require(slash == "/" and "/" not in quote,
             f"OrderFilled pair must look like BTC/USDT, not {old.pair!r}")
    try:
        check_asset(base)
        check_asset(quote)
    except ValueError as exc:
        raise UndecodableEvent(f"OrderFilled pair {old.pair!r}: {exc}") from None
    _require(old.side in _SIDES, f"OrderFilled side must be buy or sell, not {old.side!r}")
    raw_fee = old.fee_minor or "0"
    _require(raw_fee.isdigit(), f"OrderFilled fee_minor is not a non-negative integer: {raw_fee!r}")
    new = v2.OrderFilled(fill_id=old.fill_id, user_id=old.user_id, base_asset=base,
                         quote_asset=quote, side=_SIDES[old.side], price=old.price,
                         quantity=old.quantity, filled_at_ms=old.filled_at_ms)
    if int(raw_fee) == 0:
        # Zero of any asset is zero: the one v1 fee whose asset does not matter.
        new.fee.CopyFrom(_wire(Money.zero(quote)))
        new.fee_quote_value.CopyFrom(_wire(Money.zero(quote)))
    return new


def check_fill(fill: v2.OrderFilled) -> v2.OrderFilled:
    """``fill`` if it is well formed; UndecodableEvent with the reason otherwise."""
    _require(bool(fill.user_id), "OrderFilled lacks user_id")
    try:
        check_asset(fill.base_asset)
        check_asset(fill.quote_asset)
    except ValueError as exc:
        raise UndecodableEvent(f"OrderFilled assets: {exc}") from None
    _require(fill.side in (v2.SIDE_BUY, v2.SIDE_SELL), "OrderFilled side is unspecified")
    _positive_decimal(fill.price, "OrderFilled.price")
    _positive_decimal(fill.quantity, "OrderFilled.quantity")
    if fill.HasField("fee"):
        money_of(fill.fee, "OrderFilled.fee")
    for name in ("quote_value", "fee_quote_value"):
        if fill.HasField(name):
            value = money_of(getattr(fill, name), f"OrderFilled.{name}")
            _require(value.asset == fill.quote_asset,
                     f"OrderFilled.{name} is in {value.asset}, not the pair's quote asset "
                     f"{fill.quote_asset}")
    return fill


def decode_fill(raw: bytes | None) -> DomainEvent[v2.OrderFilled]:
    """A fill record of either schema, as a checked v2 fill; UndecodableEvent with the reason."""
    event = decode(raw, v2.OrderFilled, v1.OrderFilled)
    payload = event.payload
    if isinstance(payload, v1.OrderFilled):
        return DomainEvent(event.envelope, check_fill(upcast_fill(payload)))
    if not isinstance(payload, v2.OrderFilled):  # decode returned one of the two asked for
        raise UndecodableEvent(f"unexpected payload {type(payload).__name__}")
    return DomainEvent(event.envelope, check_fill(payload))
