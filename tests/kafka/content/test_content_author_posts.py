"""An author's posts, newest first, from the replica that owns the author's partition.

Real replicas, real broker, real RocksDB: posts by two authors spread over every partition of
the posts topic; pages of ListAuthorPosts walked by cursor give each author's posts newest
first with no gap and no duplicate; both topics hold each post exactly once (one
transaction); a restart reads nothing and answers the same; a lost store is rebuilt from the
author-posts topic and answers the same; with two replicas only the owner of the author's
partition answers a call it may not forward, and the other forwards to it.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import grpc
import pytest
from content_harness import (
    CREATORS,
    StartContent,
    publish_all,
    record_count,
    signed,
    spread_requests,
    tailed,
    until,
)

from planet.content.v1 import content_service_pb2 as rpc
from planet.content.v1 import content_service_pb2_grpc as rpc_grpc
from planetkit.kafka.partitioning import partition_for
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_identities import CONTENT, GATEWAY
from planetkit.topics import AUTHOR_POSTS, POSTS
from services.content.bootstrap import RunningContent

pytestmark = pytest.mark.kafka
AUTHORS = CREATORS[:2]


def _requests(per_partition: int) -> list[rpc.PublishPostRequest]:
    """Posts by the two authors only, landing ``per_partition`` times on every partition."""
    return [r for r in spread_requests(per_partition) if r.creator_id in AUTHORS]


def _newest_first(posts: dict[str, rpc.Post], author: str) -> list[str]:
    mine = [p for p in posts.values() if p.creator_id == author]
    return [p.post_id for p in sorted(mine, key=lambda p: (-p.published_at_ms, p.post_id))]


async def _walk(stub: rpc_grpc.ContentServiceAsyncStub, auth: DevServiceAuth, author: str,
                limit: int, *, as_: str = GATEWAY) -> list[rpc.Post]:
    """Every page of the author's posts, following next_cursor to the end."""
    out: list[rpc.Post] = []
    cursor = ""
    for _ in range(1_000):
        async def page(c: str = cursor) -> rpc.ListAuthorPostsResponse:
            return await stub.ListAuthorPosts(
                rpc.ListAuthorPostsRequest(author_id=author, cursor=c, limit=limit),
                metadata=signed(auth, "reader", as_=as_), timeout=10)

        answer = await until(page, 30)
        assert len(answer.posts) <= limit
        out.extend(answer.posts)
        if not answer.next_cursor:
            return out
        cursor = answer.next_cursor
    raise AssertionError("pages never ended")


async def _pages_right(stub: rpc_grpc.ContentServiceAsyncStub, auth: DevServiceAuth,
                       posts: dict[str, rpc.Post]) -> None:
    for author in AUTHORS:
        for limit in (1, 3, 100):
            walked = await _walk(stub, auth, author, limit)
            assert [p.post_id for p in walked] == _newest_first(posts, author)
            for p in walked:
                p.ClearField("stats")  # the interactions' counts, read beside the post
            assert all(p == posts[p.post_id] for p in walked)  # the Post GetPost returns


def _stub(channel: grpc.aio.Channel) -> rpc_grpc.ContentServiceAsyncStub:
    return rpc_grpc.ContentServiceStub(channel)


async def test_pages_restart_and_rebuild_give_each_authors_posts_newest_first(
    start_content: StartContent, service_auth: DevServiceAuth, kafka_bootstrap: str,
    posts_topic: str, topic_suffix: str, tmp_path: Path,
) -> None:
    requests = _requests(per_partition=4)
    first = await start_content()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{first.port}") as channel:
        posts = await publish_all(_stub(channel), service_auth, requests)
        await _pages_right(_stub(channel), service_auth, posts)
        # An author nobody published for has an empty list, not an error.
        empty = await _stub(channel).ListAuthorPosts(
            rpc.ListAuthorPostsRequest(author_id=CREATORS[2]),
            metadata=signed(service_auth, "reader"), timeout=10)
        assert list(empty.posts) == [] and empty.next_cursor == ""
    await tailed(first, len(requests))
    await first.stop()
    # One transaction per post: each post is in each topic exactly once.
    assert await record_count(kafka_bootstrap, posts_topic) == len(posts)
    assert await record_count(
        kafka_bootstrap, f"{AUTHOR_POSTS.name}.{topic_suffix}") == len(posts)

    again = await start_content()
    assert again.replica.stats.last_restore_records == 0
    async with grpc.aio.insecure_channel(f"127.0.0.1:{again.port}") as channel:
        await _pages_right(_stub(channel), service_auth, posts)
    await again.stop()

    shutil.rmtree(tmp_path / "content-data")
    rebuilt = await start_content()
    # posts, author-posts and topic-posts (each post's one topic).
    assert rebuilt.replica.stats.last_restore_records == 3 * len(posts)
    assert rebuilt.replica.stats.indexed_new == len(posts)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{rebuilt.port}") as channel:
        await _pages_right(_stub(channel), service_auth, posts)


async def test_a_page_is_stable_while_newer_posts_arrive(
    start_content: StartContent, service_auth: DevServiceAuth,
) -> None:
    # A cursor names the last post returned: posts published after the first page sort
    # before it, so the next page neither repeats nor skips anything.
    author = AUTHORS[0]
    service = await start_content()
    older = [r for r in _requests(per_partition=3) if r.creator_id == author]
    async with grpc.aio.insecure_channel(f"127.0.0.1:{service.port}") as channel:
        stub = _stub(channel)
        posts = await publish_all(stub, service_auth, older)
        first = await stub.ListAuthorPosts(
            rpc.ListAuthorPostsRequest(author_id=author, limit=2),
            metadata=signed(service_auth, "reader"), timeout=10)
        newer = [rpc.PublishPostRequest(request_id=f"newer-{i}", creator_id=author,
                                        kind=r.kind, body=f"newer {i}")
                 for i, r in enumerate(older[:3])]
        posts_after = await publish_all(stub, service_auth, newer)
        rest = await stub.ListAuthorPosts(
            rpc.ListAuthorPostsRequest(author_id=author, cursor=first.next_cursor, limit=100),
            metadata=signed(service_auth, "reader"), timeout=10)
        listed = [p.post_id for p in [*first.posts, *rest.posts]]
        assert listed == _newest_first(posts, author)
        head = await _walk(stub, service_auth, author, 100)
        assert [p.post_id for p in head] == _newest_first(posts | posts_after, author)


@pytest.mark.parametrize(("cursor", "limit"), [
    ("not a cursor!", 10), ("A" * 65, 10), ("AAAA", 10), ("", 101),
    ("AQAAAAAAAAAAcG9zdF94eXo", 10),  # well-formed base64 of a cursor with a foreign post id
])
async def test_bad_cursors_and_limits_are_invalid_argument(
    start_content: StartContent, service_auth: DevServiceAuth, cursor: str, limit: int,
) -> None:
    service = await start_content()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{service.port}") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await _stub(channel).ListAuthorPosts(
                rpc.ListAuthorPostsRequest(author_id=AUTHORS[0], cursor=cursor, limit=limit),
                metadata=signed(service_auth, "reader"), timeout=10)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await _stub(channel).ListAuthorPosts(
                rpc.ListAuthorPostsRequest(author_id=""),
                metadata=signed(service_auth, "reader"), timeout=10)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def _both_serving(replicas: list[RunningContent], timeout_s: float = 60) -> None:
    """Until the group has settled: both SERVING, every partition owned by one of them."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    addrs = {f"127.0.0.1:{r.port}" for r in replicas}
    while True:
        owned = [r.replica.ownership.local for r in replicas]
        if (all(r.replica.ownership.serving for r in replicas)
                and set().union(*owned) == set(range(POSTS.partitions))
                and not owned[0] & owned[1]
                and all(set(r.replica.ownership.owners.values()) == addrs for r in replicas)):
            return
        assert asyncio.get_running_loop().time() < deadline, [r.replica.stats for r in replicas]
        await asyncio.sleep(0.05)


async def test_two_replicas_the_authors_owner_answers_and_the_other_forwards(
    start_content: StartContent, service_auth: DevServiceAuth, tmp_path: Path,
) -> None:
    a = await start_content(data_dir=tmp_path / "a")
    b = await start_content(data_dir=tmp_path / "b")
    await _both_serving([a, b])
    requests = _requests(per_partition=3)
    async with (grpc.aio.insecure_channel(f"127.0.0.1:{a.port}") as ch_a,
                grpc.aio.insecure_channel(f"127.0.0.1:{b.port}") as ch_b):
        stubs = {a.port: _stub(ch_a), b.port: _stub(ch_b)}
        # Published through both replicas: each forwards what it does not own.
        posts = await publish_all(stubs[a.port], service_auth, requests[::2])
        posts |= await publish_all(stubs[b.port], service_auth, requests[1::2])
        for author in AUTHORS:
            owner_addr = a.replica.ownership.owners[partition_for(author, POSTS.partitions)]
            for replica in (a, b):
                stub = stubs[replica.port]
                # Through either replica (the other forwards), every page is right.
                walked = await _walk(stub, service_auth, author, 2)
                assert [p.post_id for p in walked] == _newest_first(posts, author)
                # A call content itself makes is never forwarded: only the owner answers it.
                request = rpc.ListAuthorPostsRequest(author_id=author, limit=100)
                meta = signed(service_auth, "reader", as_=CONTENT)
                if f"127.0.0.1:{replica.port}" == owner_addr:
                    own = await stub.ListAuthorPosts(request, metadata=meta, timeout=10)
                    assert [p.post_id for p in own.posts] == _newest_first(posts, author)
                else:
                    with pytest.raises(grpc.aio.AioRpcError) as err:
                        await stub.ListAuthorPosts(request, metadata=meta, timeout=10)
                    assert err.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_concurrent_publishes_share_transactions_and_each_lands_once_in_each_topic(
    start_content: StartContent, service_auth: DevServiceAuth, kafka_bootstrap: str,
    posts_topic: str, topic_suffix: str,
) -> None:
    # Publishes racing on the same partitions are committed together (group commit); each
    # still lands exactly once in both topics and in its author's list.
    service = await start_content()
    requests = _requests(per_partition=10)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{service.port}") as channel:
        stub = _stub(channel)
        answers = await asyncio.gather(*(stub.PublishPost(
            r, metadata=signed(service_auth, r.creator_id), timeout=30) for r in requests))
        posts = {a.post.post_id: a.post for a in answers}
        assert len(posts) == len(requests)
        await _pages_right(stub, service_auth, posts)
    assert await record_count(kafka_bootstrap, posts_topic) == len(posts)
    assert await record_count(
        kafka_bootstrap, f"{AUTHOR_POSTS.name}.{topic_suffix}") == len(posts)
