"""Helpers for the content Kafka tests: requests spread over every partition, signed reads."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import grpc
from aiokafka import AIOKafkaConsumer, TopicPartition

from planet.content.v1 import content_service_pb2 as rpc
from planet.content.v1 import content_service_pb2_grpc as rpc_grpc
from planet.content.v1 import events_pb2 as ev
from planetkit.kafka.partitioning import partition_for
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_identities import CONTENT, GATEWAY
from planetkit.topics import POSTS
from services.content.bootstrap import RunningContent
from services.content.domain.ids import post_id_for

T = TypeVar("T")
# start_content(data_dir=...) in conftest: a replica in this process, once SERVING.
StartContent = Callable[..., Awaitable[RunningContent]]
CREATORS = ("user_alice", "user_bob", "user_carol")


def spread_requests(per_partition: int) -> list[rpc.PublishPostRequest]:
    """Requests whose posts land ``per_partition`` times on every partition of the topic."""
    out: list[rpc.PublishPostRequest] = []
    counts = dict.fromkeys(range(POSTS.partitions), 0)
    i = 0
    while min(counts.values()) < per_partition:
        creator = CREATORS[i % len(CREATORS)]
        request_id = f"req-{i}"
        p = partition_for(post_id_for(creator, request_id), POSTS.partitions)
        if counts[p] < per_partition:
            counts[p] += 1
            out.append(rpc.PublishPostRequest(
                request_id=request_id, creator_id=creator, kind=ev.POST_KIND_SHORT,
                body=f"post {i}", hashtags=["btc"]))
        i += 1
    return out


def signed(auth: DevServiceAuth, user_id: str, *, as_: str = GATEWAY) -> tuple[tuple[str, str]]:
    """Metadata of one call to content made by ``as_`` for ``user_id``."""
    return auth.metadata(CONTENT, user_id, as_=as_)


async def publish_all(
    stub: rpc_grpc.ContentServiceAsyncStub, auth: DevServiceAuth,
    requests: list[rpc.PublishPostRequest], timeout_s: float = 60,
) -> dict[str, rpc.Post]:
    """Publish each request (retrying UNAVAILABLE, as the gateway's callers do); post by id."""
    posts: dict[str, rpc.Post] = {}
    for request in requests:
        async def publish(r: rpc.PublishPostRequest = request) -> rpc.PublishPostResponse:
            return await stub.PublishPost(r, metadata=signed(auth, r.creator_id), timeout=10)

        response = await until(publish, timeout_s)
        posts[response.post.post_id] = response.post
    return posts


async def until(call: Callable[[], Awaitable[T]], timeout_s: float) -> T:
    """``call()`` until it stops answering UNAVAILABLE, within a deadline."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        try:
            return await call()
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.UNAVAILABLE:
                raise
            if asyncio.get_running_loop().time() > deadline:
                raise
        await asyncio.sleep(0.1)


async def every_answer_right(
    stub: rpc_grpc.ContentServiceAsyncStub, auth: DevServiceAuth,
    posts: dict[str, rpc.Post], requests: list[rpc.PublishPostRequest],
) -> None:
    """GetPost, ResolveAuthors and an idempotent re-publish each give the published answer."""
    for post_id, post in posts.items():
        got = await stub.GetPost(rpc.GetPostRequest(post_id=post_id),
                                 metadata=signed(auth, "reader"), timeout=10)
        # The counts come from the interactions' projection, read beside the post.
        got.ClearField("stats")
        assert got == post
    authors = await stub.ResolveAuthors(
        rpc.ResolveAuthorsRequest(item_ids=[*posts, "post_unknown"]),
        metadata=signed(auth, "reader"), timeout=10)
    assert dict(authors.authors) == {i: p.creator_id for i, p in posts.items()}
    for request in requests:
        again = await stub.PublishPost(request, metadata=signed(auth, request.creator_id),
                                       timeout=10)
        assert again.post == posts[again.post.post_id]


async def record_count(bootstrap: str, topic: str, timeout_s: float = 30) -> int:
    """How many committed records the topic holds (nothing is ever deleted from it).

    Read, not end offsets: each post's transaction also leaves a commit marker, which takes
    an offset of its own but is no record.
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, isolation_level="read_committed",
                                enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(POSTS.partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        count = 0
        deadline = asyncio.get_running_loop().time() + timeout_s
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            assert asyncio.get_running_loop().time() < deadline, "topic not read in time"
            fetched = await consumer.getmany(timeout_ms=200)
            count += sum(len(records) for records in fetched.values())
        return count
    finally:
        await consumer.stop()


async def tailed(service: RunningContent, posts: int, timeout_s: float = 30) -> None:
    """Wait until the replica's tail has applied ``posts`` posts since it started, each from
    both topics (its own publishes come back through the topics a fetch later): a replica
    that owns every partition reads each post three times, keyed by id, by author and by its
    one topic (every test post is #btc)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while service.replica.stats.records_read < 3 * posts:
        assert asyncio.get_running_loop().time() < deadline, service.replica.stats
        await asyncio.sleep(0.05)
