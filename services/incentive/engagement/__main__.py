"""Entry point: ``python -m services.incentive.engagement``."""

from __future__ import annotations

import asyncio
import logging
import signal

from planetkit.kafka.admin import ensure_topics, wait_for_broker
from planetkit.settings import KafkaSettings, TopicSettings, load_settings
from planetkit.topics import (
    DLQ_AGGREGATOR,
    ENGAGEMENT_BATCHES,
    ENGAGEMENT_DEDUP,
    ENGAGEMENT_DELTAS,
    with_suffix,
)

from .loop import AggregatorTopics, EngagementAggregator
from .restore import restore_memories
from .settings import AggregatorSettings


async def main() -> None:
    """Wire settings, topics, restored memory and the loop; run until SIGTERM/SIGINT."""
    kafka = load_settings(KafkaSettings)
    names = load_settings(TopicSettings)
    settings = load_settings(AggregatorSettings)
    topics = AggregatorTopics(
        batches=with_suffix(ENGAGEMENT_BATCHES, names.topic_suffix),
        deltas=with_suffix(ENGAGEMENT_DELTAS, names.topic_suffix),
        dedup=with_suffix(ENGAGEMENT_DEDUP, names.topic_suffix),
        dead_letters=with_suffix(DLQ_AGGREGATOR, names.topic_suffix),
    )
    if topics.dedup.partitions != topics.batches.partitions:
        raise SystemExit("aggregator: dedup topic must have as many partitions as batches")
    await wait_for_broker(kafka.bootstrap_servers)
    await ensure_topics(
        kafka.bootstrap_servers, [topics.batches, topics.deltas, topics.dedup, topics.dead_letters]
    )
    partitions = settings.owned_partitions(topics.batches.partitions)
    memories = await restore_memories(
        kafka.bootstrap_servers, topics.dedup.name, partitions, settings.dedup_horizon_weeks
    )
    logging.info(
        "aggregator: restored %d event ids for partitions %s",
        sum(len(m) for m in memories.values()),
        partitions,
    )
    aggregator = EngagementAggregator(
        kafka.bootstrap_servers,
        topics,
        partitions,
        memories,
        group_id=f"{settings.group_id}{'-' + names.topic_suffix if names.topic_suffix else ''}",
        max_records=settings.max_records,
        fetch_timeout_ms=settings.fetch_timeout_ms,
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, aggregator.stop)
    logging.info("aggregator: consuming %s partitions %s", topics.batches.name, partitions)
    await aggregator.run()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(main())
