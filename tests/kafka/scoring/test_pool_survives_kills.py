"""The weekly pool's whole stack, killed: one generated week through the real processes twice,
on topics of their own, the second time with SIGKILLs; the settlements are byte-identical.

Each run starts the engagement aggregator (telemetry -> view facts), the incentive service
(source events -> interaction facts and user/item statuses) and the scoring job (close,
settle, payouts), then produces the same week: the users' standing, posts, comments, likes,
shares and follows as their owning services write them, client telemetry whose views the
aggregator stores (a few batches sent again, as a retrying client does), the pool's funding,
and an operator's early close (allowed by the job's configuration, as in
test_scoring_job_early_close_and_fencing). The second run SIGKILLs the aggregator twice during
the telemetry (as soon as it has committed some of a part; at least one kill must find input
not yet committed), the scoring job once during the week's traffic, and again inside the
settlement's transaction (its fault injection, as test_scoring_job_settles_once uses),
restarting each. WeekClosed is not compared: its cuts are offsets, which the killed run's
aborted transactions move, and closed_at_ms is a wall-clock time.

What must hold: the WeekSettled of both runs is the same message except settled_at_ms (the
job's wall clock when it settled), every CreatorWeekResult is byte-identical (none of its
fields is a time or derived from the topic suffix: the ids are the generated week's), and
both runs stored every view fact exactly once, the same rows.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from google.protobuf.message import Message
from scoring_job_harness import JobProcess, Reader, make_topics, poll_until, this_week

from planet.content.v1 import interactions_pb2 as ix
from planet.content.v1.events_pb2 import PostKind, PostPublished
from planet.engagement.v1.telemetry_pb2 import EngagementBatch
from planet.exchange.v1.events_pb2 import KycVerified
from planet.exchange.v2 import events_pb2 as fees
from planet.incentive.v1.facts_pb2 import FactRows, ItemStatus, UserStatus
from planet.incentive.v1.weekly_pool_pb2 import (
    CreatorWeekResult,
    PoolFunded,
    WeekCloseRequested,
    WeekSettled,
)
from planet.social.v1 import events_pb2 as social
from planet.social.v1 import graph_pb2 as graph
from planetkit import topics as registry
from planetkit.engagement_batches import VIEW, EngagementRow, build_batch
from planetkit.envelope import decode, encode, wrap
from planetkit.fact_rows import iter_facts
from planetkit.kafka.producer import make_producer, publish
from planetkit.kafka.replay import read_committed
from planetkit.service_identities import INCENTIVE
from planetkit.topics import with_suffix
from services.incentive.domain.facts import IsoWeek
from services.incentive.scoring.job import JobTopics
from services.incentive.scoring.pool_book import previous_week

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[3]
DAY_MS = 86_400_000
POOL = 5_000_000
CREATORS = tuple(f"cre-{n}" for n in range(6))
SANCTIONED = "cre-5"
CONSUMERS = tuple(f"con-{n:02d}" for n in range(30))
# Consumers the exchange never verified: their engagement counts for nothing.
UNVERIFIED = frozenset({"con-27", "con-28", "con-29"})
BATCHES, ROWS_PER_BATCH = 360, 20
# Small transactions: the aggregator commits often, so a kill lands with input left to read.
AGGREGATOR_MAX_RECORDS = 4
# Stored view facts: row (as a tuple) -> how many times it is stored.
Stored = Counter[tuple[object, ...]]


def _processor_harness() -> ModuleType:
    """The incentive service's process harness (tests/kafka/scoring_processor), loaded by
    path: test directories are not packages."""
    here = Path(__file__).resolve().parents[1] / "scoring_processor"
    if str(here) not in sys.path:
        sys.path.insert(0, str(here))
    return importlib.import_module("scoring_harness")


def _posts(creator: str) -> tuple[str, str]:
    return f"post_{creator}_1", f"post_{creator}_2"


@dataclass(frozen=True)
class Week:
    """The generated week: every input of both runs, built once (times included)."""

    week: IsoWeek
    t0: int
    telemetry: tuple[EngagementBatch, ...]
    # The event id of every distinct view the telemetry carries (unique across the week).
    views: frozenset[str]

    @classmethod
    def generate(cls, seed: int) -> Week:
        week = this_week()
        now = int(time.time() * 1000)
        # Engagement in the last hour of the week so far: before any close of this run.
        t0 = max(week.start_ms, now - 3_600_000)
        rng = random.Random(seed)
        batches: list[EngagementBatch] = []
        views: set[str] = set()
        for b in range(BATCHES):
            # Self-engagement too: now and then a creator views posts, their own among them.
            consumer = rng.choice(CREATORS if rng.random() < 0.05 else CONSUMERS)
            rows = []
            for e in range(ROWS_PER_BATCH):
                creator = rng.choice(CREATORS)
                rows.append(EngagementRow(f"b{b}e{e}", rng.choice(_posts(creator)), creator,
                                          t0 + b, VIEW, dwell_seconds=rng.randrange(1, 150)))
            batches.append(build_batch(f"batch{b}", consumer, rows))
            views.update(r.event_id for r in rows)
        return cls(week, t0, tuple(batches), frozenset(views))

    def chunks(self) -> tuple[list[EngagementBatch], ...]:
        """The telemetry in three parts, with client redeliveries: part two sends ten of part
        one's batches again (after the aggregator's first crash), part three ten of its own
        and ten of part two's."""
        t = list(self.telemetry)
        third = len(t) // 3
        one, two, three = t[:third], t[third:2 * third], t[2 * third:]
        return one, two + one[5:15], three + three[:10] + two[20:30]


# ---- the engagement aggregator as a process ----------------------------------------------

class Aggregator:
    """Starts and SIGKILLs `python -m services.incentive.engagement` on one run's topics."""

    def __init__(self, bootstrap: str, suffix: str, workdir: Path) -> None:
        self.log_path = workdir / "aggregator.log"
        self.env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "PLANET_TOPIC_SUFFIX": suffix,
            "PLANET_AGGREGATOR_MAX_RECORDS": str(AGGREGATOR_MAX_RECORDS),
            "PLANET_AGGREGATOR_HEALTH_PORT": "0",
        }
        self.group = f"engagement-aggregator-{suffix}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "services.incentive.engagement"],
                                         cwd=REPO, env=self.env, stdout=log,
                                         stderr=subprocess.STDOUT)

    def kill9(self) -> None:
        assert self.proc is not None and self.proc.poll() is None, self.log_tail()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.kill9()

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]


class InputPosition:
    """How much of the telemetry topic the aggregator has committed (its transactions commit
    the group's offsets with the facts they write) and how much there is."""

    def __init__(self, bootstrap: str, group: str, topic: str) -> None:
        self.topic = topic
        self.consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                                         enable_auto_commit=False,
                                         isolation_level="read_committed")

    async def __aenter__(self) -> InputPosition:
        await self.consumer.start()
        parts = await self.consumer._client.fetch_all_metadata()
        self.tps = [TopicPartition(self.topic, p)
                    for p in sorted(parts.partitions_for_topic(self.topic) or ())]
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.consumer.stop()

    async def committed_and_end(self) -> tuple[int, int]:
        ends = await self.consumer.end_offsets(self.tps)
        committed = [await self.consumer.committed(tp) or 0 for tp in self.tps]
        return sum(committed), sum(ends.values())


# ---- producing the week --------------------------------------------------------------------

async def send_telemetry(bootstrap: str, suffix: str, batches: list[EngagementBatch],
                         at_ms: int) -> None:
    """Telemetry as the gateway writes it: one record per batch, keyed by consumer."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True,
                                acks="all")
    await producer.start()
    try:
        topic = with_suffix(registry.ENGAGEMENT_BATCHES, suffix).name
        for batch in batches:
            env = wrap(batch, event_id=batch.batch_id, source="gateway",
                       aggregate_id=batch.consumer_id, occurred_at_ms=at_ms)
            await producer.send(topic, encode(env), key=batch.consumer_id.encode())
        await producer.flush()
    finally:
        await producer.stop()


async def send_world(bootstrap: str, suffix: str, w: Week) -> int:
    """The users' standing, the posts and the interactions, as the exchange, social and
    content services write them (envelope and payload times fixed by the week, so both runs
    get the same records). Returns how many interaction facts they make (one per act)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True,
                                acks="all")
    await producer.start()
    sent = 0

    async def send(topic: registry.Topic, payload: Message, event_id: str, key: str) -> None:
        env = wrap(payload, event_id=event_id, source=topic.writer, aggregate_id=key,
                   occurred_at_ms=w.t0)
        await producer.send(with_suffix(topic, suffix).name, encode(env), key=key.encode())

    try:
        long_ago, start = w.week.start_ms - 30 * DAY_MS, w.week.start_ms
        for user in (*CREATORS, *CONSUMERS):
            if user not in UNVERIFIED:
                await send(registry.KYC, KycVerified(user_id=user, verified_at_ms=long_ago),
                           f"kyc-{user}", user)
        for n, consumer in enumerate(CONSUMERS):
            if n % 3:  # two in three traded in the 30 days before the week, some a lot
                value = 100 * (n + 1) ** 2
                fee = fees.TradeFeeCharged(
                    fee_id=f"fee-{consumer}", user_id=consumer,
                    fee=fees.Money(amount_minor=value, asset="USDT"),
                    quote_value=fees.Money(amount_minor=value, asset="USDT"),
                    charged_at_ms=start - 2 * DAY_MS)
                await send(registry.TRADE_FEES, fee, f"fee-{consumer}", consumer)
        for creator in CREATORS:
            await send(registry.SOCIAL_IDENTITIES, social.CreatorIdentityOpened(
                user_id=creator, handle=f"h{creator[-1]}", opened_at_ms=long_ago),
                f"open-{creator}", creator)
            for post in _posts(creator):
                await send(registry.POSTS, PostPublished(
                    post_id=post, creator_id=creator, kind=PostKind.POST_KIND_SHORT,
                    published_at_ms=start - 7 * DAY_MS), f"pub-{post}", post)
        await send(registry.SOCIAL_IDENTITIES, social.AccountSanctioned(
            user_id=SANCTIONED, sanction_id="s-1", reason="fraud", at_ms=start - DAY_MS),
            "sanction-1", SANCTIONED)
        rng = random.Random(5)
        for n, consumer in enumerate(CONSUMERS[:24]):
            creator = CREATORS[n % len(CREATORS)]
            post = _posts(creator)[n % 2]
            at = w.t0 + 1000 + n
            acts = [
                (registry.INTERACTIONS, ix.CommentPosted(
                    comment_id=f"cmt_{n}", post_id=post, post_author_id=creator,
                    author_id=consumer, text="x" * (10 + n), text_length=10 + n, at_ms=at),
                 f"comment-{n}", post),
                (registry.INTERACTIONS, ix.ItemLiked(item_id=post, item_author_id=creator,
                                                     user_id=consumer, at_ms=at + 1,
                                                     post_id=post), f"like-{n}", post),
            ]
            if rng.random() < 0.4:
                acts.append((registry.INTERACTIONS, ix.ItemShared(
                    share_id=f"shr_{n}", item_id=post, item_author_id=creator, user_id=consumer,
                    quote="q" * 12, at_ms=at + 2, post_id=post, quote_length=12),
                    f"share-{n}", post))
            if n % 4 == 0:
                acts.append((registry.SOCIAL_GRAPH, graph.Followed(
                    follower_id=consumer, followee_id=creator, at_ms=at + 3),
                    f"follow-{n}", consumer))
            for topic, payload, event_id, key in acts:
                await send(topic, payload, event_id, key)
                sent += 1
        await producer.flush()
    finally:
        await producer.stop()
    return sent


async def send_operation(bootstrap: str, topics: JobTopics, payload: PoolFunded
                         | WeekCloseRequested, event_id: str, week: str, at_ms: int) -> None:
    """An operator's funding or close request, as the incentive service's API writes it."""
    producer = make_producer(bootstrap, writer=INCENTIVE)
    await producer.start()
    try:
        await publish(producer, topics.pool.operations,
                      wrap(payload, event_id=event_id, source=INCENTIVE, aggregate_id=week,
                           occurred_at_ms=at_ms))
    finally:
        await producer.stop()


# ---- reading what the stack stored ----------------------------------------------------------

async def stored_views(bootstrap: str, topics: JobTopics) -> Stored:
    """Every committed view fact -> how many times it is stored. By row alone (event ids
    are unique in the generated week): which consumer a row belongs to is the record's layout
    (one consumer per record or a consumer column), and the settlements compare it."""
    out: Stored = Counter()
    for raw in await _values(bootstrap, topics.pool.view_facts):
        rows = decode(raw, FactRows).payload
        for row in iter_facts(rows):
            out[tuple(row)] += 1
    return out


async def intake_done(bootstrap: str, topics: JobTopics, interactions: int) -> bool:
    """The incentive service has written every interaction fact and every status the week's
    source events make (each status is rewritten whole: the latest is the folded state)."""
    facts = [decode(raw, FactRows).payload
             for raw in await _values(bootstrap, topics.pool.interaction_facts)]
    if sum(1 for rows in facts for _ in iter_facts(rows)) < interactions:
        return False
    users: dict[str, UserStatus] = {}
    for raw in await _values(bootstrap, topics.pool.user_status):
        status = decode(raw, UserStatus).payload
        users[status.user_id] = status
    items = {decode(raw, ItemStatus).payload.item_id
             for raw in await _values(bootstrap, topics.pool.item_status)}

    def user_done(user: str) -> bool:
        s = users.get(user)
        if s is None or bool(s.kyc_verified_at_ms) == (user in UNVERIFIED):
            return False
        if user in CREATORS and not s.identity_open:
            return False
        if user == SANCTIONED and not s.sanctioned:
            return False
        n = CONSUMERS.index(user) if user in CONSUMERS else 0
        return not (user in CONSUMERS and n % 3 and not s.fees)

    wanted_users = [u for u in (*CREATORS, *CONSUMERS)
                    if u not in UNVERIFIED or u in CREATORS]
    return all(user_done(u) for u in wanted_users) and \
        {p for c in CREATORS for p in _posts(c)} <= items


async def _values(bootstrap: str, topic: str) -> list[bytes]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                isolation_level="read_committed")
    await consumer.start()
    try:
        meta = await consumer._client.fetch_all_metadata()
        partitions = sorted(meta.partitions_for_topic(topic) or ())
    finally:
        await consumer.stop()
    return [r.value async for r in read_committed(bootstrap, topic, partitions)
            if r.value is not None]


# ---- one run -------------------------------------------------------------------------------

@dataclass
class Outcome:
    settled: WeekSettled
    results: list[CreatorWeekResult]
    views: Stored
    # Aggregator kills that found telemetry not yet committed.
    kills_with_input_left: int = 0


async def run_week(bootstrap: str, suffix: str, workdir: Path, w: Week,
                   disturb: bool) -> Outcome:
    workdir.mkdir()
    topics = await asyncio.to_thread(make_topics, bootstrap, suffix)  # it runs its own loop
    week = str(w.week)
    reader = Reader(bootstrap, topics)
    intake = _processor_harness().ProcessorProcess(bootstrap, suffix, workdir)
    job = JobProcess(bootstrap, suffix, workdir, early_close_policies="1")
    aggregator = Aggregator(bootstrap, suffix, workdir)
    outcome_kills = 0
    one, two, three = w.chunks()

    async def kill_aggregator_mid_input(position: InputPosition, before: int) -> None:
        """SIGKILL once it has committed past ``before``; count it when input was left."""
        nonlocal outcome_kills
        committed, end = await poll_until(
            position.committed_and_end, lambda ce: ce[0] > before, 90,
            f"the aggregator never committed\n{aggregator.log_tail()}")
        aggregator.kill9()
        outcome_kills += committed < end
        aggregator.start()

    try:
        intake.start()
        job.start()
        interactions = await send_world(bootstrap, suffix, w)
        await send_operation(bootstrap, topics, PoolFunded(
            funding_id=f"fund-{week}", week=week, amount_minor=POOL, asset="USDT",
            operator_id="olga", at_ms=w.t0), f"fund-{week}", week, w.t0)

        # Part one is waiting when the aggregator starts: it has a backlog to be killed in.
        await send_telemetry(bootstrap, suffix, one, w.t0)
        aggregator.start()
        batches_topic = with_suffix(registry.ENGAGEMENT_BATCHES, suffix).name
        async with InputPosition(bootstrap, aggregator.group, batches_topic) as position:
            if disturb:
                await kill_aggregator_mid_input(position, 0)
            await send_telemetry(bootstrap, suffix, two, w.t0)
            if disturb:
                # The scoring job, killed during the week's traffic (after it settled the
                # previous week and estimated this one), comes back armed to crash inside
                # this week's settlement.
                await poll_until(lambda: reader.settled(previous_week(week)),
                                 lambda s: len(s) == 1, 90,
                                 f"previous week never settled\n{job.log_tail()}")
                await poll_until(reader.estimates, lambda es: any(e.week == week for e in es),
                                 90, f"no estimate\n{job.log_tail()}")
                job.kill9()
                job.start(fault_injection="mid_settlement")
            before_three, _ = await position.committed_and_end()
            await send_telemetry(bootstrap, suffix, three, w.t0)
            if disturb:
                await kill_aggregator_mid_input(position, before_three)
            await poll_until(position.committed_and_end, lambda ce: ce[0] == ce[1], 120,
                             f"the aggregator never caught up\n{aggregator.log_tail()}")
        await poll_until(lambda: intake_done(bootstrap, topics, interactions), bool, 120,
                         f"the incentive service never wrote the week\n{intake.log_tail()}")

        # Every fact is stored: the operator closes the week (its policy allows it).
        await send_operation(bootstrap, topics, WeekCloseRequested(
            week=week, operator_id="olga", reason="kill test", at_ms=w.t0,
            request_id="close-1"), "close-1", week, w.t0)
        if disturb:
            assert await asyncio.to_thread(job.wait_exit) == 137, job.log_tail()
            # Closed once; nothing of the open settlement transaction is visible.
            assert len(await reader.closed(week)) == 1
            assert await reader.settled(week) == []
            assert await reader.creator_weeks(week) == []
            job.start()
        [settled] = await poll_until(lambda: reader.settled(week), lambda s: len(s) == 1, 120,
                                     f"never settled\n{job.log_tail()}")
        assert [c.cause for c in await reader.closed(week)] == ["early:close-1"]
        results = await reader.creator_weeks(week)
        return Outcome(settled, results, await stored_views(bootstrap, topics), outcome_kills)
    finally:
        aggregator.stop()
        job.stop()
        intake.stop()


def test_a_week_killed_mid_traffic_and_mid_settlement_settles_byte_identical(
        kafka_bootstrap: str, topic_suffix: str, tmp_path: Path) -> None:
    w = Week.generate(seed=14)
    calm = asyncio.run(run_week(kafka_bootstrap, f"{topic_suffix}c", tmp_path / "calm", w,
                                disturb=False))
    killed = asyncio.run(run_week(kafka_bootstrap, f"{topic_suffix}k", tmp_path / "killed", w,
                                  disturb=True))
    assert killed.kills_with_input_left >= 1, "the aggregator was killed only when idle"

    # Every distinct view of the telemetry stored exactly once, in both runs, as the same rows.
    for run in (calm, killed):
        assert max(run.views.values()) == 1
        assert {row[0] for row in run.views} == w.views
    assert killed.views == calm.views

    # The settlement: the same message but for the wall-clock time it was written.
    for run in (calm, killed):
        run.settled.ClearField("settled_at_ms")
    assert killed.settled.SerializeToString(deterministic=True) == \
        calm.settled.SerializeToString(deterministic=True)
    s = calm.settled
    assert s.pool_minor == POOL and s.facts_late == 0
    assert s.payable_minor + s.held_minor + s.rollover_out_minor + s.unallocated_minor == \
        POOL + s.rollover_in_minor
    assert s.held_minor > 0 and s.payable_minor > 0

    # Every creator's result, byte for byte (no field of it is a time or a run's id).
    def serialized(run: Outcome) -> list[bytes]:
        return sorted(r.SerializeToString(deterministic=True) for r in run.results)
    assert serialized(killed) == serialized(calm)
    by_creator = {r.creator_id: r for r in killed.results}
    assert sorted(by_creator) == sorted(CREATORS)
    assert by_creator[SANCTIONED].status == "held"
    assert all(r.merkle_root == s.merkle_root for r in killed.results)
