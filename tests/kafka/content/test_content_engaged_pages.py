"""Most-engaged topic pages fed by real interactions: real content, real social, real Kafka,
real gRPC. Users comment, like (posts and comments) and share posts with topics; each action's
TopicEngagement copies reach the topics' partitions in the action's own transaction, and the
engaged pages rank posts by distinct users: the author's own like and a sanctioned user's are
left out, a like taken back still counts once. A restarted replica and one rebuilt from the
log answer the same pages."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import grpc
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from content_harness import StartContent, publish_all, signed, until

from planet.content.v1 import content_service_pb2 as rpc
from planet.content.v1 import content_service_pb2_grpc as rpc_grpc
from planet.content.v1 import events_pb2 as ev
from planet.content.v1 import interactions_pb2 as pb
from planet.content.v1 import interactions_pb2_grpc as pb_grpc
from planet.content.v1 import topics_pb2 as tpb
from planet.content.v1 import topics_pb2_grpc as tpb_grpc
from planet.social.v1 import social_service_pb2 as social_rpc
from planet.social.v1 import social_service_pb2_grpc as social_grpc
from planetkit.envelope import decode_envelope
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.topics import TOPIC_POSTS, with_suffix
from services.social.bootstrap import RunningSocial
from tests.kafka.social.social_harness import signed as social_signed

pytestmark = pytest.mark.kafka

Page = list[tuple[str, int]]


def _post(request_id: str, creator: str, hashtags: list[str]) -> rpc.PublishPostRequest:
    return rpc.PublishPostRequest(request_id=request_id, creator_id=creator,
                                  kind=ev.POST_KIND_SHORT, body=f"post {request_id}",
                                  hashtags=hashtags)


async def _page(topics: tpb_grpc.TopicServiceAsyncStub, auth: DevServiceAuth, topic: str,
                order: tpb.TopicOrder.ValueType) -> Page:
    async def call() -> tpb.ListTopicPostsResponse:
        return await topics.ListTopicPosts(tpb.ListTopicPostsRequest(topic=topic, order=order),
                                           metadata=signed(auth, "reader"), timeout=10)
    page = await until(call, 30)
    return [(p.post.post_id, p.engaged_users) for p in page.posts]


async def _until_page(topics: tpb_grpc.TopicServiceAsyncStub, auth: DevServiceAuth,
                      topic: str, order: tpb.TopicOrder.ValueType, want: Page,
                      timeout_s: float = 30) -> None:
    """Poll until the page is ``want`` (the topic's owner reads the copies a fetch later)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        got = await _page(topics, auth, topic, order)
        if got == want:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{topic} {order}: {got} != {want}")
        await asyncio.sleep(0.1)


async def test_engaged_pages_rank_real_interactions_and_survive_restart_and_rebuild(
    start_content: StartContent, service_auth: DevServiceAuth, social: RunningSocial,
    kafka_bootstrap: str, topic_suffix: str, tmp_path: Path,
) -> None:
    # mallory is under a sanction standing with no end: her engagement counts for nothing.
    async with grpc.aio.insecure_channel(f"127.0.0.1:{social.port}") as channel:
        await social_grpc.SocialServiceStub(channel).SanctionAccount(
            social_rpc.SanctionAccountRequest(user_id="user_mallory", reason="spam"),
            metadata=social_signed(service_auth, "op-1", ("operator",)), timeout=10)

    service = await start_content()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{service.port}") as channel:
        content = rpc_grpc.ContentServiceStub(channel)
        interactions = pb_grpc.InteractionServiceStub(channel)
        topics = tpb_grpc.TopicServiceStub(channel)
        posts = await publish_all(content, service_auth, [
            _post("x", "user_alice", ["btc"]),
            _post("y", "user_bob", ["BTC", "eth"]),
            _post("z", "user_carol", ["#ｂｔｃ"]),
            _post("w", "user_alice", ["btc"]),  # nobody engages: not on the engaged pages
        ])
        by_body = {p.body: p.post_id for p in posts.values()}
        x, y, z = (by_body[f"post {k}"] for k in ("x", "y", "z"))

        async def like(user: str, item: str, on: bool = True) -> None:
            request = pb.LikeRequest(request_id=f"{user}-{item}-{on}", user_id=user,
                                     item_id=item)
            stub = interactions.Like if on else interactions.Unlike
            await until(lambda: stub(request, metadata=signed(service_auth, user), timeout=10),
                        30)

        async def comment(user: str, post_id: str) -> pb.Comment:
            request = pb.PostCommentRequest(request_id=f"{user}-{post_id}", user_id=user,
                                            post_id=post_id, text="where is the stop?")
            return await until(lambda: interactions.PostComment(
                request, metadata=signed(service_auth, user), timeout=10), 30)

        async def share(user: str, post_id: str) -> None:
            request = pb.ShareRequest(request_id=f"{user}-{post_id}", user_id=user,
                                      post_id=post_id)
            await until(lambda: interactions.Share(
                request, metadata=signed(service_auth, user), timeout=10), 30)

        # y: four distinct users (u1 likes and comments: once), and its author's own like.
        for user in ("user_u1", "user_u2", "user_u3"):
            await like(user, y)
        await comment("user_u1", y)
        await share("user_u4", y)
        await like("user_bob", y)
        # z: a like taken back still counts; a like of one of its comments counts for z.
        await like("user_u5", z)
        await like("user_u5", z, on=False)
        remark = await comment("user_u2", z)
        await like("user_u6", remark.comment_id)
        # x: one user, plus its author and a sanctioned account, who count for nothing.
        await like("user_u1", x)
        await like("user_alice", x)
        await like("user_mallory", x)
        await comment("user_mallory", x)

        day: Page = [(y, 4), (z, 3), (x, 1)]
        await _until_page(topics, service_auth, "btc", tpb.TOPIC_ORDER_ENGAGED_24H, day)
        await _until_page(topics, service_auth, "btc", tpb.TOPIC_ORDER_ENGAGED_7D, day)
        await _until_page(topics, service_auth, "eth", tpb.TOPIC_ORDER_ENGAGED_24H, [(y, 4)])
    await service.stop()

    # The copies are on the topic-posts topic, keyed by topic; the author's and the unlike's
    # are not there at all.
    copies = await _engagement_copies(kafka_bootstrap, topic_suffix)
    assert ("btc", "user_bob") not in copies and ("btc", "user_alice") not in copies
    assert copies.count(("btc", "user_u5")) == 1 and ("eth", "user_u4") in copies

    restarted = await start_content()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{restarted.port}") as channel:
        topics = tpb_grpc.TopicServiceStub(channel)
        assert await _page(topics, service_auth, "btc", tpb.TOPIC_ORDER_ENGAGED_24H) == day
    await restarted.stop()

    shutil.rmtree(tmp_path / "content-data")
    rebuilt = await start_content()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{rebuilt.port}") as channel:
        topics = tpb_grpc.TopicServiceStub(channel)
        await _until_page(topics, service_auth, "btc", tpb.TOPIC_ORDER_ENGAGED_24H, day)
        assert await _page(topics, service_auth, "btc", tpb.TOPIC_ORDER_ENGAGED_7D) == day
        assert await _page(topics, service_auth, "eth", tpb.TOPIC_ORDER_ENGAGED_7D) == [(y, 4)]
    await rebuilt.stop()


async def _engagement_copies(bootstrap: str, suffix: str) -> list[tuple[str, str]]:
    """(topic, engaging user) of every committed TopicEngagement on the topic-posts topic."""
    topic = with_suffix(TOPIC_POSTS, suffix)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                isolation_level="read_committed")
    await consumer.start()
    try:
        tps = [TopicPartition(topic.name, p) for p in range(topic.partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        out: list[tuple[str, str]] = []
        deadline = asyncio.get_running_loop().time() + 30
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            assert asyncio.get_running_loop().time() < deadline, "topic-posts not read"
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    envelope = decode_envelope(record.value)
                    if envelope.type == tpb.TopicEngagement.DESCRIPTOR.full_name:
                        fact = tpb.TopicEngagement.FromString(envelope.payload)
                        assert (record.key or b"").decode() == fact.topic
                        out.append((fact.topic, fact.user_id))
        return out
    finally:
        await consumer.stop()
