"""Topics, arenas and instruments through a real content replica, real Kafka and real gRPC:
components checked against the exchange's instruments (unknown symbols named), #ＢＴＣ and #btc
on one topic page newest first with current prices and attributed links, arenas curated by
operators only, and a rebuilt store answering the same pages."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import grpc
import pytest
from content_harness import StartContent, signed, until

from planet.content.v1 import content_service_pb2 as rpc
from planet.content.v1 import content_service_pb2_grpc as rpc_grpc
from planet.content.v1 import events_pb2 as ev
from planet.content.v1 import topics_pb2 as tpb
from planet.content.v1 import topics_pb2_grpc as tpb_grpc
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_identities import CONTENT

pytestmark = pytest.mark.kafka


def _post(request_id: str, hashtags: list[str],
          *components: ev.TradingComponent) -> rpc.PublishPostRequest:
    return rpc.PublishPostRequest(request_id=request_id, creator_id="user_alice",
                                  kind=ev.POST_KIND_SHORT, body=f"post {request_id}",
                                  hashtags=hashtags, components=list(components))


def _link(pair: str) -> ev.TradingComponent:
    return ev.TradingComponent(trade_link=ev.TradeLink(pair=pair, side=ev.TRADE_SIDE_LONG))


async def test_topic_pages_arenas_and_instruments(
    start_content: StartContent, service_auth: DevServiceAuth, tmp_path: Path,
) -> None:
    service = await start_content()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{service.port}") as channel:
        content = rpc_grpc.ContentServiceStub(channel)
        topics = tpb_grpc.TopicServiceStub(channel)

        async def publish(request: rpc.PublishPostRequest) -> rpc.Post:
            response = await until(lambda: content.PublishPost(
                request, metadata=signed(service_auth, "user_alice"), timeout=10), 30)
            return response.post

        # An unknown symbol is refused, naming it; nothing is published.
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await publish(_post("bad", ["btc"], ev.TradingComponent(trade_idea=ev.TradeIdea(
                pair="DOGE/USDT", side=ev.TRADE_SIDE_LONG, entry="1", target="2", stop="0.5",
                timeframe="4h"))))
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "unknown symbol 'DOGE/USDT'" in (refused.value.details() or "")

        a = await publish(_post("a", ["ＢＴＣ"], _link("BTC/USDT")))
        b = await publish(_post("b", ["btc", "Btc"], ev.TradingComponent(
            ticker=ev.CoinTicker(symbol="ETH"))))
        c = await publish(_post("c", ["eth"]))

        reader = signed(service_auth, "reader")
        page = await topics.ListTopicPosts(tpb.ListTopicPostsRequest(topic="#ＢＴＣ"),
                                           metadata=reader, timeout=10)
        assert page.topic == "btc"
        assert [p.post.post_id for p in page.posts] == [b.post_id, a.post_id]
        rendered = page.posts[1].post.rendered[0]
        assert (rendered.instrument, rendered.last_price) == ("BTC/USDT", "64000.25")
        link = urlsplit(rendered.link)
        assert link.path.endswith("/trade/BTC_USDT")
        assert parse_qs(link.query) == {"side": ["buy"], "ref": ["planet"],
                                        "ref_post": [a.post_id], "ref_creator": ["user_alice"]}
        assert page.posts[0].post.rendered[0].last_price == "3150.40"  # ETH ticker: ETH/USDT

        first = await topics.ListTopicPosts(tpb.ListTopicPostsRequest(topic="btc", limit=1),
                                            metadata=reader, timeout=10)
        second = await topics.ListTopicPosts(tpb.ListTopicPostsRequest(
            topic="btc", limit=1, cursor=first.next_cursor), metadata=reader, timeout=10)
        assert [p.post.post_id for p in (*first.posts, *second.posts)] == [b.post_id, a.post_id]
        assert second.next_cursor == ""
        # No engagement yet: the most-engaged pages are empty, not an error.
        engaged = await topics.ListTopicPosts(tpb.ListTopicPostsRequest(
            topic="btc", order=tpb.TOPIC_ORDER_ENGAGED_24H), metadata=reader, timeout=10)
        assert list(engaged.posts) == []
        for bad in ("", "bt c", "x" * 51):
            with pytest.raises(grpc.aio.AioRpcError) as invalid:
                await topics.ListTopicPosts(tpb.ListTopicPostsRequest(topic=bad),
                                            metadata=reader, timeout=10)
            assert invalid.value.code() == grpc.StatusCode.INVALID_ARGUMENT

        # Arenas: operators only; newest first across the arena's topics.
        arena = tpb.PutArenaRequest(arena_id="majors", name="Majors", topics=["#BTC", "Eth"])
        with pytest.raises(grpc.aio.AioRpcError) as denied:
            await topics.PutArena(arena, metadata=reader, timeout=10)
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
        operator = service_auth.metadata(CONTENT, "olga", ["operator"])
        put = await topics.PutArena(arena, metadata=operator, timeout=10)
        assert list(put.topics) == ["btc", "eth"]
        listed = await topics.ListArenas(tpb.ListArenasRequest(), metadata=reader, timeout=10)
        assert [x.arena_id for x in listed.arenas] == ["majors"]
        arena_page = await topics.ListArenaPosts(tpb.ListArenaPostsRequest(
            arena_id="majors", limit=2), metadata=reader, timeout=10)
        rest = await topics.ListArenaPosts(tpb.ListArenaPostsRequest(
            arena_id="majors", limit=2, cursor=arena_page.next_cursor), metadata=reader,
            timeout=10)
        assert [p.post.post_id for p in (*arena_page.posts, *rest.posts)] == [
            c.post_id, b.post_id, a.post_id]
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await topics.ListArenaPosts(tpb.ListArenaPostsRequest(arena_id="nope"),
                                        metadata=reader, timeout=10)
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND

        instruments = await topics.ListInstruments(tpb.ListInstrumentsRequest(),
                                                   metadata=reader, timeout=10)
        assert {i.symbol: i.last_price for i in instruments.instruments}["BTC/USDT"] == \
            "64000.25"
    await service.stop()

    # A lost store is rebuilt from the topic-posts topic; the arena from its topic.
    shutil.rmtree(tmp_path / "content-data")
    rebuilt = await start_content()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{rebuilt.port}") as channel:
        topics = tpb_grpc.TopicServiceStub(channel)
        again = await topics.ListTopicPosts(tpb.ListTopicPostsRequest(topic="BTC"),
                                            metadata=signed(service_auth, "reader"), timeout=10)
        assert [p.post.post_id for p in again.posts] == [b.post_id, a.post_id]
        arenas = await topics.ListArenas(tpb.ListArenasRequest(),
                                         metadata=signed(service_auth, "reader"), timeout=10)
        assert [x.topics for x in arenas.arenas] == [["btc", "eth"]]
    await rebuilt.stop()
