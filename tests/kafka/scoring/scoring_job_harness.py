"""The scoring job as a real subprocess, and a week of facts produced straight to its topics."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import grpc
import pytest
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc

from planet.exchange.v2.payouts_pb2 import PayoutConfirmed, PayoutInstructed, PayoutRefused
from planet.incentive.v1.facts_pb2 import ItemStatus, Period, UserStatus
from planet.incentive.v1.weekly_pool_pb2 import (
    CreatorEstimate,
    CreatorWeekResult,
    FactsLate,
    HeldDecided,
    PayoutStateChanged,
    PoolFunded,
    WeekClosed,
    WeekSettled,
)
from planetkit.envelope import decode, wrap
from planetkit.fact_rows import COMMENT, VIEW, FactRow, build_facts
from planetkit.kafka.producer import make_producer, publish
from planetkit.kafka.replay import read_committed
from planetkit.kafka.topics_tool import create
from planetkit.service_identities import ENGAGEMENT_AGGREGATOR, EXCHANGE, INCENTIVE
from planetkit.topics import DEV
from services.incentive.domain.facts import IsoWeek
from services.incentive.scoring.job import JobTopics
from services.incentive.scoring.pool_book import previous_week

REPO = Path(__file__).resolve().parents[3]
ASSET = "USDT"
DAY_MS = 86_400_000
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_topics(bootstrap: str, suffix: str) -> JobTopics:
    """Every registered topic under ``suffix`` (as `make topics` makes them)."""
    asyncio.run(create(bootstrap, suffix, DEV))
    return JobTopics.named(suffix)


class JobProcess:
    """Starts, kills and restarts `python -m services.incentive.scoring`."""

    def __init__(self, bootstrap: str, suffix: str, workdir: Path, **settings: str) -> None:
        self.health_port = free_port()
        self.log_path = workdir / f"scoring-{suffix}.log"
        self.env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "PLANET_TOPIC_SUFFIX": suffix,
            "PLANET_SCORING_HEALTH_PORT": str(self.health_port),
            "PLANET_SCORING_GRACE_S": "1",
            "PLANET_SCORING_TICK_S": "0.2",
            "PLANET_SCORING_ESTIMATE_INTERVAL_S": "1",
            "PLANET_SCORING_LOG_LEVEL": "info",
            **{f"PLANET_SCORING_{k.upper()}": v for k, v in settings.items()},
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, **settings: str) -> None:
        env = {**self.env, **{f"PLANET_SCORING_{k.upper()}": v for k, v in settings.items()}}
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "services.incentive.scoring"],
                                         cwd=REPO, env=env, stdout=log,
                                         stderr=subprocess.STDOUT)

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill9()
        return self.proc.returncode

    def wait_exit(self, timeout_s: float = 120) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout_s)

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    async def wait_serving(self, timeout_s: float = 90) -> None:
        """Until grpc.health.v1 says SERVING for the whole process ("")."""
        async with grpc.aio.insecure_channel(f"127.0.0.1:{self.health_port}") as channel:
            stub = health_pb2_grpc.HealthStub(channel)

            async def probe() -> bool:
                assert self.proc is not None and self.proc.poll() is None, self.log_tail()
                try:
                    r = await stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                except grpc.aio.AioRpcError:
                    return False
                return bool(r.status == health_pb2.HealthCheckResponse.SERVING)

            await poll_until(probe, lambda ok: ok, timeout_s, f"never SERVING\n{self.log_tail()}")


async def poll_until(fetch: Callable[[], Awaitable[T]], done: Callable[[T], bool],
                     timeout_s: float, what: str) -> T:
    """Call ``fetch`` until ``done`` holds; fail with the last value after the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = await fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what}; last value: {value!r}")
        await asyncio.sleep(0.3)


async def read_all(bootstrap: str, topic: str, *types: type[Message]) -> list[Any]:
    """Every committed payload of ``topic`` (all partitions), in partition then offset order."""
    from aiokafka import AIOKafkaConsumer

    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await probe.start()
    try:
        meta = await probe._client.fetch_all_metadata()
        partitions = sorted(meta.partitions_for_topic(topic) or ())
    finally:
        await probe.stop()
    out = []
    async for record in read_committed(bootstrap, topic, partitions):
        if record.value is not None:
            out.append(decode(record.value, *types).payload)
    return out


@dataclass(frozen=True)
class Cast:
    """Who is in the test's week."""

    creators: tuple[str, ...] = ("cre-ana", "cre-bo", "cre-cy")
    sanctioned: str = "cre-cy"
    consumers: tuple[str, ...] = ("con-1", "con-2", "con-3", "con-4")


class Feeder:
    """Produces facts, statuses, operations and exchange answers as their writers do."""

    def __init__(self, bootstrap: str, topics: JobTopics) -> None:
        self.bootstrap = bootstrap
        self.topics = topics
        self._n = 0

    async def _send(self, writer: str, topic: str, payload: Message, key: str) -> None:
        producer = make_producer(self.bootstrap, writer=writer)
        await producer.start()
        try:
            self._n += 1
            await publish(producer, topic, wrap(payload, event_id=f"{topic}:{key}:{self._n}",
                                                source=writer, aggregate_id=key,
                                                occurred_at_ms=int(time.time() * 1000)))
        finally:
            await producer.stop()

    async def statuses(self, cast: Cast, week: IsoWeek) -> None:
        """Every user KYC-verified with an open identity; one creator sanctioned all week."""
        since = week.start_ms - 30 * DAY_MS
        for user in (*cast.creators, *cast.consumers):
            status = UserStatus(user_id=user, kyc_verified_at_ms=since,
                                identity_open=[Period(from_ms=since)], updated_at_ms=since)
            if user == cast.sanctioned:
                status.sanctioned.append(Period(from_ms=since))
            await self._send(INCENTIVE, self.topics.pool.user_status, status, user)
        for creator in cast.creators:
            for n in (1, 2):
                item = f"post-{creator}-{n}"
                await self._send(INCENTIVE, self.topics.pool.item_status,
                                 ItemStatus(item_id=item, creator_id=creator, item_kind="post",
                                            published_at_ms=since), item)

    async def fund(self, week: str, amount_minor: int, funding_id: str) -> None:
        await self._send(INCENTIVE, self.topics.pool.operations,
                         PoolFunded(funding_id=funding_id, week=week, amount_minor=amount_minor,
                                    asset=ASSET, operator_id="olga", at_ms=1), week)

    async def views(self, consumer: str, rows: Sequence[tuple[str, str, int, int]],
                    rows_id: str) -> None:
        """View facts of one consumer: (event id, creator, at ms, dwell seconds), on the
        creator's first post."""
        facts = build_facts(rows_id, consumer, [
            FactRow(event_id=e, item_id=f"post-{c}-1", creator_id=c, occurred_at_ms=at,
                    kind=VIEW, dwell_seconds=dwell) for e, c, at, dwell in rows])
        await self._send(ENGAGEMENT_AGGREGATOR, self.topics.pool.view_facts, facts, consumer)

    async def comment(self, consumer: str, creator: str, at_ms: int, event_id: str) -> None:
        facts = build_facts(f"i:{event_id}", consumer, [
            FactRow(event_id=event_id, item_id=f"post-{creator}-2", creator_id=creator,
                    occurred_at_ms=at_ms, kind=COMMENT, text_length=42)])
        await self._send(INCENTIVE, self.topics.pool.interaction_facts, facts, consumer)

    async def week_of_engagement(self, cast: Cast, week: IsoWeek, tag: str = "") -> None:
        """A small deterministic week: each consumer views and comments several creators."""
        base = week.start_ms + DAY_MS
        for i, consumer in enumerate(cast.consumers):
            rows = [(f"v{tag}-{consumer}-{c}", c, base + 3_600_000 * j, 30 + 17 * i + 11 * j)
                    for j, c in enumerate(cast.creators[: 1 + i % 3])]
            await self.views(consumer, rows, f"rows{tag}-{consumer}")
            await self.comment(consumer, cast.creators[i % 3], base + 60_000 * i,
                               f"c{tag}-{consumer}")

    async def answer(self, message: PayoutConfirmed | PayoutRefused) -> None:
        await self._send(EXCHANGE, self.topics.payouts, message, message.creator_id)

    async def decide(self, decision: HeldDecided) -> None:
        await self._send(INCENTIVE, self.topics.pool.operations, decision, decision.week)


class Reader:
    """What the job wrote, read back with read_committed."""

    def __init__(self, bootstrap: str, topics: JobTopics) -> None:
        self.bootstrap = bootstrap
        self.topics = topics

    async def weeks(self) -> list[Any]:
        return await read_all(self.bootstrap, self.topics.pool.weeks, WeekClosed, WeekSettled,
                              FactsLate)

    async def settled(self, week: str) -> list[WeekSettled]:
        return [m for m in await self.weeks() if isinstance(m, WeekSettled) and m.week == week]

    async def closed(self, week: str) -> list[WeekClosed]:
        return [m for m in await self.weeks() if isinstance(m, WeekClosed) and m.week == week]

    async def late(self, week: str) -> list[FactsLate]:
        return [m for m in await self.weeks() if isinstance(m, FactsLate) and m.week == week]

    async def creator_weeks(self, week: str) -> list[CreatorWeekResult]:
        return [m for m in await read_all(self.bootstrap, self.topics.pool.creator_weeks,
                                          CreatorWeekResult) if m.week == week]

    async def states(self) -> list[PayoutStateChanged]:
        return await read_all(self.bootstrap, self.topics.payout_states, PayoutStateChanged)

    async def instructions(self) -> list[PayoutInstructed]:
        return await read_all(self.bootstrap, self.topics.payout_instructions,
                              PayoutInstructed)

    async def estimates(self) -> list[CreatorEstimate]:
        return await read_all(self.bootstrap, self.topics.estimates, CreatorEstimate)


def last_week() -> IsoWeek:
    """The week before now: with a grace of seconds it closes as soon as a job starts."""
    return IsoWeek.parse(previous_week(str(IsoWeek.containing(int(time.time() * 1000)))))


def this_week() -> IsoWeek:
    return IsoWeek.containing(int(time.time() * 1000))
