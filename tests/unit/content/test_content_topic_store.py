"""The topic index on a real RocksDB store: entries newest first per topic, engagement kept as
exact (topic, day, post, user) keys, and the most-engaged page ranking distinct users with the
author's self-engagement and sanctioned accounts left out."""

from __future__ import annotations

from pathlib import Path

import pytest

from planetkit.service_auth import Caller
from services.content.adapters.topic_store import TopicIndexStore, TopicIndexStores
from services.content.domain.author_index import InvalidPage
from services.content.domain.components import Instruments
from services.content.domain.model import Post, PostKind
from services.content.domain.topics import (
    DAY_MS,
    KEPT_DAYS,
    Arenas,
    Engagement,
    Order,
    Sanctions,
)
from services.content.handlers import Ownership
from services.content.topics import TopicHandlers

NOW = 200 * DAY_MS
READER = Caller("gateway", "reader", frozenset())


def _post(n: int, author: str, ms: int) -> Post:
    return Post(f"post_{n:024x}", author, PostKind.SHORT, "", f"post {n}", ("btc",), (), (), ms)


class _NoPeers:
    async def list_topic_posts(self, *_: object) -> None:
        raise AssertionError("a local topic is never forwarded")


class _NoLog:
    async def append(self, *_: object) -> None:
        raise AssertionError("no arena is written here")


def _handlers(tmp_path: Path, sanctions: Sanctions) -> tuple[TopicHandlers, TopicIndexStore]:
    stores = TopicIndexStores(tmp_path, "topic-posts")
    owned = Ownership(1, "here", {0: "here"}, frozenset({0}), serving=True)
    handlers = TopicHandlers(stores, owned, _NoPeers(), Instruments(), Arenas(), sanctions,
                             _NoLog(), lambda: NOW)
    return handlers, stores.store(0)


async def test_newest_first_pages_without_gap_or_duplicate(tmp_path: Path) -> None:
    handlers, store = _handlers(tmp_path, Sanctions())
    posts = [_post(i, "alice", NOW - i * 1000) for i in range(5)]
    for p in posts:
        store.put_published("btc", p)
    store.put_published("btc", posts[0])  # a repeat is one entry
    store.put_published("eth", posts[1])
    seen: list[str] = []
    cursor = ""
    while True:
        page = await handlers.list_topic_posts("#ＢＴＣ", Order.NEWEST, cursor, 2, READER)
        seen += [p.post_id for p, _ in page.posts]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert seen == [p.post_id for p in posts]
    eth = await handlers.list_topic_posts("eth", Order.NEWEST, "", 10, READER)
    assert [p.post_id for p, _ in eth.posts] == [posts[1].post_id]


async def test_most_engaged_excludes_the_author_and_sanctioned_users(tmp_path: Path) -> None:
    sanctions = Sanctions()
    sanctions.sanctioned("mallory", "s1", 0)        # standing, no end
    sanctions.sanctioned("eve", "s2", NOW - 1)      # already ended
    sanctions.sanctioned("trent", "s3", 0)
    sanctions.lifted("trent", "s3")                 # lifted: counts again
    handlers, store = _handlers(tmp_path, sanctions)
    a, b, c = _post(1, "alice", NOW - 3 * DAY_MS), _post(2, "bob", NOW - DAY_MS), \
        _post(3, "carol", NOW - 10)
    for p in (a, b, c):
        store.put_published("btc", p)
    store.record_engagements("btc", [
        Engagement(a.post_id, "alice", NOW - 100),   # self-engagement
        Engagement(a.post_id, "u1", NOW - 100), Engagement(a.post_id, "u1", NOW - 50),
        Engagement(a.post_id, "mallory", NOW - 100),
        Engagement(b.post_id, "u1", NOW - 100), Engagement(b.post_id, "u2", NOW - 90),
        Engagement(b.post_id, "eve", NOW - 80), Engagement(b.post_id, "trent", NOW - 70),
        Engagement(c.post_id, "u3", NOW - 3 * DAY_MS),   # outside 24 h, inside 7 days
    ])
    day = await handlers.list_topic_posts("btc", Order.ENGAGED_24H, "", 10, READER)
    assert [(p.post_id, n) for p, n in day.posts] == [(b.post_id, 4), (a.post_id, 1)]
    week = await handlers.list_topic_posts("btc", Order.ENGAGED_7D, "", 1, READER)
    assert [(p.post_id, n) for p, n in week.posts] == [(b.post_id, 4)]
    rest = await handlers.list_topic_posts("btc", Order.ENGAGED_7D, week.next_cursor, 5,
                                           READER)
    # A tie: the newer post first.
    assert [(p.post_id, n) for p, n in rest.posts] == [(c.post_id, 1), (a.post_id, 1)]


def test_engagement_days_past_the_horizon_are_deleted(tmp_path: Path) -> None:
    store = TopicIndexStore(tmp_path / "p0", 0)
    old = NOW - (KEPT_DAYS + 2) * DAY_MS
    assert store.record_engagements("btc", [Engagement("post_a", "u1", old)]) == 1
    assert store.record_engagements("btc", [Engagement("post_a", "u1", old + 5)]) == 0
    assert store.engagements("btc", old + 10, DAY_MS) == [Engagement("post_a", "u1", old + 5)]
    store.record_engagements("btc", [Engagement("post_b", "u2", NOW)])
    assert store.engagements("btc", old + 10, DAY_MS) == []
    assert store.engagements("btc", NOW, DAY_MS) == [Engagement("post_b", "u2", NOW)]
    store.close()


@pytest.mark.parametrize("cursor", ["x1", "o", "o99999", "o-1", "o１"])
async def test_bad_engaged_cursors(tmp_path: Path, cursor: str) -> None:
    handlers, _ = _handlers(tmp_path, Sanctions())
    with pytest.raises(InvalidPage):
        await handlers.list_topic_posts("btc", Order.ENGAGED_24H, cursor, 10, READER)
