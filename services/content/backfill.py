"""Index the posts published before the author index existed (a one-off operator step).

Since the author index, every post is appended to the posts topic and to its author's
partition of planet.content.author-posts.v1 in one transaction. Posts appended before that
are only in the posts topic: this command appends, for each of them, the same record keyed by
its author, so the replicas' tails index them like any other.

    python -m services.content.backfill [--dry-run]

Safe with replicas running and safe to repeat: it first reads where both topics end (the
posts topic first), so every post appended through the transactional path before that point
is already in the author-posts topic read next, and only posts missing from it are appended.
A post appended twice (two concurrent runs) is indexed once: the index keeps the first
record of a post id. Memory: the set of indexed post ids (about 100 bytes a post).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition

from planet.content.v1.events_pb2 import PostPublished
from planetkit.envelope import UndecodableEvent, decode
from planetkit.kafka.admin import require_topics, wait_for_broker
from planetkit.kafka.partitioning import partition_for
from planetkit.kafka.producer import make_producer
from planetkit.service_identities import CONTENT
from planetkit.settings import KafkaSettings, TopicSettings
from planetkit.topics import AUTHOR_POSTS, POSTS, Topic, with_suffix

log = logging.getLogger(__name__)
Visit = Callable[[bytes], None]


@dataclass(frozen=True)
class Backfilled:
    """What a run found and did."""

    posts: int
    already_indexed: int
    appended: int


async def _read(consumer: AIOKafkaConsumer, topic: Topic, ends: dict[TopicPartition, int],
                visit: Visit) -> None:
    """Every committed record of ``topic`` below ``ends``, to ``visit``."""
    tps = [tp for tp in ends if tp.topic == topic.name]
    consumer.assign(tps)
    await consumer.seek_to_beginning(*tps)
    while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
        fetched = await consumer.getmany(timeout_ms=500, max_records=10_000)
        for tp, records in fetched.items():
            for record in records:
                if record.offset < ends[tp] and record.value is not None:
                    visit(record.value)


async def backfill(bootstrap: str, suffix: str = "", *, dry_run: bool = False) -> Backfilled:
    """Append to the author-posts topic every post of the posts topic it lacks."""
    posts_topic = with_suffix(POSTS, suffix)
    index_topic = with_suffix(AUTHOR_POSTS, suffix)
    await wait_for_broker(bootstrap)
    await require_topics(bootstrap, [posts_topic, index_topic])
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, isolation_level="read_committed",
                                enable_auto_commit=False)
    await consumer.start()
    indexed: set[str] = set()
    missing: dict[str, tuple[str, bytes]] = {}  # post id -> (author, record value)
    seen: set[str] = set()
    try:
        # The posts topic's ends first: a post committed before them has its author-posts
        # copy committed in the same transaction, so it is below the index ends read after.
        post_tps = [TopicPartition(posts_topic.name, p) for p in range(posts_topic.partitions)]
        post_ends = await consumer.end_offsets(post_tps)
        index_tps = [TopicPartition(index_topic.name, p) for p in range(index_topic.partitions)]
        index_ends = await consumer.end_offsets(index_tps)

        def index_record(value: bytes) -> None:
            post = _post(value)
            if post is not None:
                indexed.add(post.post_id)

        def post_record(value: bytes) -> None:
            post = _post(value)
            if post is None or post.post_id in seen:
                return  # the first record of a post id is the post
            seen.add(post.post_id)
            if post.post_id not in indexed:
                missing[post.post_id] = (post.creator_id, value)

        await _read(consumer, index_topic, index_ends, index_record)
        await _read(consumer, posts_topic, post_ends, post_record)
    finally:
        await consumer.stop()
    if missing and not dry_run:
        await _append(bootstrap, index_topic, list(missing.values()))
    result = Backfilled(len(seen), len(seen) - len(missing), 0 if dry_run else len(missing))
    log.info("author index backfill", extra={
        "posts": result.posts, "already_indexed": result.already_indexed,
        "appended": result.appended, "dry_run": dry_run})
    return result


def _post(value: bytes) -> PostPublished | None:
    try:
        return decode(value, PostPublished).payload
    except UndecodableEvent:
        return None  # the replicas log these; nothing to index


async def _append(bootstrap: str, topic: Topic, records: list[tuple[str, bytes]]) -> None:
    producer = make_producer(bootstrap, writer=CONTENT, linger_ms=20)
    await producer.start()
    try:
        pending: list[Awaitable[object]] = []
        for author, value in records:
            pending.append(await producer.send(
                topic.name, value, key=author.encode(),
                partition=partition_for(author, topic.partitions)))
            if len(pending) >= 10_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


def main() -> int:
    """Run once and print what was done."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true",
                        help="count the posts that lack an index record; append nothing")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    result = asyncio.run(backfill(KafkaSettings().bootstrap_servers,
                                  TopicSettings().topic_suffix, dry_run=args.dry_run))
    print(f"{result.posts} posts, {result.already_indexed} already indexed, "
          f"{result.appended} appended" + (" (dry run)" if args.dry_run else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
