"""Trading components on group messages follow the rules posts follow
(planetkit/trading_components.py): kept in their normal form in the MessagePosted fact, and a
bad one refused with a message naming its place and kind, and what is wrong with it."""

from __future__ import annotations

from planet.content.v1 import events_pb2 as tc
from planet.groups.v1 import group_events_pb2 as ev
from services.groups.domain import commands as c
from services.groups.domain.refusals import Code, Refusal
from tests.unit.groups.groups_world import G, seeded

LONG = tc.TRADE_SIDE_LONG


def _idea(entry: str = "180", target: str = "205", stop: str = "171", pair: str = "SOL/USDT",
          side: tc.TradeSide.ValueType = LONG, timeframe: str = "4h") -> tc.TradingComponent:
    return tc.TradingComponent(trade_idea=tc.TradeIdea(
        pair=pair, side=side, entry=entry, target=target, stop=stop, timeframe=timeframe))


def _refusal(*components: tc.TradingComponent) -> str:
    out = seeded().run(c.PostMessage("member", G, "look", attachments=components))
    assert isinstance(out, Refusal), out
    assert out.code is Code.INVALID and out.http_status == 422, out
    return out.message


def test_every_kind_is_kept_in_its_normal_form() -> None:
    w = seeded()
    facts = w.ok(c.PostMessage("member", G, "my setup", attachments=(
        tc.TradingComponent(ticker=tc.CoinTicker(symbol=" btc ")),
        _idea(pair="sol/usdt", entry=" 180 "),
        tc.TradingComponent(trade_link=tc.TradeLink(pair="btc/usdt", side=tc.TRADE_SIDE_SHORT)),
        tc.TradingComponent(copy_trade=tc.CopyTradeCard()))))
    posted = facts[-1]
    assert isinstance(posted, ev.MessagePosted)
    ticker, idea, link, card = posted.attachments
    assert ticker.ticker.symbol == "BTC"
    assert (idea.trade_idea.pair, idea.trade_idea.entry, idea.trade_idea.timeframe) == (
        "SOL/USDT", "180", "4h")
    assert (link.trade_link.pair, link.trade_link.side) == ("BTC/USDT", tc.TRADE_SIDE_SHORT)
    assert card.WhichOneof("component") == "copy_trade"
    # The message keeps them as posted (history reads the stored record).
    assert w.store.get(("message", G, str(posted.seq))).attachments  # type: ignore[union-attr]


def test_a_bad_component_is_refused_naming_it() -> None:
    ok = tc.TradingComponent(ticker=tc.CoinTicker(symbol="ETH"))
    assert _refusal(ok, tc.TradingComponent(ticker=tc.CoinTicker(symbol="BTC!"))) == (
        "component 2 (ticker): ticker symbol 'BTC!' is not 1-20 A-Z/0-9")
    assert _refusal(_idea(entry="-1")) == (
        "component 1 (trade_idea): entry '-1' is not a positive decimal")
    assert _refusal(_idea(entry="1e3")) == (
        "component 1 (trade_idea): entry '1e3' is not a positive decimal")
    assert _refusal(_idea(stop="190")) == (
        "component 1 (trade_idea): a long idea needs stop < entry < target")
    assert _refusal(_idea(side=tc.TRADE_SIDE_UNSPECIFIED)) == (
        "component 1 (trade_idea): side must be long or short")
    assert _refusal(_idea(timeframe="2h")) == (
        "component 1 (trade_idea): timeframe '2h' is not one of 15m, 1h, 4h, 1d, 1w")
    assert _refusal(tc.TradingComponent(trade_link=tc.TradeLink(pair="BTC", side=LONG))) == (
        "component 1 (trade_link): pair 'BTC' is not like BTC/USDT")
    assert _refusal(tc.TradingComponent()) == (
        "component 1: must be a ticker, a trade idea, a trade link or a copy-trade card")
    assert "at most 4" in _refusal(*[ok] * 5)
