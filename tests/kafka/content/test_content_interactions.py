"""Comments, likes and shares through real content replicas, real social, real Kafka.

Threads page with no gap and no duplicate while comments arrive; one like per user per item
and exact counts under concurrent likes; retries with the same idempotency key record one
thing; a user the author blocks is refused; a store rebuilt from the topic equals the live
one; a request landing on a replica that does not own the post is forwarded to the owner.
"""

from __future__ import annotations

import asyncio
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
from planet.social.v1 import notifications_pb2 as notes
from planet.social.v1 import social_service_pb2 as social_rpc
from planet.social.v1 import social_service_pb2_grpc as social_grpc
from planetkit.envelope import decode
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.topics import INTERACTIONS, POSTS
from services.content.adapters.interaction_store import EVENT_TYPES, InteractionStore
from services.content.domain.interactions import MAX_DEPTH, post_of_comment
from services.social.bootstrap import RunningSocial
from tests.kafka.social.social_harness import signed as social_signed

pytestmark = pytest.mark.kafka

AUTHOR = "user_alice"


def _post(request_id: str, creator: str = AUTHOR) -> rpc.PublishPostRequest:
    return rpc.PublishPostRequest(request_id=request_id, creator_id=creator,
                                  kind=ev.POST_KIND_SHORT, body=f"post {request_id}")


async def _comment(stub: pb_grpc.InteractionServiceAsyncStub, auth: DevServiceAuth,
                   user: str, post_id: str, key: str, text: str = "nice",
                   parent: str = "") -> pb.Comment:
    async def call() -> pb.Comment:
        return await stub.PostComment(pb.PostCommentRequest(
            request_id=key, user_id=user, post_id=post_id, text=text,
            parent_comment_id=parent), metadata=signed(auth, user), timeout=10)
    return await until(call, 30)


async def _pages(stub: pb_grpc.InteractionServiceAsyncStub, auth: DevServiceAuth,
                 post_id: str, order: int, limit: int, parent: str = "") -> list[str]:
    ids: list[str] = []
    cursor = ""
    while True:
        page = await stub.ListComments(pb.ListCommentsRequest(
            post_id=post_id, parent_comment_id=parent, cursor=cursor, limit=limit,
            order=order), metadata=signed(auth, "reader"), timeout=10)
        assert len(page.comments) <= limit
        ids.extend(c.comment_id for c in page.comments)
        if not page.next_cursor:
            return ids
        cursor = page.next_cursor


async def _code(call: asyncio.Future[object] | object) -> grpc.StatusCode:
    try:
        await call  # type: ignore[misc]
    except grpc.aio.AioRpcError as exc:
        return exc.code()
    raise AssertionError("the call succeeded")


async def test_threads_likes_shares_blocks_and_rebuild(
    start_content: StartContent, service_auth: DevServiceAuth, social: RunningSocial,
    kafka_bootstrap: str, topic_suffix: str, tmp_path: Path,
) -> None:
    auth = service_auth
    content = await start_content()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{content.port}") as channel:
        posts_stub = rpc_grpc.ContentServiceStub(channel)
        stub = pb_grpc.InteractionServiceStub(channel)
        posts = await publish_all(posts_stub, auth, [_post("p1"), _post("p2")])
        post_id, other_post = sorted(posts)

        # A thread of 25 top-level comments, paged while 5 more arrive between pages.
        first = [await _comment(stub, auth, f"fan{i % 4}", post_id, f"c{i}", f"comment {i}")
                 for i in range(25)]
        assert {post_of_comment(c.comment_id) for c in first} == {post_id}
        newest = await _pages(stub, auth, post_id, pb.COMMENT_ORDER_NEWEST, 7)
        oldest = await _pages(stub, auth, post_id, pb.COMMENT_ORDER_OLDEST, 6)
        assert oldest == [c.comment_id for c in first]
        assert newest == list(reversed(oldest))
        page = await stub.ListComments(pb.ListCommentsRequest(
            post_id=post_id, limit=10, order=pb.COMMENT_ORDER_OLDEST),
            metadata=signed(auth, "reader"), timeout=10)
        for i in range(5):
            await _comment(stub, auth, "fan9", post_id, f"late{i}")
        rest: list[str] = [c.comment_id for c in page.comments]
        cursor = page.next_cursor
        while cursor:
            more = await stub.ListComments(pb.ListCommentsRequest(
                post_id=post_id, limit=10, cursor=cursor, order=pb.COMMENT_ORDER_OLDEST),
                metadata=signed(auth, "reader"), timeout=10)
            rest.extend(c.comment_id for c in more.comments)
            cursor = more.next_cursor
        assert len(rest) == len(set(rest)) == 30  # no duplicate, no gap, the late ones last

        # The same idempotency key makes one comment.
        again = await _comment(stub, auth, "fan0", post_id, "c0", "different text")
        assert again.comment_id == first[0].comment_id and again.text == "comment 0"

        # Replies nest to MAX_DEPTH, then OUT_OF_RANGE; replies list oldest first.
        parent = first[0]
        chain = [parent]
        for depth in range(1, MAX_DEPTH + 1):
            chain.append(await _comment(stub, auth, "fan1", post_id, f"r{depth}",
                                        parent=chain[-1].comment_id))
            assert chain[-1].depth == depth
        assert await _code(stub.PostComment(pb.PostCommentRequest(
            request_id="deep", user_id="fan1", post_id=post_id, text="too deep",
            parent_comment_id=chain[-1].comment_id), metadata=signed(auth, "fan1"),
            timeout=10)) == grpc.StatusCode.OUT_OF_RANGE
        assert await _pages(stub, auth, post_id, pb.COMMENT_ORDER_UNSPECIFIED, 5,
                            parent=parent.comment_id) == [chain[1].comment_id]
        # A parent of another post, empty or too long text: INVALID_ARGUMENT.
        for bad in (
            pb.PostCommentRequest(request_id="x1", user_id="fan1", post_id=other_post,
                                  text="hi", parent_comment_id=parent.comment_id),
            pb.PostCommentRequest(request_id="x2", user_id="fan1", post_id=post_id, text=" "),
            pb.PostCommentRequest(request_id="x3", user_id="fan1", post_id=post_id,
                                  text="x" * 2001),
            pb.PostCommentRequest(request_id="x4", user_id="fan1", post_id="post_zz",
                                  text="hi"),
        ):
            assert await _code(stub.PostComment(bad, metadata=signed(auth, "fan1"),
                                                timeout=10)) == grpc.StatusCode.INVALID_ARGUMENT
        # Someone else's comment: not theirs to edit or delete; the author edits and deletes.
        assert await _code(stub.EditComment(pb.EditCommentRequest(
            request_id="e1", user_id="fan2", comment_id=first[1].comment_id, text="mine now"),
            metadata=signed(auth, "fan2"), timeout=10)) == grpc.StatusCode.PERMISSION_DENIED
        edited = await stub.EditComment(pb.EditCommentRequest(
            request_id="e1", user_id="fan1", comment_id=first[1].comment_id, text="better"),
            metadata=signed(auth, "fan1"), timeout=10)
        assert (edited.text, edited.revision) == ("better", 1)
        edited = await stub.EditComment(pb.EditCommentRequest(
            request_id="e1", user_id="fan1", comment_id=first[1].comment_id, text="better"),
            metadata=signed(auth, "fan1"), timeout=10)
        assert edited.revision == 1  # a retry
        await stub.DeleteComment(pb.DeleteCommentRequest(
            request_id="d1", user_id="fan1", comment_id=first[1].comment_id),
            metadata=signed(auth, "fan1"), timeout=10)
        # Acting for another user than the call is made for is refused outright.
        assert await _code(stub.DeleteComment(pb.DeleteCommentRequest(
            request_id="d2", user_id="fan1", comment_id=first[5].comment_id),
            metadata=signed(auth, "fan2"), timeout=10)) == grpc.StatusCode.PERMISSION_DENIED

        # 40 users like concurrently, each twice (two keys): exactly 40 likes.
        async def like(user: str, key: str) -> pb.LikeState:
            return await stub.Like(pb.LikeRequest(request_id=key, user_id=user,
                                                  item_id=post_id),
                                   metadata=signed(auth, user), timeout=30)
        await asyncio.gather(*(like(f"liker{i}", f"k{i}-{j}") for i in range(40)
                               for j in range(2)))
        stats = await stub.GetItemStats(pb.GetItemStatsRequest(item_id=post_id),
                                        metadata=signed(auth, "reader"), timeout=10)
        assert stats.likes == 40
        assert stats.comments == 30 + MAX_DEPTH - 1  # one top-level comment was deleted
        unliked = await stub.Unlike(pb.LikeRequest(request_id="u", user_id="liker0",
                                                   item_id=post_id),
                                    metadata=signed(auth, "liker0"), timeout=10)
        assert (unliked.liked, unliked.stats.likes) == (False, 39)
        liked_comment = await like("liker1", "kc")
        assert liked_comment.stats.likes == 39  # on the post; now a comment:
        state = await stub.Like(pb.LikeRequest(request_id="kc2", user_id="liker1",
                                               item_id=first[2].comment_id),
                                metadata=signed(auth, "liker1"), timeout=10)
        assert (state.liked, state.stats.likes) == (True, 1)

        # Shares: a retry with the same key is one share.
        share = await stub.Share(pb.ShareRequest(request_id="s1", user_id="fan3",
                                                 post_id=post_id, quote="read this"),
                                 metadata=signed(auth, "fan3"), timeout=10)
        again_share = await stub.Share(pb.ShareRequest(request_id="s1", user_id="fan3",
                                                       post_id=post_id, quote="other"),
                                       metadata=signed(auth, "fan3"), timeout=10)
        assert again_share.share_id == share.share_id and again_share.quote == "read this"
        stats = await stub.GetItemStats(pb.GetItemStatsRequest(item_id=post_id),
                                        metadata=signed(auth, "reader"), timeout=10)
        assert stats.shares == 1
        # GetPost carries the same counts.
        got = await posts_stub.GetPost(rpc.GetPostRequest(post_id=post_id),
                                       metadata=signed(auth, "reader"), timeout=10)
        assert (got.stats.likes, got.stats.comments, got.stats.shares) == (
            39, 30 + MAX_DEPTH - 1, 1)

        # The author blocks a user: no comment, like or share from them on her posts.
        async with grpc.aio.insecure_channel(f"127.0.0.1:{social.port}") as sc:
            await social_grpc.SocialServiceStub(sc).Block(
                social_rpc.RelationRequest(user_id=AUTHOR, other_id="user_bob"),
                metadata=social_signed(auth, AUTHOR), timeout=10)
        for call in (
            stub.PostComment(pb.PostCommentRequest(request_id="t1", user_id="user_bob",
                                                   post_id=post_id, text="boo"),
                             metadata=signed(auth, "user_bob"), timeout=10),
            stub.Like(pb.LikeRequest(request_id="t2", user_id="user_bob", item_id=post_id),
                      metadata=signed(auth, "user_bob"), timeout=10),
            stub.Share(pb.ShareRequest(request_id="t3", user_id="user_bob", post_id=post_id),
                       metadata=signed(auth, "user_bob"), timeout=10),
        ):
            assert await _code(call) == grpc.StatusCode.PERMISSION_DENIED

    # Rebuilt equals live: every partition's store, rebuilt from the topic, holds exactly the
    # keys and values the live store holds.
    await content.stop()
    topic = f"{INTERACTIONS.name}.{topic_suffix}"
    records = await _read_all(kafka_bootstrap, topic)
    assert all(decode(r.value, *EVENT_TYPES) for rs in records.values() for r in rs)
    for partition in range(POSTS.partitions):
        live = InteractionStore(tmp_path / "content-data" / topic / f"p{partition}", partition)
        rebuilt = InteractionStore(tmp_path / "rebuilt" / f"p{partition}", partition)
        try:
            rebuilt.apply(records.get(partition, []))
            assert dict(rebuilt.items()) == dict(live.items())
            assert rebuilt.applied == live.applied
        finally:
            live.close()
            rebuilt.close()


async def _read_all(bootstrap: str, topic: str) -> dict[int, list]:  # type: ignore[type-arg]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, isolation_level="read_committed")
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(POSTS.partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        end = await consumer.end_offsets(tps)
        out: dict[int, list] = {}  # type: ignore[type-arg]
        while any([await consumer.position(tp) < end[tp] for tp in tps]):
            for tp, recs in (await consumer.getmany(timeout_ms=500)).items():
                out.setdefault(tp.partition, []).extend(recs)
        return out
    finally:
        await consumer.stop()


async def test_a_request_on_another_replica_is_forwarded_to_the_owner(
    start_content: StartContent, service_auth: DevServiceAuth,
) -> None:
    auth = service_auth
    one = await start_content(data_dir=None)
    two = await start_content(data_dir=None)
    async with (grpc.aio.insecure_channel(f"127.0.0.1:{one.port}") as c1,
                grpc.aio.insecure_channel(f"127.0.0.1:{two.port}") as c2):
        posts = await publish_all(rpc_grpc.ContentServiceStub(c1), auth,
                                  [_post(f"f{i}") for i in range(8)], timeout_s=90)
        stubs = [pb_grpc.InteractionServiceStub(c) for c in (c1, c2)]
        for i, post_id in enumerate(sorted(posts)):
            for j, stub in enumerate(stubs):
                comment = await _comment(stub, auth, f"fan{j}", post_id, f"k{i}-{j}")
                assert comment.post_id == post_id
            stats = await until(lambda s=stubs[i % 2], p=post_id: s.GetItemStats(
                pb.GetItemStatsRequest(item_id=p), metadata=signed(auth, "r"), timeout=10), 30)
            assert stats.comments == 2


async def _replies_to(stub: social_grpc.SocialServiceAsyncStub, auth: DevServiceAuth,
                      user: str, want: set[str]) -> list[tuple[str, str]]:
    """(actor, subject) of the user's REPLY notifications, once ``want`` subjects are there."""
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        page = await stub.ListNotifications(
            social_rpc.ListNotificationsRequest(user_id=user, limit=100),
            metadata=social_signed(auth, user), timeout=10)
        got = [(n.actor_id, n.subject_id) for n in page.notifications
               if n.kind == notes.NOTIFICATION_KIND_REPLY]
        if want <= {s for _, s in got} or asyncio.get_running_loop().time() > deadline:
            return got
        await asyncio.sleep(0.1)


async def test_a_comment_notifies_the_post_author_and_a_reply_the_parent_author(
    start_content: StartContent, service_auth: DevServiceAuth, social: RunningSocial,
) -> None:
    auth = service_auth
    content = await start_content()
    async with (grpc.aio.insecure_channel(f"127.0.0.1:{content.port}") as channel,
                grpc.aio.insecure_channel(f"127.0.0.1:{social.port}") as sc):
        posts = await publish_all(rpc_grpc.ContentServiceStub(channel), auth, [_post("n1")])
        [post_id] = posts
        stub = pb_grpc.InteractionServiceStub(channel)
        top = await _comment(stub, auth, "user_bob", post_id, "n-top")
        reply = await _comment(stub, auth, "user_carol", post_id, "n-reply",
                               parent=top.comment_id)
        own = await _comment(stub, auth, AUTHOR, post_id, "n-own")  # nobody is notified
        social_stub = social_grpc.SocialServiceStub(sc)
        to_author = await _replies_to(social_stub, auth, AUTHOR,
                                      {top.comment_id, reply.comment_id})
        assert sorted(to_author) == sorted([("user_bob", top.comment_id),
                                            ("user_carol", reply.comment_id)])
        assert own.comment_id not in {s for _, s in to_author}
        to_bob = await _replies_to(social_stub, auth, "user_bob", {reply.comment_id})
        assert to_bob == [("user_carol", reply.comment_id)]
