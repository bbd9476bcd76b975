"""Produce the intake's source events as their owning services do; read what it wrote."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from google.protobuf.message import Message

from planet.events.v1.envelope_pb2 import DeadLetter
from planetkit import topics as registry
from planetkit.envelope import decode, encode, wrap
from planetkit.topics import with_suffix

M = TypeVar("M", bound=Message)


class SourceEvents:
    """Enveloped events onto one test's source topics, each under its topic's key."""

    def __init__(self, producer: AIOKafkaProducer, suffix: str) -> None:
        self.producer = producer
        self.suffix = suffix
        self.now = int(time.time() * 1000)

    def topic(self, t: registry.Topic) -> str:
        return with_suffix(t, self.suffix).name

    async def send(self, t: registry.Topic, payload: Message, event_id: str, key: str) -> None:
        env = wrap(payload, event_id=event_id, source=t.writer, aggregate_id=key,
                   occurred_at_ms=self.now)
        await self.producer.send_and_wait(self.topic(t), encode(env), key=key.encode())

    async def garbage(self, t: registry.Topic, key: str) -> None:
        await self.producer.send_and_wait(self.topic(t), b"\xff\xfenot an envelope",
                                          key=key.encode())


class TopicReader:
    """Reads one topic from the start, committed records only, until a condition holds."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
            isolation_level="read_committed", enable_auto_commit=False,
        )
        self.values: list[bytes] = []

    async def until(self, done: Callable[[list[bytes]], bool], timeout_s: float,
                    what: str, log: Callable[[], str] = lambda: "") -> list[bytes]:
        await self.consumer.start()
        try:
            deadline = time.monotonic() + timeout_s
            while not done(self.values):
                if time.monotonic() > deadline:
                    pytest.fail(f"{what}: {len(self.values)} records\n{log()}")
                batch = await self.consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    self.values.extend(r.value for r in records if r.value is not None)
        finally:
            await self.consumer.stop()
        return self.values


def payloads(values: list[bytes], cls: type[M]) -> list[M]:
    """The payloads of enveloped records."""
    return [decode(v, cls).payload for v in values]


def latest(values: list[bytes], cls: type[M], key: Callable[[M], str]) -> dict[str, M]:
    """The last value per key (what compaction keeps)."""
    out: dict[str, M] = {}
    for p in payloads(values, cls):
        out[key(p)] = p
    return out


def letters(values: list[bytes]) -> list[DeadLetter]:
    return [DeadLetter.FromString(v) for v in values]
