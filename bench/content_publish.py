"""Publish latency and throughput of the content service, one Kafka transaction per post.

Each PublishPost asks social whether the creator may publish, then appends the post to its
partition of the posts topic and to its author's partition of the author-posts topic in one
transaction (one transaction at a time per posts partition), and stores it. This starts a
real social service and one content replica in this process, on fresh suffixed topics of the
real broker, opens ``--creators`` identities, and publishes ``--posts`` posts over signed
gRPC at each concurrency of ``--concurrency``; it prints posts/s and latency percentiles,
then the ListAuthorPosts latency over what was published. Numbers are printed, never
asserted.

Usage: python -m bench.content_publish [--posts 2000] [--concurrency 1,8,32] [--creators 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from pathlib import Path

import grpc

from planet.content.v1 import content_service_pb2 as rpc
from planet.content.v1 import content_service_pb2_grpc as rpc_grpc
from planet.content.v1 import events_pb2 as ev
from planet.social.v1 import events_pb2 as social_ev
from planet.social.v1 import social_service_pb2 as social_rpc
from planet.social.v1 import social_service_pb2_grpc as social_grpc
from planetkit.kafka.admin import ensure_topics, wait_for_broker
from planetkit.kafka.producer import make_producer
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_identities import CONTENT, EXCHANGE, GATEWAY, SOCIAL
from planetkit.settings import KafkaSettings, TopicSettings
from planetkit.topics import ALL, with_suffix
from services.content.bootstrap import start as start_content
from services.content.settings import ContentSettings
from services.social.bootstrap import start as start_social
from services.social.settings import SocialSettings
from simulators.exchange.facts import ExchangeTopics, publish_kyc


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000


async def _open_creators(bootstrap: str, suffix: str, port: int, auth: DevServiceAuth,
                         users: list[str]) -> None:
    producer = make_producer(bootstrap, writer=EXCHANGE)
    await producer.start()
    try:
        for user in users:
            await publish_kyc(producer, ExchangeTopics.with_suffix(suffix), user)
    finally:
        await producer.stop()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = social_grpc.SocialServiceStub(channel)
        for user in users:
            deadline = time.monotonic() + 60
            while True:
                try:
                    await stub.OpenIdentity(social_rpc.OpenIdentityRequest(
                        user_id=user, handle=f"b_{user[-12:]}",
                        profile=social_ev.Profile(display_name=user)),
                        metadata=auth.metadata(SOCIAL, user, as_=GATEWAY), timeout=10)
                    break
                except grpc.aio.AioRpcError as exc:  # KYC not read yet
                    if exc.code() != grpc.StatusCode.FAILED_PRECONDITION:
                        raise
                    if time.monotonic() > deadline:
                        raise
                await asyncio.sleep(0.1)


async def _publish_run(stub: rpc_grpc.ContentServiceAsyncStub, auth: DevServiceAuth,
                       creators: list[str], run: str, posts: int, concurrency: int
                       ) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(posts):
        queue.put_nowait(i)

    async def worker() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            creator = creators[i % len(creators)]
            started = time.perf_counter()
            await stub.PublishPost(rpc.PublishPostRequest(
                request_id=f"{run}-{i}", creator_id=creator, kind=ev.POST_KIND_SHORT,
                body=f"bench post {i}", hashtags=["btc"]),
                metadata=auth.metadata(CONTENT, creator, as_=GATEWAY), timeout=30)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies


async def main(args: argparse.Namespace) -> int:
    """Run the benchmark and print its report."""
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    await wait_for_broker(bootstrap)
    suffix = f"cpublish{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, [with_suffix(t, suffix) for t in ALL])
    work = Path(tempfile.mkdtemp(prefix="bench-content-publish-"))
    auth = DevServiceAuth.create(work / "keys")
    kafka = KafkaSettings(bootstrap_servers=bootstrap)
    topics = TopicSettings(topic_suffix=suffix)
    social = await start_social(SocialSettings(
        grpc_port=0, shutdown_grace_s=0, auth=auth.settings(SOCIAL), kafka=kafka, topics=topics))
    creators = [f"bench_{i:05d}_{suffix[-6:]}" for i in range(args.creators)]
    await _open_creators(bootstrap, suffix, social.port, auth, creators)
    content = await start_content(ContentSettings(
        grpc_port=0, shutdown_grace_s=0, data_dir=work / "content",
        social_addr=f"127.0.0.1:{social.port}", auth=auth.settings(CONTENT), kafka=kafka,
        topics=topics))
    print(f"{args.creators} creators; one content replica owning all 4 partitions; "
          f"topics suffixed {suffix}", flush=True)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{content.port}") as channel:
            stub = rpc_grpc.ContentServiceStub(channel)
            for concurrency in (int(c) for c in args.concurrency.split(",")):
                seconds, lat = await _publish_run(stub, auth, creators, f"c{concurrency}",
                                                  args.posts, concurrency)
                print(f"publish, concurrency {concurrency:>3}: {args.posts / seconds:7.1f} "
                      f"posts/s; latency p50 {_pct(lat, 0.5):6.1f} ms, p99 "
                      f"{_pct(lat, 0.99):6.1f} ms", flush=True)
            lists: list[float] = []
            for i in range(1_000):
                started = time.perf_counter()
                await stub.ListAuthorPosts(
                    rpc.ListAuthorPostsRequest(author_id=creators[i % len(creators)]),
                    metadata=auth.metadata(CONTENT, "reader", as_=GATEWAY), timeout=10)
                lists.append(time.perf_counter() - started)
            print(f"ListAuthorPosts first page of 20: p50 {_pct(lists, 0.5):.2f} ms, p99 "
                  f"{_pct(lists, 0.99):.2f} ms", flush=True)
    finally:
        await content.stop()
        await social.stop()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=2000, help="posts per concurrency level")
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--creators", type=int, default=50)
    raise SystemExit(asyncio.run(main(parser.parse_args())))
