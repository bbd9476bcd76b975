"""The topic registry: every topic's name, key, payload type and its single writer.

One writer per topic (as in confluentinc/kafka-streams-examples): a topic is an
output of exactly one service, and no consumer writes back into its own source.
Faust's own changelog topics (``<app id>-<table>-changelog``) are internal to the
scoring processor and are not listed here.
"""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf.message import Message

from planet.analytics.v1.audit_pb2 import QueryAccepted, QueryFinished
from planet.content.v1.events_pb2 import PostPublished
from planet.engagement.v1.telemetry_pb2 import EngagementBatch
from planet.events.v1.envelope_pb2 import DeadLetter
from planet.exchange.v1.events_pb2 import KycVerified, OrderFilled, TradeFeeCharged
from planet.incentive.v1.engagement_pb2 import DedupCheckpoint, EngagementDeltas


@dataclass(frozen=True)
class Topic:
    """A registered topic."""

    name: str
    key: str
    payloads: tuple[type[Message], ...]
    writer: str
    partitions: int = 4
    compacted: bool = False
    # -1 keeps records forever: the log is the source of truth for replay.
    retention_ms: int = -1
    enveloped: bool = True


POSTS = Topic("planet.content.posts.v1", "post id", (PostPublished,), "content")
ENGAGEMENT_BATCHES = Topic(
    "planet.engagement.batches.v1", "consumer id", (EngagementBatch,), "gateway"
)
KYC = Topic("planet.exchange.kyc.v1", "user id", (KycVerified,), "exchange")
TRADE_FEES = Topic("planet.exchange.trade-fees.v1", "user id", (TradeFeeCharged,), "exchange")
FILLS = Topic("planet.exchange.fills.v1", "user id", (OrderFilled,), "exchange")
ENGAGEMENT_DELTAS = Topic(
    "planet.incentive.engagement-deltas.v1",
    "deltas-topic partition (creators hashed)",
    (EngagementDeltas,),
    "engagement-aggregator",
)
# Retired by ENGAGEMENT_DEDUP_SNAPSHOT (never compacted: a restart replayed all of it);
# kept registered so its history stays readable.
ENGAGEMENT_DEDUP = Topic(
    "planet.incentive.engagement-dedup.v1",
    "input partition",
    (DedupCheckpoint,),
    "engagement-aggregator",
)
# The aggregator's dedup memory as a compacted snapshot: per input partition, a full
# generation of ids then its tail, one ISO week per key, old weeks and generations
# tombstoned. Restore starts where the committed input offset's metadata says.
ENGAGEMENT_DEDUP_SNAPSHOT = Topic(
    "planet.incentive.engagement-dedup.v2",
    "input partition/generation/kind/week/n (p3/g7/snap/2026-W48/0)",
    (DedupCheckpoint,),
    "engagement-aggregator",
    compacted=True,
)
DLQ_AGGREGATOR = Topic(
    "planet.dlq.engagement-aggregator.v1",
    "source topic",
    (DeadLetter,),
    "engagement-aggregator",
    enveloped=False,
)
DLQ_SCORING = Topic(
    "planet.dlq.scoring-processor.v1",
    "source topic",
    (DeadLetter,),
    "scoring-processor",
    enveloped=False,
)
DLQ_ANALYTICS = Topic(
    "planet.dlq.analytics-sink.v1",
    "source topic",
    (DeadLetter,),
    "analytics-sink",
    enveloped=False,
)
# Who queried the analytics store what (written before a query runs, and when it ends). The
# sink never reads it: planetkit.classification marks it NotSunk.
ANALYTICS_QUERY_AUDIT = Topic(
    "planet.audit.analytics-queries.v1",
    "user id",
    (QueryAccepted, QueryFinished),
    "analytics",
)

ALL: tuple[Topic, ...] = (
    POSTS,
    ENGAGEMENT_BATCHES,
    KYC,
    TRADE_FEES,
    FILLS,
    ENGAGEMENT_DELTAS,
    ENGAGEMENT_DEDUP,
    ENGAGEMENT_DEDUP_SNAPSHOT,
    DLQ_AGGREGATOR,
    DLQ_SCORING,
    DLQ_ANALYTICS,
    ANALYTICS_QUERY_AUDIT,
)


def with_suffix(topic: Topic, suffix: str) -> Topic:
    """The same topic under a suffixed name, so each test gets topics of its own."""
    return Topic(
        name=f"{topic.name}.{suffix}" if suffix else topic.name,
        key=topic.key,
        payloads=topic.payloads,
        writer=topic.writer,
        partitions=topic.partitions,
        compacted=topic.compacted,
        retention_ms=topic.retention_ms,
        enveloped=topic.enveloped,
    )
