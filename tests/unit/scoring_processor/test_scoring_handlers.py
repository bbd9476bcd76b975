"""Handlers over plain dicts: weeks, duplicates, one write per (creator, week), bad records."""

from __future__ import annotations

import pytest
from google.protobuf.message import Message

from planet.content.v1.events_pb2 import PostPublished
from planet.exchange.v1.events_pb2 import KycVerified, TradeFeeCharged
from planet.exchange.v2 import events_pb2 as v2
from planetkit.engagement_deltas import encode_deltas
from planetkit.envelope import UndecodableEvent, encode, wrap
from planetkit.money import Money
from planetkit.weeks import week_start_ms
from services.incentive.domain.estimate.keys import creator_week_key, fees_key, posts_key
from services.incentive.domain.estimate.state import (
    CreatorWeek,
    Engagement,
    IdTally,
    MoneyTally,
)
from services.incentive.handlers import on_deltas, on_fee, on_kyc, on_post

W = "2026-W48"
T = week_start_ms(W) + 3_600_000


class CountingDict(dict[str, bytes]):
    """A dict that counts writes, like a changelog would."""

    writes = 0

    def __setitem__(self, key: str, value: bytes) -> None:
        self.writes += 1
        super().__setitem__(key, value)


def env(payload: Message, event_id: str, key: str = "k") -> bytes:
    # The handlers ignore the source; "exchange" stands in for any registered writer.
    return encode(
        wrap(payload, event_id=event_id, source="exchange", aggregate_id=key, occurred_at_ms=T)
    )


def post(post_id: str, creator: str = "c1", at: int = T) -> bytes:
    return env(
        PostPublished(post_id=post_id, creator_id=creator, published_at_ms=at), f"e-{post_id}"
    )


def test_post_counts_once_in_the_week_it_was_published() -> None:
    posts: dict[str, bytes] = {}
    assert on_post(post("p1"), 2, posts)
    assert not on_post(post("p1"), 2, posts)
    assert on_post(post("p2", at=week_start_ms("2026-W49")), 2, posts)
    assert IdTally.decode(posts[posts_key("c1", W, 2)]).amount == 1
    assert IdTally.decode(posts[posts_key("c1", "2026-W49", 2)]).amount == 1


def usdt(amount: int) -> v2.Money:
    return v2.Money(amount_minor=amount, asset="USDT")


def test_fee_counts_once_per_fee_id_whichever_schema_carries_it() -> None:
    fees: dict[str, bytes] = {}
    fee = TradeFeeCharged(fee_id="f1", user_id="u1", amount_minor=700, currency="USDT",
                          charged_at_ms=T)
    assert on_fee(env(fee, "e1"), fees, "USDT")
    assert not on_fee(env(fee, "e1-retry"), fees, "USDT")
    same_in_v2 = v2.TradeFeeCharged(fee_id="f1", user_id="u1", fee=usdt(700),
                                    quote_value=usdt(700), charged_at_ms=T)
    assert not on_fee(env(same_in_v2, "e1-v2"), fees, "USDT")
    assert MoneyTally.decode(fees[fees_key("u1", W)], "USDT").total == Money(700, "USDT")
    # The estimate reads the amount as before.
    assert IdTally.decode(fees[fees_key("u1", W)]).amount == 700


def test_fees_in_other_assets_count_by_their_quote_value_only() -> None:
    fees: dict[str, bytes] = {}
    btc = v2.TradeFeeCharged(fee_id="f2", user_id="u1", fee=v2.Money(amount_minor=2_500,
                                                                    asset="BTC"),
                             quote_value=usdt(160_000), charged_at_ms=T)
    assert on_fee(env(btc, "e2"), fees, "USDT")
    assert on_fee(env(TradeFeeCharged(fee_id="f3", user_id="u1", amount_minor=40,
                                      currency="USDT", charged_at_ms=T), "e3"), fees, "USDT")
    assert MoneyTally.decode(fees[fees_key("u1", W)], "USDT").total == Money(160_040, "USDT")


@pytest.mark.parametrize(
    ("fee", "reason"),
    [
        # A v1 fee in BTC: the exchange never valued it in USDT, so it is not summed.
        (TradeFeeCharged(fee_id="f4", user_id="u1", amount_minor=9, currency="BTC",
                         charged_at_ms=T), "BTC has no value in the quote asset USDT"),
        (v2.TradeFeeCharged(fee_id="f5", user_id="u1", fee=usdt(9),
                            quote_value=v2.Money(amount_minor=9, asset="USDC")),
         "valued in USDC"),
        (v2.TradeFeeCharged(fee_id="f6", user_id="u1", fee=v2.Money(amount_minor=9, asset="BTC")),
         "has no value in the quote asset"),
        (TradeFeeCharged(fee_id="f7", user_id="u1", amount_minor=9, charged_at_ms=T),
         "upper-case code"),
    ],
)
def test_fees_without_a_quote_value_are_dead_lettered_with_the_reason(fee: Message,
                                                                      reason: str) -> None:
    fees: dict[str, bytes] = {}
    with pytest.raises(UndecodableEvent, match=reason):
        on_fee(env(fee, "e"), fees, "USDT")
    assert fees == {}


def test_a_tally_summed_in_another_quote_asset_refuses_to_mix() -> None:
    fees = {fees_key("u1", W): MoneyTally(Money(5, "USDC")).encode()}
    fee = v2.TradeFeeCharged(fee_id="f8", user_id="u1", fee=usdt(1), quote_value=usdt(1),
                             charged_at_ms=T)
    with pytest.raises(UndecodableEvent, match="cannot combine USDC with USDT"):
        on_fee(env(fee, "e8"), fees, "USDT")
    # A tally from before tallies named their asset reads as the quote asset.
    legacy = {fees_key("u1", W): IdTally(300, ("old",)).encode()}
    assert on_fee(env(fee, "e8"), legacy, "USDT")
    assert MoneyTally.decode(legacy[fees_key("u1", W)], "USDT").total == Money(301, "USDT")


def test_kyc_is_idempotent() -> None:
    kyc: dict[str, bytes] = {}
    assert on_kyc(env(KycVerified(user_id="u1", verified_at_ms=T), "k1"), kyc)
    assert not on_kyc(env(KycVerified(user_id="u1", verified_at_ms=T + 5), "k2"), kyc)
    assert set(kyc) == {"u1"}


def test_deltas_write_once_per_creator_week_and_a_replayed_record_counts_once() -> None:
    weeks, applied = CountingDict(), CountingDict()
    rows = [
        (("c1", W, "u1"), [1, 10, 1]),
        (("c1", W, "u2"), [2, 20, 0]),
        (("c1", "2026-W47", "u1"), [1, 5, 0]),
        (("c2", W, "u1"), [1, 1, 1]),
    ]
    raw = env(encode_deltas("commit-1", rows), "rec-1")
    assert on_deltas(raw, 0, weeks, applied) == 3
    assert weeks.writes == 3
    assert on_deltas(raw, 0, weeks, applied) == 0
    c1 = CreatorWeek.decode(weeks[creator_week_key("c1", W)])
    assert c1.total == Engagement(3, 30, 1)
    assert c1.consumers == {"u1": Engagement(1, 10, 1), "u2": Engagement(2, 20, 0)}

    more = env(encode_deltas("commit-2", [(("c1", W, "u1"), [1, 1, 1])]), "rec-2")
    assert on_deltas(more, 0, weeks, applied) == 1
    assert CreatorWeek.decode(weeks[creator_week_key("c1", W)]).consumers["u1"] == Engagement(
        2, 11, 2
    )


@pytest.mark.parametrize(
    "raw",
    [b"\xff\x00 not an envelope", None, env(KycVerified(user_id="u1"), "wrong-type")],
)
def test_unreadable_records_raise_with_a_reason(raw: bytes | None) -> None:
    with pytest.raises(UndecodableEvent) as info:
        on_post(raw, 0, {})
    assert str(info.value)


def test_inconsistent_deltas_change_nothing() -> None:
    bad = encode_deltas("c", [(("c1", W, "u1"), [1, 1, 1])])
    bad.views.append(5)  # a column longer than the others
    weeks: dict[str, bytes] = {}
    with pytest.raises(UndecodableEvent):
        on_deltas(env(bad, "bad"), 0, weeks, {})
    assert weeks == {}
