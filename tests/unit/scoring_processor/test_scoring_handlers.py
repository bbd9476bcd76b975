"""Handlers over plain dicts: weeks, duplicates, one write per (creator, week), bad records."""

from __future__ import annotations

import pytest

from planet.content.v1.events_pb2 import PostPublished
from planet.exchange.v1.events_pb2 import KycVerified, TradeFeeCharged
from planetkit.engagement_deltas import encode_deltas
from planetkit.envelope import UndecodableEvent, encode, wrap
from planetkit.weeks import week_start_ms
from services.incentive.domain.estimate.keys import creator_week_key, fees_key, posts_key
from services.incentive.domain.estimate.state import CreatorWeek, Engagement, IdTally
from services.incentive.handlers import on_deltas, on_fee, on_kyc, on_post

W = "2026-W48"
T = week_start_ms(W) + 3_600_000


class CountingDict(dict[str, bytes]):
    """A dict that counts writes, like a changelog would."""

    writes = 0

    def __setitem__(self, key: str, value: bytes) -> None:
        self.writes += 1
        super().__setitem__(key, value)


def env(payload: object, event_id: str, key: str = "k") -> bytes:
    # The handlers ignore the source; "exchange" stands in for any registered writer.
    return encode(
        wrap(payload, event_id=event_id, source="exchange", aggregate_id=key, occurred_at_ms=T)
    )  # type: ignore[arg-type]


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


def test_fee_counts_once_per_fee_id() -> None:
    fees: dict[str, bytes] = {}
    fee = TradeFeeCharged(fee_id="f1", user_id="u1", amount_minor=700, charged_at_ms=T)
    assert on_fee(env(fee, "e1"), fees)
    assert not on_fee(env(fee, "e1-retry"), fees)
    assert IdTally.decode(fees[fees_key("u1", W)]).amount == 700


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
