"""Validation of PublishPost: limits, normalization and clear messages."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.content.domain.commands import PublishPost
from services.content.domain.model import CoinTicker, PostKind, TradeIdea, TradeSide
from services.content.domain.validation import InvalidPost, validate


def _cmd(**kw: object) -> PublishPost:
    base = PublishPost(
        request_id="req-1", creator_id="user_1", kind=PostKind.SHORT, title="", body="gm"
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def _idea(side: TradeSide = TradeSide.LONG, entry: str = "100", target: str = "120",
          stop: str = "90") -> TradeIdea:
    return TradeIdea("btc/usdt", side, entry, target, stop)


def test_a_plain_short_post_is_valid() -> None:
    assert validate(_cmd()).body == "gm"


def test_hashtags_mentions_and_symbols_are_normalized() -> None:
    cmd = validate(
        _cmd(
            hashtags=("#RWA", "AI", "RWA"),
            mentions=("@alice", "bob.eth"),
            components=(CoinTicker(" btc "), _idea()),
        )
    )
    assert cmd.hashtags == ("RWA", "AI")
    assert cmd.mentions == ("alice", "bob.eth")
    assert cmd.components[0] == CoinTicker("BTC")
    assert isinstance(cmd.components[1], TradeIdea) and cmd.components[1].pair == "BTC/USDT"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": "t" * 201}, "title has 201 characters; the limit is 200"),
        ({"body": "b" * 2_001}, "the limit for a short post is 2000"),
        ({"body": "   "}, "body is empty"),
        ({"kind": PostKind.ARTICLE, "title": "", "body": "long"}, "an article needs a title"),
        ({"kind": PostKind.ARTICLE, "title": "t", "body": "b" * 100_001},
         "the limit for a article post is 100000"),
        ({"hashtags": tuple(f"h{i}" for i in range(11))}, "11 hashtags; the limit is 10"),
        ({"hashtags": ("no spaces",)}, "hashtag 'no spaces'"),
        ({"mentions": tuple(f"m{i}" for i in range(21))}, "21 mentions; the limit is 20"),
        ({"components": tuple(CoinTicker("BTC") for _ in range(6))},
         "6 trading components; the limit is 5"),
        ({"components": (CoinTicker("BTC-USD"),)}, "ticker symbol"),
        ({"request_id": ""}, "request_id is required"),
        ({"creator_id": "x" * 129}, "creator_id has 129 characters"),
    ],
)
def test_each_rule_has_a_clear_message(change: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidPost, match=message.replace("(", r"\(")):
        validate(_cmd(**change))


@pytest.mark.parametrize("price", ["0", "-1", "1e3", "NaN", "Infinity", "", "1.", "abc", "9" * 41])
def test_trade_idea_prices_must_be_positive_plain_decimals(price: str) -> None:
    with pytest.raises(InvalidPost, match=r"entry .* is not a positive decimal"):
        validate(_cmd(components=(_idea(entry=price),)))


def test_trade_idea_prices_keep_their_precision() -> None:
    idea = _idea(entry="0.000012345678901234", target="0.00002", stop="0.00001")
    out = validate(_cmd(components=(idea,))).components[0]
    assert isinstance(out, TradeIdea) and out.entry == "0.000012345678901234"


def test_long_and_short_ideas_need_prices_in_order() -> None:
    with pytest.raises(InvalidPost, match="a long idea needs stop < entry < target"):
        validate(_cmd(components=(_idea(target="80"),)))
    with pytest.raises(InvalidPost, match="a short idea needs target < entry < stop"):
        validate(_cmd(components=(_idea(TradeSide.SHORT),)))
    validate(_cmd(components=(_idea(TradeSide.SHORT, "100", "80", "110"),)))


def test_all_problems_are_reported_at_once() -> None:
    with pytest.raises(InvalidPost) as err:
        validate(_cmd(title="t" * 201, body=""))
    assert "title" in str(err.value) and "body is empty" in str(err.value)
