"""v1 exchange payloads upcast to v2: one shape for consumers, nothing guessed."""

from __future__ import annotations

import pytest

from planet.exchange.v1 import events_pb2 as v1
from planet.exchange.v2 import events_pb2 as v2
from planetkit.envelope import UndecodableEvent, encode, wrap
from planetkit.money import Money
from planetkit.upcasters import decode_fee, decode_fill, fee_quote_value

T = 1_764_000_000_000


def record(payload: object, event_id: str = "e1") -> bytes:
    return encode(wrap(payload, event_id=event_id, source="exchange",  # type: ignore[arg-type]
                       aggregate_id="frank", occurred_at_ms=T))


def usdt(amount: int) -> v2.Money:
    return v2.Money(amount_minor=amount, asset="USDT")


def test_a_v1_and_a_v2_record_of_the_same_fee_give_the_same_fact() -> None:
    old = v1.TradeFeeCharged(fee_id="f1", user_id="frank", amount_minor=5000, currency="USDT",
                             charged_at_ms=T)
    new = v2.TradeFeeCharged(fee_id="f1", user_id="frank", fee=usdt(5000),
                             quote_value=usdt(5000), charged_at_ms=T)
    a, b = decode_fee(record(old), "USDT"), decode_fee(record(new), "USDT")
    assert a.payload == b.payload
    assert fee_quote_value(a.payload, "USDT") == fee_quote_value(b.payload, "USDT")
    assert fee_quote_value(a.payload, "USDT") == Money(5000, "USDT")


def test_a_v1_fee_in_another_currency_has_no_quote_value_and_is_refused_with_a_reason() -> None:
    old = v1.TradeFeeCharged(fee_id="f2", user_id="frank", amount_minor=1200, currency="BTC",
                             charged_at_ms=T)
    fee = decode_fee(record(old), "USDT").payload
    assert fee.fee == v2.Money(amount_minor=1200, asset="BTC")
    assert not fee.HasField("quote_value")
    with pytest.raises(UndecodableEvent, match="BTC has no value in the quote asset USDT"):
        fee_quote_value(fee, "USDT")


def test_a_v2_fee_in_another_asset_counts_its_quote_value() -> None:
    new = v2.TradeFeeCharged(fee_id="f3", user_id="frank",
                             fee=v2.Money(amount_minor=2_500, asset="BTC"),
                             quote_value=usdt(160_000), charged_at_ms=T)
    fee = decode_fee(record(new), "USDT").payload
    assert fee_quote_value(fee, "USDT") == Money(160_000, "USDT")
    with pytest.raises(UndecodableEvent, match="valued in USDT, not in the pool's quote asset"):
        fee_quote_value(fee, "USDC")


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (v1.TradeFeeCharged(fee_id="f", user_id="u", amount_minor=5, currency=""), "upper-case"),
        (v1.TradeFeeCharged(fee_id="f", user_id="u", amount_minor=-5, currency="USDT"),
         "negative"),
        (v2.TradeFeeCharged(fee_id="f", user_id="u"), "lacks fee"),
        (v2.TradeFeeCharged(fee_id="f", fee=usdt(1)), "lacks user_id"),
        (v2.TradeFeeCharged(fee_id="f", user_id="u", fee=usdt(1), quote_value=usdt(-1)),
         "negative"),
        (v2.TradeFeeCharged(fee_id="f", user_id="u", fee=v2.Money(amount_minor=1, asset="usdt")),
         "upper-case"),
        (v1.KycVerified(user_id="u"), "unexpected event type"),
    ],
)
def test_bad_fees_are_undecodable_with_their_reason(payload: object, reason: str) -> None:
    with pytest.raises(UndecodableEvent, match=reason):
        decode_fee(record(payload), "USDT")


def test_a_v1_fill_upcasts_without_guessing_its_fee_asset() -> None:
    old = v1.OrderFilled(fill_id="x1", user_id="frank", pair="BTC/USDT", side="buy",
                         price="64000.25", quantity="0.0015", fee_minor="96", filled_at_ms=T)
    fill = decode_fill(record(old)).payload
    assert (fill.base_asset, fill.quote_asset, fill.side) == ("BTC", "USDT", v2.SIDE_BUY)
    assert (fill.price, fill.quantity, fill.filled_at_ms) == ("64000.25", "0.0015", T)
    assert not fill.HasField("fee") and not fill.HasField("quote_value")

    free = decode_fill(record(v1.OrderFilled(fill_id="x2", user_id="frank", pair="ETH/USDT",
                                             side="sell", price="3000", quantity="1",
                                             fee_minor="0"))).payload
    assert free.fee == usdt(0) and free.fee_quote_value == usdt(0)


def test_a_v1_and_a_v2_record_of_the_same_zero_fee_fill_give_the_same_fact() -> None:
    old = v1.OrderFilled(fill_id="x3", user_id="frank", pair="BTC/USDT", side="sell",
                         price="100", quantity="2", fee_minor="0", filled_at_ms=T)
    new = v2.OrderFilled(fill_id="x3", user_id="frank", base_asset="BTC", quote_asset="USDT",
                         side=v2.SIDE_SELL, price="100", quantity="2", fee=usdt(0),
                         fee_quote_value=usdt(0), filled_at_ms=T)
    assert decode_fill(record(old)).payload == decode_fill(record(new)).payload


def test_a_v2_fill_carries_price_quantity_fee_and_values() -> None:
    new = v2.OrderFilled(fill_id="x4", user_id="frank", base_asset="BTC", quote_asset="USDT",
                         side=v2.SIDE_BUY, price="64000.25", quantity="0.0015",
                         fee=v2.Money(amount_minor=150, asset="BTC"), quote_value=usdt(9600),
                         fee_quote_value=usdt(10), filled_at_ms=T)
    assert decode_fill(record(new)).payload == new


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (v1.OrderFilled(user_id="u", pair="BTCUSDT", side="buy", price="1", quantity="1"),
         "pair must look like"),
        (v1.OrderFilled(user_id="u", pair="BTC/USDT", side="hold", price="1", quantity="1"),
         "side must be"),
        (v1.OrderFilled(user_id="u", pair="BTC/USDT", side="buy", price="1", quantity="1",
                        fee_minor="1.5"), "fee_minor"),
        (v1.OrderFilled(user_id="u", pair="BTC/USDT", side="buy", price="-1", quantity="1"),
         "positive decimal"),
        (v1.OrderFilled(user_id="u", pair="BTC/USDT", side="buy", price="1", quantity="abc"),
         "not a decimal"),
        (v2.OrderFilled(user_id="u", base_asset="BTC", quote_asset="USDT", price="1",
                        quantity="1"), "side is unspecified"),
        (v2.OrderFilled(user_id="u", base_asset="BTC", quote_asset="USDT", side=v2.SIDE_BUY,
                        price="1", quantity="1", quote_value=v2.Money(amount_minor=1, asset="BTC")),
         "not the pair's quote asset"),
    ],
)
def test_bad_fills_are_undecodable_with_their_reason(payload: object, reason: str) -> None:
    with pytest.raises(UndecodableEvent, match=reason):
        decode_fill(record(payload))
