"""The most-engaged ranking read by threshold (domain/topics.rank_engaged_top over the store's
day counts) equals the full-scan ranking (domain/topics.rank_engaged over every engagement key
of the window, kept as the oracle) on a real RocksDB store: random engagements over several
days and fetches, authors engaging their own posts, sanctioned users, removed posts, many ties
on the count and on the published time, every window and many offsets; and the day counts
stay a fold of the engagement keys (pruning included)."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Collection, Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from planet.content.v1 import topics_pb2 as tpb
from planetkit.service_auth import Caller
from services.content.adapters.topic_store import TopicIndexStore, TopicIndexStores
from services.content.domain.components import Instruments
from services.content.domain.model import Post, PostKind
from services.content.domain.topics import (
    DAY_MS,
    Arenas,
    Engagement,
    EngagementCounts,
    Order,
    RankedPost,
    Sanctions,
    by_count_prefix,
    count_from_value,
    count_key,
    engaged_prefix,
    hour_count_prefix,
    latest_day_count_prefix,
    latest_prefix,
    rank_engaged,
    rank_engaged_top,
    split_by_count_key,
    split_engaged_key,
    split_latest_key,
)
from services.content.handlers import Ownership
from services.content.topics import MAX_ENGAGED_OFFSET, TopicHandlers

NOW = 300 * DAY_MS + 7 * 3_600_000  # mid-day: the 24 h window's first day is cut
READER = Caller("gateway", "reader", frozenset())
TOPIC = "btc"


class _NoPeers:
    async def list_topic_posts(self, addr: str, request: tpb.ListTopicPostsRequest,
                               caller: Caller) -> tpb.ListTopicPostsResponse:
        raise AssertionError("a local topic is never forwarded")


class _NoLog:
    async def append(self, fact: tpb.ArenaDefined) -> None:
        raise AssertionError("no arena is written here")


class _Forced:
    """The store's counts, with each exact count forced down one of its two ways: the hours'
    latest counts (``bound`` huge) or the post's day keys (``bound`` 0)."""

    def __init__(self, counts: EngagementCounts, bound: int) -> None:
        self._counts = counts
        self._bound = bound

    def by_count(self, day: int) -> Iterator[tuple[int, str]]:
        return self._counts.by_count(day)

    def bounds(self, days: Sequence[int], post_ids: Sequence[str]) -> dict[str, int]:
        return self._counts.bounds(days, post_ids)

    def distinct(self, post_id: str, since_ms: int, now_ms: int, excluded: Collection[str],
                 bound: int) -> int:
        return self._counts.distinct(post_id, since_ms, now_ms, excluded, self._bound)

    def listed(self, post_ids: Sequence[str]) -> Mapping[str, tuple[str, int]]:
        return self._counts.listed(post_ids)


def _oracle(store: TopicIndexStore, now: int, window: int, sanctions: Sanctions
            ) -> list[RankedPost]:
    """The full-scan ranking (the definition, as the page computed it before the counts)."""
    engagements = store.engagements(TOPIC, now, window)
    found = store.posts(TOPIC, sorted({e.post_id for e in engagements}))
    candidates = {p.post_id: (p.creator_id, p.published_at_ms) for p in found.values()}
    return [r for r in rank_engaged(candidates, engagements, now, window,
                                    lambda u: sanctions.is_sanctioned(u, now))
            if r.engaged_users > 0]


def _fill(store: TopicIndexStore, rng: random.Random) -> Sanctions:
    """Random posts (some removed, some on another topic, equal published times) and
    engagements over ten days in random fetches; some users sanctioned, one sanction over."""
    authors = [f"author_{i}" for i in range(rng.randint(1, 6))]
    n_posts = rng.randint(1, 60)
    posts: list[Post] = []
    for i in range(n_posts):
        published = NOW - rng.choice([1, 2, 3]) * rng.randint(0, 9) * DAY_MS // 3
        removed = NOW if rng.random() < 0.1 else 0
        post = Post(f"post_{i:04d}", rng.choice(authors), PostKind.SHORT, "", f"post {i}",
                    (TOPIC,), (), (), published, removed_at_ms=removed)
        store.put_published(TOPIC if rng.random() < 0.95 else "eth", post)
        posts.append(post)
    ghost = "post_ghost"  # engaged but never listed under the topic
    users = [f"user_{i}" for i in range(rng.randint(1, 40))] + authors
    engagements: list[Engagement] = []
    for _ in range(rng.randint(0, 600)):
        # Zipf-like: a few posts draw most of it.
        k = min(int(rng.paretovariate(1.0)) - 1, n_posts)
        post_id = posts[k].post_id if k < n_posts else ghost
        at = NOW - rng.randint(-2 * 3_600_000, 10 * DAY_MS)  # a few in the future
        engagements.append(Engagement(post_id, rng.choice(users), at))
    rng.shuffle(engagements)
    while engagements:  # fetches of random sizes, in arrival order
        cut = rng.randint(1, 50)
        store.record_engagements(TOPIC, engagements[:cut])
        del engagements[:cut]
    sanctions = Sanctions()
    for user in rng.sample(users, rng.randint(0, min(5, len(users)))):
        sanctions.sanctioned(user, f"s_{user}", rng.choice([0, NOW + 1, NOW - 1]))
    return sanctions


@pytest.mark.parametrize("seed", range(60))
def test_the_threshold_ranking_equals_the_full_scan(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    store = TopicIndexStores(tmp_path, "topic-posts").store(0)
    sanctions = _fill(store, rng)
    for now in (NOW, NOW - DAY_MS // 2, NOW + 3 * DAY_MS):
        for window in (DAY_MS, 7 * DAY_MS):
            full = _oracle(store, now, window, sanctions)
            for want in sorted({1, 2, 3, 5, 8, 21, len(full), len(full) + 1, 500}):
                for counts in (store.counts(TOPIC), _Forced(store.counts(TOPIC), 0),
                               _Forced(store.counts(TOPIC), 10**9)):
                    got = rank_engaged_top(counts, now, window, sanctions.standing_at(now),
                                           want)
                    assert got == full[:want], (now, window, want)
    store.close()


@pytest.mark.parametrize("seed", range(10))
async def test_engaged_pages_walk_the_full_ranking(tmp_path: Path, seed: int) -> None:
    rng = random.Random(1000 + seed)
    stores = TopicIndexStores(tmp_path, "topic-posts")
    store = stores.store(0)
    sanctions = _fill(store, rng)
    owned = Ownership(1, "here", {0: "here"}, frozenset({0}), serving=True)
    handlers = TopicHandlers(stores, owned, _NoPeers(), Instruments(), Arenas(), sanctions,
                             _NoLog(), lambda: NOW)
    for order in (Order.ENGAGED_24H, Order.ENGAGED_7D):
        full = _oracle(store, NOW, order.window_ms, sanctions)
        limit = rng.randint(1, 7)
        walked: list[tuple[str, int]] = []
        cursor = ""
        while True:
            page = await handlers.list_topic_posts(TOPIC, order, cursor, limit, READER)
            walked += [(p.post_id, n) for p, n in page.posts]
            if not page.next_cursor:
                break
            cursor = page.next_cursor
        assert walked == [(r.post_id, r.engaged_users)
                          for r in full][:MAX_ENGAGED_OFFSET + limit]
    store.close()


@pytest.mark.parametrize("seed", range(10))
def test_day_counts_are_a_fold_of_the_engagement_keys(tmp_path: Path, seed: int) -> None:
    rng = random.Random(2000 + seed)
    store = TopicIndexStores(tmp_path, "topic-posts").store(0)
    _fill(store, rng)
    # Ten days on: the older days are pruned from keys, counts and lists alike.
    store.record_engagements(TOPIC, [Engagement("post_0000", "late", NOW + 10 * DAY_MS)])
    keys: Counter[tuple[int, str]] = Counter()
    counts: dict[tuple[int, str], int] = {}
    lists: dict[tuple[int, str], int] = {}
    latest: dict[tuple[str, str], int] = {}
    for day in range(250, 320):
        prefix = engaged_prefix(TOPIC, day)
        for key, value in _scan(store, prefix):
            post_id, user_id = split_engaged_key(key, prefix)
            keys[day, post_id] += 1
            at = int.from_bytes(value, "big")
            latest[post_id, user_id] = max(latest.get((post_id, user_id), at), at)
        for key, value in _scan(store, count_key(TOPIC, day)):
            counts[day, key[len(count_key(TOPIC, day)):].decode()] = count_from_value(value)
        for key, _ in _scan(store, by_count_prefix(TOPIC, day)):
            n, post_id = split_by_count_key(key, by_count_prefix(TOPIC, day))
            lists[day, post_id] = n
    assert counts == dict(keys) == lists
    # Each (post, user) has one latest-time key, under its hour, and the hours count them.
    filed: dict[tuple[str, str], int] = {}
    by_hour: Counter[tuple[int, str]] = Counter()
    hour_counts: dict[tuple[int, str], int] = {}
    for hour in range(250 * 24, 320 * 24):
        for key, _ in _scan(store, latest_prefix(TOPIC, hour)):
            rest = key[len(latest_prefix(TOPIC, hour)):]
            n = int.from_bytes(rest[:2], "big")
            post_id = rest[2:2 + n].decode()
            at, user_id = split_latest_key(key, latest_prefix(TOPIC, hour) + rest[:2 + n])
            assert (post_id, user_id) not in filed
            assert at // 3_600_000 == hour
            filed[post_id, user_id] = at
            by_hour[hour, post_id] += 1
        for key, value in _scan(store, hour_count_prefix(TOPIC, hour)):
            post_id = key[len(hour_count_prefix(TOPIC, hour)):].decode()
            hour_counts[hour, post_id] = count_from_value(value)
    assert filed == latest
    assert hour_counts == dict(by_hour)
    by_day: Counter[tuple[int, str]] = Counter()
    for (hour, post_id), n in by_hour.items():
        by_day[hour // 24, post_id] += n
    day_counts = {(day, key[len(latest_day_count_prefix(TOPIC, day)):].decode()):
                  count_from_value(value)
                  for day in range(250, 320)
                  for key, value in _scan(store, latest_day_count_prefix(TOPIC, day))}
    assert day_counts == dict(by_day)
    assert min(day for day, _ in counts) >= (NOW + 10 * DAY_MS) // DAY_MS - 8
    store.close()


def _scan(store: TopicIndexStore, prefix: bytes) -> list[tuple[bytes, bytes]]:
    it = store._db.iter()  # reading the layout itself
    it.seek(prefix)
    out: list[tuple[bytes, bytes]] = []
    while it.valid() and bytes(it.key()).startswith(prefix):
        out.append((bytes(it.key()), bytes(it.value())))
        it.next()
    del it
    return out
