"""Composition root: the ONLY place that builds the aggregator's clients, clock and stores."""

from __future__ import annotations

import time

from aiokafka import AIOKafkaConsumer

from planetkit.clock import now_ms
from planetkit.kafka.admin import TopicContractError, require_topics, wait_for_broker
from planetkit.kafka.producer import MAX_REQUEST_BYTES, make_producer
from planetkit.service_identities import ENGAGEMENT_AGGREGATOR
from planetkit.topics import (
    DLQ_AGGREGATOR,
    ENGAGEMENT_BATCHES,
    ENGAGEMENT_DEDUP,
    ENGAGEMENT_DEDUP_SNAPSHOT,
    VIEW_FACTS,
    Topic,
    with_suffix,
)
from services.incentive.engagement.adapters.kafka_input import InputLog
from services.incentive.engagement.adapters.kafka_output import TransactionalOutput
from services.incentive.engagement.adapters.snapshot_store import SnapshotStore
from services.incentive.engagement.domain.records import OutputTopics
from services.incentive.engagement.handlers import EngagementAggregator, LoopConfig
from services.incentive.engagement.settings import AggregatorSettings

NAME = ENGAGEMENT_AGGREGATOR


def topics_of(settings: AggregatorSettings) -> list[Topic]:
    """Batches, view facts, dedup snapshot and dead letters, suffixed for this deployment."""
    suffix = settings.topics.topic_suffix
    return [
        with_suffix(t, suffix)
        for t in (ENGAGEMENT_BATCHES, VIEW_FACTS, ENGAGEMENT_DEDUP_SNAPSHOT, DLQ_AGGREGATOR)
    ]


async def build(settings: AggregatorSettings) -> EngagementAggregator:
    """Check the topics against the registry, then wire the loop (nothing started yet)."""
    bootstrap = settings.kafka.bootstrap_servers
    batches, facts, dedup, dead_letters = topics_of(settings)
    if facts.partitions != batches.partitions:
        # Facts of input partition p go to partition p: the counts are one contract.
        raise SystemExit(
            f"{NAME}: {facts.name} has {facts.partitions} partitions, {batches.name} "
            f"{batches.partitions}; they must be equal"
        )
    await wait_for_broker(bootstrap)
    # Created by the topics tool, never here. Placement (and so dedup) assumes the
    # registered partition count: a topic changed in place would hash consumers elsewhere,
    # so refuse to start rather than count twice (a new count is a new topic version).
    try:
        await require_topics(bootstrap, [batches, facts, dedup, dead_letters])
    except TopicContractError as exc:
        raise SystemExit(f"{NAME}: {exc}") from None
    partitions = settings.owned_partitions(batches.partitions)
    group = settings.group()
    owned = "-".join(str(p) for p in partitions)
    # One transactional id per owned partition set: a restarted instance fences its
    # predecessor (zombie) and aborts its open transaction.
    producer = make_producer(
        bootstrap,
        writer=ENGAGEMENT_AGGREGATOR,
        transactional_id=f"{group}-{batches.name}-{owned}",
        linger_ms=0,
    )
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_partition_fetch_bytes=MAX_REQUEST_BYTES,
        fetch_max_bytes=32 * 1024 * 1024,
    )
    return EngagementAggregator(
        LoopConfig(
            group_id=group,
            partitions=partitions,
            input_partitions=batches.partitions,
            max_records=settings.max_records,
            fetch_timeout_ms=settings.fetch_timeout_ms,
            snapshot_min_tail_ids=settings.snapshot_min_tail_ids,
        ),
        OutputTopics(facts.name, dedup.name, dead_letters.name),
        InputLog(consumer, batches.name, partitions),
        TransactionalOutput(producer, group),
        SnapshotStore(
            bootstrap,
            group,
            batches.name,
            dedup.name,
            settings.dedup_horizon_weeks,
            v1_topic=with_suffix(ENGAGEMENT_DEDUP, settings.topics.topic_suffix).name,
        ),
        now_ms=now_ms,
        timer=time.perf_counter,
    )
