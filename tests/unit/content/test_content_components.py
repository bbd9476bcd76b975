"""Trading components against the instrument list: unknown symbols, timeframes, trade-idea
consistency, current prices and server-built deep links."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from services.content.domain.commands import PublishPost
from services.content.domain.components import (
    Instrument,
    Instruments,
    InstrumentStatus,
    instrument_problems,
    parse_price,
    render,
)
from services.content.domain.model import (
    CoinTicker,
    CopyTrade,
    PostKind,
    TradeIdea,
    TradeLink,
    TradeSide,
    TradingComponent,
)
from services.content.domain.validation import InvalidPost, validate

EXCHANGE = "https://exchange.example/app"


def book() -> Instruments:
    out = Instruments()
    for symbol, price, status in (("BTC/USDT", "64000.25", InstrumentStatus.TRADING),
                                  ("ETH/BTC", "0.052", InstrumentStatus.TRADING),
                                  ("SOL/USDT", "", InstrumentStatus.HALTED),
                                  ("LUNA/USDT", "0.1", InstrumentStatus.DELISTED)):
        base, _, quote = symbol.partition("/")
        out.put(Instrument(symbol, base, quote, status, parse_price(price), 7))
    return out


def cmd(*components: TradingComponent) -> PublishPost:
    return PublishPost("r1", "alice", PostKind.SHORT, "", "body", ("btc",), (), components)


def test_known_symbols_pass() -> None:
    comps = (CoinTicker("ETH"), CoinTicker("SOL"),
             TradeIdea("BTC/USDT", TradeSide.LONG, "60000", "70000", "58000", "4h"),
             TradeLink("ETH/BTC", TradeSide.SHORT), CopyTrade())
    assert instrument_problems(validate(cmd(*comps)).components, book()) == []


def test_unknown_and_delisted_symbols_named() -> None:
    problems = instrument_problems(validate(cmd(
        CoinTicker("DOGE"), TradeIdea("DOGE/USDT", TradeSide.LONG, "1", "2", "0.5"),
        TradeLink("LUNA/USDT", TradeSide.LONG))).components, book())
    assert problems == [
        "component 1: unknown symbol 'DOGE': the exchange lists no pair of that coin",
        "component 2: unknown symbol 'DOGE/USDT': not an instrument the exchange lists",
        "component 3: symbol 'LUNA/USDT' is delisted"]


@pytest.mark.parametrize(("side", "entry", "target", "stop", "ok"), [
    (TradeSide.LONG, "100", "120", "90", True),
    (TradeSide.LONG, "100", "90", "120", False),
    (TradeSide.LONG, "100", "120", "100", False),   # stop == entry
    (TradeSide.SHORT, "100", "90", "120", True),
    (TradeSide.SHORT, "100", "120", "90", False),
    (TradeSide.SHORT, "100.000001", "100", "100.000002", True),  # exact decimals
])
def test_trade_idea_consistency(side: TradeSide, entry: str, target: str, stop: str,
                                ok: bool) -> None:
    command = cmd(TradeIdea("BTC/USDT", side, entry, target, stop, "1d"))
    if ok:
        assert validate(command).components[0] == TradeIdea(
            "BTC/USDT", side, entry, target, stop, "1d")
    else:
        with pytest.raises(InvalidPost, match="idea needs"):
            validate(command)


def test_timeframe_checked() -> None:
    with pytest.raises(InvalidPost, match="timeframe '2h' is not one of 15m, 1h, 4h, 1d, 1w"):
        validate(cmd(TradeIdea("BTC/USDT", TradeSide.LONG, "1", "2", "0.5", "2h")))
    # No timeframe: ideas from before timeframes existed, and clients that send none.
    assert validate(cmd(TradeIdea("BTC/USDT", TradeSide.LONG, "1", "2", "0.5"))).components


def test_trade_link_pair_shape() -> None:
    with pytest.raises(InvalidPost, match="is not like BTC/USDT"):
        validate(cmd(TradeLink("BTCUSDT", TradeSide.LONG)))
    assert validate(cmd(TradeLink(" btc/usdt ", TradeSide.LONG))).components == (
        TradeLink("BTC/USDT", TradeSide.LONG),)


def test_render_prices_exact_and_links_attributed() -> None:
    instruments = book()
    ticker = render(CoinTicker("BTC"), "post_x", "alice", instruments, EXCHANGE)
    assert (ticker.instrument, ticker.last_price, ticker.last_price_at_ms) == (
        "BTC/USDT", "64000.25", 7)
    assert render(CoinTicker("SOL"), "post_x", "alice", instruments, EXCHANGE).last_price == ""
    link = render(TradeLink("ETH/BTC", TradeSide.SHORT), "post_x", "al ice&x", instruments,
                  EXCHANGE)
    assert link.last_price == "0.052"
    parts = urlsplit(link.link)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https", "exchange.example", "/app/trade/ETH_BTC")
    assert parse_qs(parts.query) == {"side": ["sell"], "ref": ["planet"],
                                     "ref_post": ["post_x"], "ref_creator": ["al ice&x"]}
    copy = urlsplit(render(CopyTrade(), "post_x", "alice/../x", instruments, EXCHANGE).link)
    assert copy.path == "/app/copy-trading/alice%2F..%2Fx"
    assert parse_qs(copy.query) == {"ref": ["planet"], "ref_post": ["post_x"]}


@pytest.mark.parametrize(("raw", "value"), [("64000.25", Decimal("64000.25")), ("", None),
                                            ("1e3", None), ("-1", None), ("0", None),
                                            ("١٢", None), ("1.", None), ("NaN", None)])
def test_parse_price(raw: str, value: Decimal | None) -> None:
    assert parse_price(raw) == value
