"""A week settled from what the services STORED equals the week settled from the raw events,
byte for byte, under two policies (issue 14: the volume path keeps every fact at full detail).

Raw events go where their owners write them: telemetry batches (with a redelivered batch) to
planet.engagement.batches.v1, comments, likes, shares and follows to content's and social's
topics, posts, removals, KYC, identities and a sanction to theirs. The real aggregator and the
real intake process them. The oracle builds the model's input straight from the raw events
(views and acts as rows, the duplicate included); the stored side reads view-facts and
interaction-facts back from Kafka (fact_log.load_week). Statuses come from the stored status
topics on both sides: what is compared is the engagement path.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest
from aiokafka import AIOKafkaProducer

from planet.content.v1 import interactions_pb2 as ix
from planet.content.v1 import reports_pb2 as reports
from planet.content.v1.events_pb2 import PostKind, PostPublished
from planet.engagement.v1.telemetry_pb2 import EngagementBatch
from planet.exchange.v1.events_pb2 import KycVerified
from planet.incentive.v1.facts_pb2 import FactRows, ItemStatus, UserStatus
from planet.social.v1 import events_pb2 as social
from planet.social.v1 import graph_pb2 as graph
from planetkit import topics as registry
from planetkit.engagement_batches import VIEW, EngagementRow, build_batch
from planetkit.envelope import decode, encode, wrap
from planetkit.fact_rows import COMMENT, FOLLOW, LIKE, REPLY, SHARE, FactRow, build_facts
from planetkit.fact_rows import VIEW as FACT_VIEW
from planetkit.kafka.replay import read_committed
from planetkit.topics import with_suffix
from services.incentive.domain.breakdown import encode_result
from services.incentive.domain.facts import IsoWeek
from services.incentive.domain.policy import default_policy
from services.incentive.domain.settlement import settle
from services.incentive.scoring.fact_log import PoolTopics, feed_statuses, load_week
from services.incentive.scoring.pool_book import PoolBook
from services.incentive.scoring.week_inputs import WeekInputs

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parents[1] / "scoring_processor"
MINUTE = 60_000


def _harness() -> ModuleType:
    """The intake's process harness (tests/kafka/scoring_processor), loaded by path: test
    directories are not packages."""
    sys.path.insert(0, str(HERE))
    spec = importlib.util.spec_from_file_location("scoring_harness", HERE / "scoring_harness.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class World:
    """One generated week of raw events, and the oracle's rows for them."""

    def __init__(self, suffix: str, now_ms: int) -> None:
        self.s = suffix
        week = IsoWeek.containing(now_ms)
        self.week = week
        # Every event in the week and before now (the aggregator takes no future weeks).
        self.lo, self.hi = week.start_ms, max(week.start_ms + 1, now_ms - MINUTE)
        self.rng = random.Random(11)
        self.creators = [f"cr{k}-{suffix}" for k in range(4)]
        self.posts = {f"post{k}_{suffix}": self.creators[k % 4] for k in range(8)}
        self.consumers = [f"u{k}-{suffix}" for k in range(12)]
        self.batches: list[EngagementBatch] = []
        self.oracle: list[FactRows] = []
        self.sources: list[tuple[registry.Topic, object, str, str]] = []

    def at(self) -> int:
        return self.rng.randrange(self.lo, self.hi)

    def telemetry(self) -> None:
        n = 0
        for consumer in self.consumers:
            for b in range(3):
                rows = []
                for _ in range(self.rng.randrange(1, 6)):
                    post = self.rng.choice(sorted(self.posts))
                    n += 1
                    rows.append(EngagementRow(f"v{n}-{self.s}", post, self.posts[post],
                                              self.at(), VIEW, self.rng.randrange(0, 900)))
                batch = build_batch(f"{consumer}-b{b}", consumer, rows)
                self.batches.append(batch)
                self.oracle.append(build_facts(batch.batch_id, consumer, [
                    FactRow(r.event_id, r.item_id, r.creator_id, r.occurred_at_ms, FACT_VIEW,
                            r.dwell_seconds) for r in rows]))
        # A redelivered batch: the aggregator drops it; the oracle holds each raw event once
        # (the redelivery is kept apart to show the model's own dedup gives the same amounts).
        self.batches.append(self.batches[3])
        self.redelivered = self.oracle[3]

    def act(self, topic: registry.Topic, payload: object, event_id: str, key: str,
            consumer: str, row: FactRow | None) -> None:
        self.sources.append((topic, payload, event_id, key))
        if row is not None:
            self.oracle.append(build_facts(f"{event_id}:0", consumer, [row]))

    def interactions(self) -> None:
        ixs = registry.INTERACTIONS
        for k, consumer in enumerate(self.consumers):
            post = sorted(self.posts)[k % 8]
            author = self.posts[post]
            t = self.at()
            parent = f"cmt0-{self.s}" if k % 3 == 1 else ""
            text = 10 + 7 * k
            self.act(ixs, ix.CommentPosted(comment_id=f"cmt{k}-{self.s}", post_id=post,
                                           post_author_id=author, author_id=consumer,
                                           parent_comment_id=parent, text="x" * text,
                                           text_length=text, at_ms=t),
                     f"c{k}-{self.s}", post, consumer,
                     FactRow(f"c{k}-{self.s}", post, author, t, REPLY if parent else COMMENT,
                             0, text))
            t = self.at()
            self.act(ixs, ix.ItemLiked(item_id=post, item_author_id=author, user_id=consumer,
                                       at_ms=t, post_id=post), f"l{k}-{self.s}", post, consumer,
                     FactRow(f"l{k}-{self.s}", post, author, t, LIKE))
            if k % 2:
                t = self.at()
                self.act(ixs, ix.ItemShared(share_id=f"sh{k}-{self.s}", item_id=post,
                                            item_author_id=author, user_id=consumer,
                                            quote="q" * k, quote_length=k, at_ms=t,
                                            post_id=post),
                         f"s{k}-{self.s}", post, consumer,
                         FactRow(f"s{k}-{self.s}", post, author, t, SHARE, 0, k))
            creator = self.creators[k % 4]
            t = self.at()
            self.act(registry.SOCIAL_GRAPH, graph.Followed(follower_id=consumer,
                                                           followee_id=creator, at_ms=t),
                     f"f{k}-{self.s}", consumer, consumer,
                     FactRow(f"f{k}-{self.s}", f"home:{creator}", creator, t, FOLLOW))
        # Self-engagement: a creator likes their own post.
        own = next(p for p, c in self.posts.items() if c == self.creators[0])
        t = self.at()
        self.act(ixs, ix.ItemLiked(item_id=own, item_author_id=self.creators[0],
                                   user_id=self.creators[0], at_ms=t, post_id=own),
                 f"self-{self.s}", own, self.creators[0],
                 FactRow(f"self-{self.s}", own, self.creators[0], t, LIKE))

    def standing(self) -> None:
        start = self.week.start_ms - 10 * MINUTE
        for post, creator in sorted(self.posts.items()):
            self.act(registry.POSTS, PostPublished(post_id=post, creator_id=creator,
                                                   kind=PostKind.POST_KIND_SHORT,
                                                   published_at_ms=start),
                     f"pub-{post}", post, creator, None)
        for user in self.creators + self.consumers:
            self.act(registry.KYC, KycVerified(user_id=user, verified_at_ms=start),
                     f"kyc-{user}", user, user, None)
        for creator in self.creators:
            self.act(registry.SOCIAL_IDENTITIES, social.CreatorIdentityOpened(
                user_id=creator, handle=f"h{creator}", opened_at_ms=start),
                f"open-{creator}", creator, creator, None)
        removed = sorted(self.posts)[1]
        self.act(registry.MODERATION, reports.ItemRemoved(
            item_id=removed, kind=reports.MODERATED_KIND_POST, post_id=removed,
            author_id=self.posts[removed], at_ms=self.lo + (self.hi - self.lo) // 2),
            f"rm-{removed}", removed, "", None)
        self.act(registry.SOCIAL_IDENTITIES, social.AccountSanctioned(
            user_id=self.consumers[5], sanction_id="s1", reason="spam", at_ms=start),
            f"sanction-{self.s}", self.consumers[5], "", None)


async def _produce(bootstrap: str, world: World) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True,
                                acks="all", linger_ms=5)
    await producer.start()
    try:
        batches = with_suffix(registry.ENGAGEMENT_BATCHES, world.s).name
        for batch in world.batches:
            env = wrap(batch, event_id=batch.batch_id, source=registry.ENGAGEMENT_BATCHES.writer,
                       aggregate_id=batch.consumer_id, occurred_at_ms=world.hi)
            await producer.send(batches, encode(env), key=batch.consumer_id.encode())
        for topic, payload, event_id, key in world.sources:
            env = wrap(payload, event_id=event_id, source=topic.writer,  # type: ignore[arg-type]
                       aggregate_id=key, occurred_at_ms=world.hi)
            await producer.send(with_suffix(topic, world.s).name, encode(env),
                                key=key.encode())
        await producer.flush()
    finally:
        await producer.stop()


async def _stored_rows(bootstrap: str, topic: registry.Topic, suffix: str) -> set[str]:
    t = with_suffix(topic, suffix)
    ids: set[str] = set()
    async for record in read_committed(bootstrap, t.name, range(t.partitions)):
        ids.update(decode(record.value, FactRows).payload.event_ids)
    return ids


async def _wait_for(what: str, check, timeout_s: float, logs) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not reached in {timeout_s} s\n{logs()}")
        await asyncio.sleep(0.5)


@pytest.mark.slow
async def test_the_week_from_stored_facts_equals_the_week_from_raw_events(
        kafka_bootstrap: str, registered_topics: str, tmp_path: Path) -> None:
    suffix = registered_topics
    world = World(suffix, int(time.time() * 1000))
    world.telemetry()
    world.interactions()
    world.standing()
    await _produce(kafka_bootstrap, world)

    harness = _harness()
    # The real incentive deployable (its intake writes the facts and statuses).
    intake = harness.ProcessorProcess(kafka_bootstrap, suffix, tmp_path)
    aggregator = subprocess.Popen(
        [sys.executable, "-m", "services.incentive.engagement"], cwd=ROOT,
        env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
             "PLANET_TOPIC_SUFFIX": suffix, "PLANET_AGGREGATOR_HEALTH_PORT": "0",
             "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    intake.start()
    try:
        views = {r.event_id for b in world.batches for r in
                 (EngagementRow(*row) for row in zip(b.event_ids, b.item_ids, b.creator_ids,
                                                      b.occurred_at_ms, b.kinds,
                                                      b.dwell_seconds, b.text_lengths,
                                                      strict=True))}
        acts = {eid for _, _, eid, _ in world.sources
                if not eid.startswith(("pub-", "kyc-", "open-", "rm-", "sanction-"))}

        async def all_stored() -> bool:
            return (await _stored_rows(kafka_bootstrap, registry.VIEW_FACTS, suffix) == views
                    and await _stored_rows(kafka_bootstrap, registry.INTERACTION_FACTS,
                                           suffix) == acts)

        await _wait_for("every view and act stored", all_stored, 120, intake.log_tail)

        topics = PoolTopics.named(suffix)

        async def statuses_folded() -> bool:
            users: set[str] = set()
            items: dict[str, ItemStatus] = {}
            async for r in read_committed(kafka_bootstrap, topics.user_status, range(4)):
                users.add(decode(r.value, UserStatus).payload.user_id)
            async for r in read_committed(kafka_bootstrap, topics.item_status, range(4)):
                st = decode(r.value, ItemStatus).payload
                items[st.item_id] = st
            return users >= set(world.creators + world.consumers) and \
                set(world.posts) <= set(items) and any(st.removed for st in items.values())

        await _wait_for("statuses folded", statuses_folded, 60, intake.log_tail)
    finally:
        intake.stop()
        aggregator.terminate()
        aggregator.wait(20)

    book = PoolBook("USDT")
    close = world.week.end_ms
    stored = await load_week(kafka_bootstrap, topics, world.week, {}, book, "USDT",
                             status_at_ms=close)
    raw = WeekInputs(world.week)
    for rows in world.oracle:
        raw.add_facts(rows)
    # The statuses are the stored ones on both sides (read the same way).
    await feed_statuses(kafka_bootstrap, topics, raw, {})
    oracle = raw.build(pool_minor=1_000_000, rollovers={}, quote_asset="USDT",
                       status_at_ms=close)
    raw.add_facts(world.redelivered)
    with_duplicates = raw.build(pool_minor=1_000_000, rollovers={}, quote_asset="USDT",
                                status_at_ms=close)
    stored_input = stored.facts.__class__(stored.facts.week, 1_000_000, stored.facts.events,
                                          stored.facts.consumers, stored.facts.creators,
                                          stored.facts.items, stored.facts.rollovers)
    second = default_policy().evolve(version="shadow-2", min_dwell_seconds=60,
                                     dwell_cap_seconds=300, interaction_cap_points=90)
    for policy in (default_policy(), second):
        want = settle(oracle.facts, policy)
        got = settle(stored_input, policy)
        assert encode_result(got) == encode_result(want), policy.version
        paid = [c for c in want.creators if c.allocated_minor > 0]
        assert len(paid) >= 2, "the week must pay several creators to prove anything"
        reasons = {d.reason for c in want.creators for d in c.discounts}
        assert {"item_removed", "self_interaction", "sanctioned_account"} <= reasons, reasons
        # Given the redelivered batch too, the model drops it itself: same money, same root.
        redone = settle(with_duplicates.facts, policy)
        assert redone.amounts() == want.amounts() and redone.merkle_root == want.merkle_root
        assert "duplicate_event" in {d.reason for c in redone.creators for d in c.discounts}
