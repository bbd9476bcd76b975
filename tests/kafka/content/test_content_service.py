"""The content service over real gRPC against the real broker: publish, restart, rebuild."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import grpc
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from grpc_health.v1 import health_pb2, health_pb2_grpc

from planet.content.v1 import content_service_pb2 as rpc
from planet.content.v1 import content_service_pb2_grpc as rpc_grpc
from planet.content.v1 import events_pb2 as ev
from planetkit.envelope import decode
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_identities import CONTENT
from planetkit.topics import POSTS, with_suffix
from services.content.bootstrap import RunningContent

StartContent = Callable[[], Awaitable[RunningContent]]

pytestmark = pytest.mark.kafka


def _request(request_id: str) -> rpc.PublishPostRequest:
    return rpc.PublishPostRequest(
        request_id=request_id,
        creator_id="user_alice",
        kind=ev.POST_KIND_SHORT,
        body="BTC looks strong",
        hashtags=["btc"],
        components=[
            ev.TradingComponent(
                trade_idea=ev.TradeIdea(
                    pair="BTC/USDT", side=ev.TRADE_SIDE_LONG, entry="100000.5",
                    target="120000", stop="95000",
                )
            )
        ],
    )


async def _records(bootstrap: str, topic: str) -> list[bytes]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, isolation_level="read_committed")
    # The service created the topic with the registry's partition count.
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(POSTS.partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        end = await consumer.end_offsets(tps)
        out: list[bytes] = []
        while any([await consumer.position(tp) < end[tp] for tp in tps]):
            for recs in (await consumer.getmany(timeout_ms=500)).values():
                out.extend(r.value for r in recs if r.value is not None)
        return out
    finally:
        await consumer.stop()


def _channel(service: RunningContent, auth: DevServiceAuth) -> grpc.aio.Channel:
    # Calls made by the gateway for the post's creator.
    return grpc.aio.insecure_channel(f"127.0.0.1:{service.port}",
                                     interceptors=[auth.interceptor(CONTENT, "user_alice")])


async def test_publish_restart_and_rebuild_from_the_topic(
    start_content: StartContent, kafka_bootstrap: str, topic_suffix: str,
    service_auth: DevServiceAuth,
) -> None:
    first = await start_content()
    async with _channel(first, service_auth) as channel:
        health = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="planet.content.v1.ContentService")
        )
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        stub = rpc_grpc.ContentServiceStub(channel)
        published = (await stub.PublishPost(_request("req-1"))).post
        assert published.post_id.startswith("post_") and published.version == 1
    await first.stop()

    second = await start_content()
    async with _channel(second, service_auth) as channel:
        stub = rpc_grpc.ContentServiceStub(channel)
        got = await stub.GetPost(rpc.GetPostRequest(post_id=published.post_id))
        got.ClearField("stats")  # the interactions' counts, read beside the post
        assert got == published
        again = (await stub.PublishPost(_request("req-1"))).post
        assert again == published
        authors = await stub.ResolveAuthors(
            rpc.ResolveAuthorsRequest(item_ids=[published.post_id, "post_unknown"])
        )
        assert dict(authors.authors) == {published.post_id: "user_alice"}

    records = await _records(kafka_bootstrap, with_suffix(POSTS, topic_suffix).name)
    assert len(records) == 1
    event = decode(records[0], ev.PostPublished)
    assert (event.envelope.aggregate_id, event.envelope.source) == (published.post_id, "content")
    assert event.payload.components[0].trade_idea.entry == "100000.5"


async def test_invalid_posts_and_unknown_ids_get_status_codes(
    start_content: StartContent, service_auth: DevServiceAuth
) -> None:
    service = await start_content()
    async with _channel(service, service_auth) as channel:
        stub = rpc_grpc.ContentServiceStub(channel)
        bad = _request("req-2")
        bad.title = "t" * 201
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.PublishPost(bad)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "title has 201 characters" in (err.value.details() or "")
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.GetPost(rpc.GetPostRequest(post_id="post_nope"))
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
