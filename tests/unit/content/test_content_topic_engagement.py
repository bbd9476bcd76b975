"""The most-engaged feed without Kafka: which interactions become TopicEngagement copies (and
on which partition), and the topic store folding them from records as the tail reads them,
on a real RocksDB store: distinct users per window, the author and sanctioned users left out,
unlikes not withdrawing, old days pruned, and a rebuild cut into other fetches equal to the
live store."""

from __future__ import annotations

from pathlib import Path

from aiokafka.structs import ConsumerRecord
from google.protobuf.message import Message

from planet.content.v1 import interactions_pb2 as ipb
from planet.content.v1 import topics_pb2 as tpb
from planetkit.envelope import decode, encode, wrap
from planetkit.kafka.partitioning import partition_for
from planetkit.service_auth import Caller
from planetkit.topics import TOPIC_POSTS
from services.content.adapters.topic_store import TopicIndexStore, TopicIndexStores
from services.content.domain.codec import post_published
from services.content.domain.components import Instruments
from services.content.domain.model import Post, PostKind
from services.content.domain.topic_engagement import engagement_facts
from services.content.domain.topics import (
    DAY_MS,
    KEPT_DAYS,
    Arenas,
    Engagement,
    Order,
    Sanctions,
)
from services.content.handlers import Ownership
from services.content.topic_engagement import TopicEngagementCopies
from services.content.topics import TopicHandlers

NOW = 300 * DAY_MS
READER = Caller("gateway", "reader", frozenset())


def _post(n: int, author: str, ms: int, hashtags: tuple[str, ...] = ("BTC",)) -> Post:
    return Post(f"post_{n:024x}", author, PostKind.SHORT, "", f"post {n}", hashtags, (), (), ms)


def _liked(post: Post, user: str, at: int) -> ipb.ItemLiked:
    return ipb.ItemLiked(item_id=post.post_id, item_author_id=post.creator_id, user_id=user,
                         at_ms=at, post_id=post.post_id)


def test_comments_likes_and_shares_are_engagement_under_each_topic() -> None:
    post = _post(1, "alice", NOW, ("BTC", "#ｂｔｃ", "sol"))
    comment = ipb.CommentPosted(comment_id="c", post_id=post.post_id, author_id="bob",
                                post_author_id="alice", text="hi", at_ms=NOW)
    share = ipb.ItemShared(share_id="s", item_id=post.post_id, user_id="carol", at_ms=NOW,
                           post_id=post.post_id)
    for event, user, kind in [(comment, "bob", tpb.ENGAGEMENT_KIND_COMMENT),
                              (_liked(post, "dave", NOW), "dave", tpb.ENGAGEMENT_KIND_LIKE),
                              (share, "carol", tpb.ENGAGEMENT_KIND_SHARE)]:
        facts = engagement_facts(post, event, "evt_x", NOW)
        # BTC and #ｂｔｃ are one topic.
        assert [(f.topic, f.user_id, f.kind, f.post_author_id) for f in facts] == [
            ("btc", user, kind, "alice"), ("sol", user, kind, "alice")]


def test_no_copy_for_the_author_for_non_engagement_or_for_a_post_without_topics() -> None:
    post = _post(1, "alice", NOW)
    assert engagement_facts(post, _liked(post, "alice", NOW), "e", NOW) == []
    unliked = ipb.ItemUnliked(item_id=post.post_id, user_id="bob", at_ms=NOW,
                              post_id=post.post_id)
    edited = ipb.CommentEdited(comment_id="c", post_id=post.post_id, author_id="bob")
    deleted = ipb.CommentDeleted(comment_id="c", post_id=post.post_id, author_id="bob")
    others: list[Message] = [unliked, edited, deleted]
    for event in others:
        assert engagement_facts(post, event, "e", NOW) == []
    untagged = _post(2, "alice", NOW, ())
    assert engagement_facts(untagged, _liked(untagged, "bob", NOW), "e", NOW) == []


def test_copies_are_keyed_by_topic_on_the_topics_partition_with_stable_ids() -> None:
    post = _post(1, "alice", NOW, ("btc", "eth"))
    copies = TopicEngagementCopies(TOPIC_POSTS)
    first = copies.records(post, _liked(post, "bob", NOW), "evt_like", NOW)
    again = copies.records(post, _liked(post, "bob", NOW), "evt_like", NOW)
    assert [(r.topic, r.key, r.partition) for r in first] == [
        (TOPIC_POSTS.name, t.encode(), partition_for(t, TOPIC_POSTS.partitions))
        for t in ("btc", "eth")]
    ids = [decode(r.value, tpb.TopicEngagement).envelope.event_id for r in first]
    assert len(set(ids)) == 2
    assert ids == [decode(r.value, tpb.TopicEngagement).envelope.event_id for r in again]


# -- the store, fed by records as the tail reads them ------------------------------------


def _published(post: Post, topic: str, offset: int) -> ConsumerRecord[bytes, bytes]:
    value = encode(wrap(post_published(post), event_id=f"evt_p{offset}", source="content",
                        aggregate_id=topic, occurred_at_ms=post.published_at_ms,
                        aggregate_version=1))
    return ConsumerRecord("topic-posts", 0, offset, 0, 0, topic.encode(), value, None,
                          len(topic), len(value), [])


def _engaged(post: Post, user: str, at: int, offset: int, topic: str = "btc",
             author: str | None = None) -> ConsumerRecord[bytes, bytes]:
    fact = tpb.TopicEngagement(topic=topic, post_id=post.post_id,
                               post_author_id=post.creator_id if author is None else author,
                               user_id=user, kind=tpb.ENGAGEMENT_KIND_LIKE, at_ms=at,
                               source_event_id=f"evt_{offset}")
    value = encode(wrap(fact, event_id=f"evt_g{offset}", source="content", aggregate_id=topic,
                        occurred_at_ms=at))
    return ConsumerRecord("topic-posts", 0, offset, 0, 0, topic.encode(), value, None,
                          len(topic), len(value), [])


def _handlers(stores: TopicIndexStores, sanctions: Sanctions) -> TopicHandlers:
    owned = Ownership(1, "here", {0: "here"}, frozenset({0}), serving=True)
    return TopicHandlers(stores, owned, _NoPeers(), Instruments(), Arenas(), sanctions,
                         _NoLog(), lambda: NOW)


class _NoPeers:
    async def list_topic_posts(self, addr: str, request: tpb.ListTopicPostsRequest,
                               caller: Caller) -> tpb.ListTopicPostsResponse:
        raise AssertionError("a local topic is never forwarded")


class _NoLog:
    async def append(self, fact: tpb.ArenaDefined) -> None:
        raise AssertionError("no arena is written here")


A = _post(1, "alice", NOW - 5 * DAY_MS)
B = _post(2, "bob", NOW - 4 * DAY_MS)
C = _post(3, "carol", NOW - 3 * DAY_MS)


def _history() -> list[ConsumerRecord[bytes, bytes]]:
    records = [_published(A, "btc", 0), _published(B, "btc", 1), _published(C, "btc", 2)]
    engaged = [
        (A, "alice", NOW - 10),                 # the author: never counts
        (A, "u1", NOW - 100), (A, "u1", NOW - 50),   # one user, twice: once
        (A, "mallory", NOW - 40),               # sanctioned
        (B, "u1", NOW - 2 * DAY_MS), (B, "u2", NOW - 2 * DAY_MS), (B, "u3", NOW - 3 * DAY_MS),
        (C, "u4", NOW - 30),
        (C, "u5", NOW - 20),
        (C, "u9", NOW - (KEPT_DAYS + 30) * DAY_MS),  # late and past the horizon: not kept
    ]
    for user_post, user, at in engaged:
        records.append(_engaged(user_post, user, at, len(records)))
    # A self-engagement filed as someone else's author, and one under another topic's key.
    records.append(_engaged(B, "bob", NOW - 5, len(records), author="bob"))
    records.append(_engaged(C, "u6", NOW - 5, len(records), topic="eth"))
    return records


def _fix_key(record: ConsumerRecord[bytes, bytes], key: bytes) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(record.topic, record.partition, record.offset, 0, 0, key,
                          record.value, None, len(key), record.serialized_value_size, [])


async def _pages(handlers: TopicHandlers) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    day = await handlers.list_topic_posts("btc", Order.ENGAGED_24H, "", 10, READER)
    week = await handlers.list_topic_posts("btc", Order.ENGAGED_7D, "", 10, READER)
    return ([(p.post_id, n) for p, n in day.posts], [(p.post_id, n) for p, n in week.posts])


async def test_the_tail_feeds_the_ranking_and_a_rebuild_in_other_fetches_equals_it(
        tmp_path: Path) -> None:
    history = _history()
    # The last record's key says btc while the fact says eth: not counted under btc.
    history[-1] = _fix_key(history[-1], b"btc")
    sanctions = Sanctions()
    sanctions.sanctioned("mallory", "s1", 0)
    live = TopicIndexStores(tmp_path / "live", "topic-posts")
    for record in history:  # one record per fetch
        live.store(0).apply([record])
    rebuilt = TopicIndexStores(tmp_path / "rebuilt", "topic-posts")
    rebuilt.store(0).apply(history)  # one fetch
    for stores in (live, rebuilt):
        day, week = await _pages(_handlers(stores, sanctions))
        assert day == [(C.post_id, 2), (A.post_id, 1)]
        assert week == [(B.post_id, 3), (C.post_id, 2), (A.post_id, 1)]
    assert _dump(live.store(0)) == _dump(rebuilt.store(0))
    assert live.store(0).applied == rebuilt.store(0).applied == len(history)
    # The sanction lifted: mallory counts again.
    sanctions.lifted("mallory", "s1")
    day, _ = await _pages(_handlers(live, sanctions))
    assert day == [(C.post_id, 2), (A.post_id, 2)]  # a tie: the newer post first
    live.close()
    rebuilt.close()


def _dump(store: TopicIndexStore) -> list[tuple[bytes, bytes]]:
    db = store._db  # comparing two stores key by key
    it = db.iter()
    it.seek_to_first()
    out: list[tuple[bytes, bytes]] = []
    while it.valid():
        out.append((bytes(it.key()), bytes(it.value())))
        it.next()
    del it
    return out


def test_a_like_then_an_unlike_still_counts_and_toggling_counts_once(tmp_path: Path) -> None:
    # An unlike writes no copy (engagement_facts above), so the store keeps the like's key;
    # liking again the same day finds the key and adds nothing.
    store = TopicIndexStore(tmp_path / "p0", 0)
    store.apply([_published(A, "btc", 0), _engaged(A, "u1", NOW - 100, 1)])
    store.apply([_engaged(A, "u1", NOW - 50, 2)])
    assert store.engagements("btc", NOW, DAY_MS) == [Engagement(A.post_id, "u1", NOW - 50)]
    store.close()


def test_old_days_are_pruned_as_newer_days_arrive(tmp_path: Path) -> None:
    store = TopicIndexStore(tmp_path / "p0", 0)
    first_day = NOW - 20 * DAY_MS
    store.apply([_published(A, "btc", 0)] + [
        _engaged(A, f"u{d}", first_day + d * DAY_MS, d + 1) for d in range(21)])
    kept = store.engagements("btc", NOW, 30 * DAY_MS)
    assert sorted(e.user_id for e in kept) == sorted(f"u{d}" for d in range(20 - KEPT_DAYS, 21))
    store.close()
