"""Edits and deletions reach topic pages and arenas, and a deleted post takes no
interactions, through a real content replica, real Kafka, real RocksDB and real gRPC.

An edit that changes hashtags lists the post on the topics it adds and drops it from those it
removes, in the edit's own transaction (the page follows as soon as EditPost returns); the
topics it keeps show the new title and summary; a deletion takes the post off every topic page
and arena; comments, replies, likes, unlikes and shares on the deleted post are NOT_FOUND; a
store rebuilt from the topic-posts topic answers the same pages.
"""

from __future__ import annotations

import shutil
from collections.abc import Awaitable
from pathlib import Path

import grpc
import pytest
from content_harness import StartContent, signed, until

from planet.content.v1 import content_service_pb2 as rpc
from planet.content.v1 import content_service_pb2_grpc as rpc_grpc
from planet.content.v1 import events_pb2 as ev
from planet.content.v1 import interactions_pb2 as ipb
from planet.content.v1 import interactions_pb2_grpc as ipb_grpc
from planet.content.v1 import post_lifecycle_pb2 as lc
from planet.content.v1 import post_lifecycle_pb2_grpc as lc_grpc
from planet.content.v1 import topics_pb2 as tpb
from planet.content.v1 import topics_pb2_grpc as tpb_grpc
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_identities import CONTENT

pytestmark = pytest.mark.kafka
ALICE = "user_alice"


async def _pages(topics: tpb_grpc.TopicServiceAsyncStub, auth: DevServiceAuth
                 ) -> dict[str, list[tuple[str, str, str]]]:
    out: dict[str, list[tuple[str, str, str]]] = {}
    for topic in ("btc", "eth", "sol"):
        page = await topics.ListTopicPosts(tpb.ListTopicPostsRequest(topic=topic),
                                           metadata=signed(auth, "reader"), timeout=10)
        out[topic] = [(p.post.post_id, p.post.title, p.post.summary) for p in page.posts]
    return out


async def test_edits_move_posts_between_topics_and_deletions_remove_them(
    start_content: StartContent, service_auth: DevServiceAuth, tmp_path: Path,
) -> None:
    service = await start_content()
    mine = signed(service_auth, ALICE)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{service.port}") as channel:
        content = rpc_grpc.ContentServiceStub(channel)
        life = lc_grpc.PostLifecycleServiceStub(channel)
        topics = tpb_grpc.TopicServiceStub(channel)
        acts = ipb_grpc.InteractionServiceStub(channel)

        published = await until(lambda: content.PublishPost(rpc.PublishPostRequest(
            request_id="moving", creator_id=ALICE, kind=ev.POST_KIND_ARTICLE, title="First",
            summary="one", body="**range**", hashtags=["BTC", "eth"]),
            metadata=mine, timeout=10), 30)
        pid = published.post.post_id
        assert await _pages(topics, service_auth) == {
            "btc": [(pid, "First", "one")], "eth": [(pid, "First", "one")], "sol": []}

        edited = await life.EditPost(lc.EditPostRequest(
            post_id=pid, editor_id=ALICE, request_id="e1", title="Second", summary="two",
            set_hashtags=True, hashtags=["#ＥＴＨ", "sol"]), metadata=mine, timeout=10)
        assert edited.revision == 2
        # Read-your-writes: the pages kept here follow as EditPost returns.
        assert await _pages(topics, service_auth) == {
            "btc": [], "eth": [(pid, "Second", "two")], "sol": [(pid, "Second", "two")]}
        [on_sol] = (await topics.ListTopicPosts(tpb.ListTopicPostsRequest(topic="sol"),
                                                metadata=mine, timeout=10)).posts
        assert on_sol.post.published_at_ms == published.post.published_at_ms
        assert on_sol.post.kind == ev.POST_KIND_ARTICLE
        assert "<strong>range</strong>" in on_sol.post.body_html

        operator = service_auth.metadata(CONTENT, "olga", ["operator"])
        await topics.PutArena(tpb.PutArenaRequest(arena_id="all", name="All",
                                                  topics=["btc", "eth", "sol"]),
                              metadata=operator, timeout=10)
        arena = await topics.ListArenaPosts(tpb.ListArenaPostsRequest(arena_id="all"),
                                            metadata=mine, timeout=10)
        assert [p.post.post_id for p in arena.posts] == [pid]

        liked = await acts.Like(ipb.LikeRequest(request_id="l1", user_id="bob", item_id=pid),
                                metadata=signed(service_auth, "bob"), timeout=10)
        assert liked.liked
        await life.DeletePost(lc.DeletePostRequest(post_id=pid, deleter_id=ALICE),
                              metadata=mine, timeout=10)
        assert await _pages(topics, service_auth) == {"btc": [], "eth": [], "sol": []}
        # A post that stays, moved from btc to sol by an edit (what the rebuild must show).
        stays = (await content.PublishPost(rpc.PublishPostRequest(
            request_id="stays", creator_id=ALICE, kind=ev.POST_KIND_SHORT, body="x",
            hashtags=["btc"]), metadata=mine, timeout=10)).post.post_id
        await life.EditPost(lc.EditPostRequest(
            post_id=stays, editor_id=ALICE, request_id="e2", body="kept",
            set_hashtags=True, hashtags=["sol"]), metadata=mine, timeout=10)
        after = {"btc": [], "eth": [], "sol": [(stays, "", "")]}
        assert await _pages(topics, service_auth) == after
        arena = await topics.ListArenaPosts(tpb.ListArenaPostsRequest(arena_id="all"),
                                            metadata=mine, timeout=10)
        assert [p.post.post_id for p in arena.posts] == [stays]

        bob = signed(service_auth, "bob")
        refused: list[Awaitable[object]] = [
            acts.PostComment(ipb.PostCommentRequest(request_id="c1", user_id="bob",
                                                    post_id=pid, text="hi"), metadata=bob,
                             timeout=10),
            acts.Like(ipb.LikeRequest(request_id="l2", user_id="bob", item_id=pid),
                      metadata=bob, timeout=10),
            acts.Unlike(ipb.LikeRequest(request_id="u1", user_id="bob", item_id=pid),
                        metadata=bob, timeout=10),
            acts.Share(ipb.ShareRequest(request_id="s1", user_id="bob", post_id=pid),
                       metadata=bob, timeout=10),
            acts.PostComment(ipb.PostCommentRequest(request_id="c2", user_id=ALICE,
                                                    post_id=pid, text="mine"), metadata=mine,
                             timeout=10),
        ]
        for call in refused:
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await call
            assert err.value.code() == grpc.StatusCode.NOT_FOUND
            assert "not found" in (err.value.details() or "")
    await service.stop()

    # A lost topic store is rebuilt from planet.content.topic-posts.v1: the same pages.
    shutil.rmtree(tmp_path / "content-data")
    rebuilt = await start_content()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{rebuilt.port}") as channel:
        topics = tpb_grpc.TopicServiceStub(channel)
        assert await until(lambda: _pages(topics, service_auth), 30) == after
    await rebuilt.stop()
