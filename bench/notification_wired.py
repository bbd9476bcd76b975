"""The wired fan-out: one post by a creator with 1 M bell subscribers, through the service.

    python bench/notification_wired.py                        # 1 000 000 subscribers
    python bench/notification_wired.py --subscribers 100000   # quicker

What ``bench/notification_fanout.py`` measures is the store alone; this runs the real path:
the social service (in a fresh process, real Kafka, real RocksDB, real gRPC) reads the
``PostPublished`` from the posts topic in its loop, and ``PostNotificationsTail`` fans it
out 50 000 subscribers at a time: each batch planned from the store, appended to
``planet.social.notifications.v1`` in one Kafka transaction, then stored with the fan-out's
progress. The clock starts when the post is on the posts topic and stops when the last
subscriber (in key order, so the last one the fan-out reaches) has it, as read over gRPC
ListNotifications; it then sums the notifications topic's end offsets (one record per
subscriber plus a commit marker per transaction) and prints the process's peak RSS and the
latencies of those ListNotifications polls (the gRPC server must not stall meanwhile).
Setup (timed apart): the subscribers' follows and bells written straight into the graph
store in write batches. The topics are made under a fresh suffix and deleted at the end.
Goals from issue 12: under 60 s, no process over 2 GiB.
Numbers are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import grpc
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from planet.content.v1.events_pb2 import PostPublished
from planet.social.v1 import social_service_pb2 as rpc
from planet.social.v1 import social_service_pb2_grpc as rpc_grpc
from planet.social.v1.graph_pb2 import BellSet, Followed
from planetkit.envelope import wrap
from planetkit.kafka.admin import ensure_topics
from planetkit.kafka.partitioning import partition_for
from planetkit.kafka.producer import make_producer
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_identities import CONTENT, SOCIAL
from planetkit.settings import KafkaSettings, TopicSettings
from planetkit.topics import (
    FILLS,
    KYC,
    POSTS,
    SOCIAL_BLOCKS,
    SOCIAL_GRAPH,
    SOCIAL_HANDLES,
    SOCIAL_IDENTITIES,
    SOCIAL_NOTIFICATIONS,
    with_suffix,
)
from services.social.adapters.graph_store import GraphStore
from services.social.bootstrap import start
from services.social.domain.graph.apply import Side
from services.social.settings import SocialSettings

CREATOR = "creator-bench"
POST = "post_" + "cd" * 12
AT = 1_767_225_600_000
TOPICS = (SOCIAL_IDENTITIES, SOCIAL_HANDLES, KYC, SOCIAL_GRAPH, SOCIAL_BLOCKS, FILLS, POSTS,
          SOCIAL_NOTIFICATIONS)


def rss_mib() -> float:
    """Peak RSS of this process in MiB (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def subscriber(i: int) -> str:
    return f"user-{i:08d}"


def setup(root: Path, n: int, batch: int) -> None:
    graph = GraphStore(root / "graph")
    t0 = time.perf_counter()
    for lo in range(0, n, batch):
        ids = [subscriber(i) for i in range(lo, min(n, lo + batch))]
        graph.apply([Followed(follower_id=s, followee_id=CREATOR, at_ms=AT) for s in ids]
                    + [BellSet(follower_id=s, creator_id=CREATOR, on=True, at_ms=AT)
                       for s in ids], Side.BOTH)
    print(f"setup: {n:,} follows + bells in {time.perf_counter() - t0:.1f} s; "
          f"follower count {graph.follower_count(CREATOR):,}")
    graph.close()


async def publish_post(bootstrap: str, suffix: str) -> None:
    topic = with_suffix(POSTS, suffix)
    producer = make_producer(bootstrap, writer=CONTENT)
    await producer.start()
    try:
        env = wrap(PostPublished(post_id=POST, creator_id=CREATOR, body="bench",
                                 published_at_ms=AT),
                   event_id="evt_bench", source=CONTENT, aggregate_id=POST, occurred_at_ms=AT)
        await producer.send_and_wait(topic.name, env.SerializeToString(), key=POST.encode(),
                                     partition=partition_for(POST, topic.partitions))
    finally:
        await producer.stop()


async def logged(bootstrap: str, suffix: str) -> int:
    """The notifications topic's end offsets, summed (records and commit markers)."""
    topic = with_suffix(SOCIAL_NOTIFICATIONS, suffix)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, isolation_level="read_committed")
    await consumer.start()
    try:
        tps = [TopicPartition(topic.name, p) for p in range(topic.partitions)]
        ends = await consumer.end_offsets(tps)
        return sum(ends.values())
    finally:
        await consumer.stop()


async def wired(root: Path, n: int, bootstrap: str) -> dict[str, object]:
    suffix = f"bench{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, [with_suffix(t, suffix) for t in TOPICS])
    auth = DevServiceAuth.create(root / "keys")
    try:
        t_start = time.perf_counter()
        social = await start(SocialSettings(
            grpc_port=0, shutdown_grace_s=5, data_dir=root, auth=auth.settings(SOCIAL),
            kafka=KafkaSettings(bootstrap_servers=bootstrap),
            topics=TopicSettings(topic_suffix=suffix)), ready_timeout_s=120)
        ready_s = time.perf_counter() - t_start
        last = subscriber(n - 1)
        latencies: list[float] = []
        async with grpc.aio.insecure_channel(f"127.0.0.1:{social.port}") as channel:
            stub = rpc_grpc.SocialServiceStub(channel)
            t0 = time.perf_counter()
            await publish_post(bootstrap, suffix)
            while True:
                q0 = time.perf_counter()
                page = await stub.ListNotifications(
                    rpc.ListNotificationsRequest(user_id=last, limit=2),
                    metadata=auth.metadata(SOCIAL, last), timeout=30)
                latencies.append(time.perf_counter() - q0)
                if page.notifications:
                    break
                await asyncio.sleep(0.2)
            fanout_s = time.perf_counter() - t0
        await social.stop()
        records = await logged(bootstrap, suffix)
        return {"ready_s": round(ready_s, 2), "fanout_s": round(fanout_s, 2),
                "per_s": round(n / fanout_s), "topic_offsets": records,
                "peak_rss_mib": round(rss_mib()),
                "rpc_p50_ms": round(statistics.median(latencies) * 1000, 1),
                "rpc_max_ms": round(max(latencies) * 1000, 1), "rpcs": len(latencies)}
    finally:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            await admin.delete_topics([with_suffix(t, suffix).name for t in TOPICS])
        finally:
            await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    parser.add_argument("--wired-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.wired_only:
        print(json.dumps(asyncio.run(wired(args.wired_only, args.subscribers, args.bootstrap))))
        return
    with tempfile.TemporaryDirectory(prefix="planet-wired-") as tmp:
        root = Path(tmp)
        setup(root, args.subscribers, 10_000)
        out = subprocess.run(
            [sys.executable, __file__, "--wired-only", str(root), "--subscribers",
             str(args.subscribers), "--bootstrap", args.bootstrap],
            check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(f"wired fan-out: {args.subscribers:,} NEW_POST notifications appended and stored "
              f"in {r['fanout_s']} s ({r['per_s']:,}/s; goal < 60 s), service ready in "
              f"{r['ready_s']} s; service process peak RSS {r['peak_rss_mib']} MiB "
              f"(goal < 2048 MiB)")
        print(f"notifications topic: {r['topic_offsets']:,} offsets (records + one commit "
              f"marker per transaction per partition)")
        print(f"gRPC during the fan-out: {r['rpcs']} ListNotifications calls, median "
              f"{r['rpc_p50_ms']} ms, max {r['rpc_max_ms']} ms")


if __name__ == "__main__":
    main()
