"""Edits, revisions and deletion of posts through real replicas, the real broker, RocksDB.

An article published with an XSS payload is served with safe HTML; its author edits it
(revision 2 shown, both revisions listed, a stale expected revision refused, a retried edit
not repeated); others cannot edit, delete or read its history; a deleted post is gone for
everyone but its author and operators and leaves the author's list; a store rebuilt from the
topics answers exactly as the live one did; with two replicas, a call landing on the
replica that does not own the post is forwarded to the one that does.
"""

from __future__ import annotations

import shutil
from collections.abc import Awaitable
from pathlib import Path

import grpc
import pytest
from content_harness import CREATORS, StartContent, signed, until

from planet.content.v1 import content_service_pb2 as rpc
from planet.content.v1 import content_service_pb2_grpc as rpc_grpc
from planet.content.v1 import events_pb2 as ev
from planet.content.v1 import post_lifecycle_pb2 as lc
from planet.content.v1 import post_lifecycle_pb2_grpc as lc_grpc
from planetkit.kafka.partitioning import partition_for
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_identities import CONTENT
from planetkit.topics import POSTS
from services.content.domain.ids import post_id_for
from tests.unit.content.safe_html import unsafe_parts

pytestmark = pytest.mark.kafka
ALICE, BOB = CREATORS[0], CREATORS[1]
XSS = ('# Title\n\n<script>alert(1)</script> [x](javascript:alert(1)) '
       '![i](data:image/png;base64,AAAA) <img src=x onerror=alert(1)>')


def _ops(auth: DevServiceAuth, user: str = "op_1") -> tuple[tuple[str, str]]:
    return auth.metadata(CONTENT, user, ("operator",))


async def _article(stub: rpc_grpc.ContentServiceAsyncStub, auth: DevServiceAuth,
                   request_id: str = "art-1", author: str = ALICE) -> rpc.Post:
    async def call() -> rpc.PublishPostResponse:
        return await stub.PublishPost(rpc.PublishPostRequest(
            request_id=request_id, creator_id=author, kind=ev.POST_KIND_ARTICLE,
            title="Range", body=XSS, summary="why SOL", hashtags=["sol"],
            cover_image_url="https://cdn.example.com/c.png"),
            metadata=signed(auth, author), timeout=10)
    return (await until(call, 30)).post


async def _snapshot(stub: rpc_grpc.ContentServiceAsyncStub,
                    life: lc_grpc.PostLifecycleServiceAsyncStub, auth: DevServiceAuth,
                    post_ids: list[str]) -> list[object]:
    """What the author sees: each post, its revisions, and the author's list."""
    out: list[object] = []
    for post_id in post_ids:
        async def get(p: str = post_id) -> rpc.Post:
            return await stub.GetPost(rpc.GetPostRequest(post_id=p),
                                      metadata=signed(auth, ALICE), timeout=10)

        async def history(p: str = post_id) -> lc.ListPostRevisionsResponse:
            return await life.ListPostRevisions(lc.ListPostRevisionsRequest(post_id=p),
                                                metadata=signed(auth, ALICE), timeout=10)

        out.append(await until(get, 30))
        out.append(await until(history, 30))

    async def listed() -> rpc.ListAuthorPostsResponse:
        return await stub.ListAuthorPosts(rpc.ListAuthorPostsRequest(author_id=ALICE, limit=100),
                                          metadata=signed(auth, "reader"), timeout=10)

    out.append(await until(listed, 30))
    return out


async def _code(call: Awaitable[object]) -> grpc.StatusCode:
    try:
        await call
    except grpc.aio.AioRpcError as exc:
        return exc.code()
    raise AssertionError("the call succeeded")


async def test_edit_revisions_delete_and_a_rebuilt_store_answers_the_same(
    start_content: StartContent, service_auth: DevServiceAuth, tmp_path: Path,
) -> None:
    auth = service_auth
    service = await start_content()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{service.port}") as channel:
        stub = rpc_grpc.ContentServiceStub(channel)
        life = lc_grpc.PostLifecycleServiceStub(channel)
        post = await _article(stub, auth)
        assert post.revision == 1 and post.summary == "why SOL"
        assert unsafe_parts(post.body_html) == []
        assert "<script" not in post.body_html  # shown as text, escaped
        assert "<h1>Title</h1>" in post.body_html
        pid = post.post_id

        # Only the author edits, deletes, and reads the history.
        assert await _code(life.EditPost(lc.EditPostRequest(
            post_id=pid, editor_id=BOB, body="mine now"),
            metadata=signed(auth, BOB), timeout=10)) == grpc.StatusCode.PERMISSION_DENIED
        # ... and the gateway cannot edit for another user than the one it calls for.
        assert await _code(life.EditPost(lc.EditPostRequest(
            post_id=pid, editor_id=ALICE, body="x"),
            metadata=signed(auth, BOB), timeout=10)) == grpc.StatusCode.PERMISSION_DENIED
        assert await _code(life.ListPostRevisions(lc.ListPostRevisionsRequest(post_id=pid),
                                                  metadata=signed(auth, BOB), timeout=10)
                           ) == grpc.StatusCode.NOT_FOUND

        edit = lc.EditPostRequest(post_id=pid, editor_id=ALICE, request_id="e-1",
                                  expected_revision=1, body="**better** [ok](https://x.example)")
        second = await life.EditPost(edit, metadata=signed(auth, ALICE), timeout=10)
        assert (second.revision, second.title, second.body) == (
            2, "Range", "**better** [ok](https://x.example)")
        assert second.body_html == ('<p><strong>better</strong> <a href="https://x.example" '
                                    'rel="nofollow noopener ugc">ok</a></p>\n')
        assert second.edited_at_ms > 0 and second.summary == "why SOL"
        # A retry of the same edit answers the post, making no third revision.
        again = await life.EditPost(edit, metadata=signed(auth, ALICE), timeout=10)
        assert again == second
        # Another tab still at revision 1 is refused.
        assert await _code(life.EditPost(lc.EditPostRequest(
            post_id=pid, editor_id=ALICE, request_id="e-2", expected_revision=1, title="t2"),
            metadata=signed(auth, ALICE), timeout=10)) == grpc.StatusCode.ABORTED
        # An edit breaking a publishing rule is refused like a publish.
        assert await _code(life.EditPost(lc.EditPostRequest(
            post_id=pid, editor_id=ALICE, request_id="e-3", cover_image_url="http://x.example/c"),
            metadata=signed(auth, ALICE), timeout=10)) == grpc.StatusCode.INVALID_ARGUMENT
        read = await stub.GetPost(rpc.GetPostRequest(post_id=pid),
                                  metadata=signed(auth, BOB), timeout=10)
        read.ClearField("stats")  # GetPost adds the interaction counts; EditPost does not
        assert read == second

        history = await life.ListPostRevisions(lc.ListPostRevisionsRequest(post_id=pid),
                                               metadata=signed(auth, ALICE), timeout=10)
        assert [r.revision for r in history.revisions] == [2, 1]
        assert history.revisions[1].body == XSS and history.next_before_revision == 0
        paged = await life.ListPostRevisions(lc.ListPostRevisionsRequest(post_id=pid, limit=1),
                                             metadata=_ops(auth), timeout=10)
        assert [r.revision for r in paged.revisions] == [2]
        assert paged.next_before_revision == 2
        rest = await life.ListPostRevisions(
            lc.ListPostRevisionsRequest(post_id=pid, limit=1, before_revision=2),
            metadata=_ops(auth), timeout=10)
        assert [r.revision for r in rest.revisions] == [1] and rest.next_before_revision == 0

        kept = await _article(stub, auth, "art-2")
        assert await _code(life.DeletePost(lc.DeletePostRequest(post_id=pid, deleter_id=BOB),
                                           metadata=signed(auth, BOB), timeout=10)
                           ) == grpc.StatusCode.PERMISSION_DENIED
        deleted = await life.DeletePost(lc.DeletePostRequest(post_id=pid, deleter_id=ALICE),
                                        metadata=signed(auth, ALICE), timeout=10)
        assert deleted.deleted_at_ms > 0 and deleted.revision == 2
        # Deleting again answers the same deleted post.
        assert await life.DeletePost(lc.DeletePostRequest(post_id=pid, deleter_id=ALICE),
                                     metadata=signed(auth, ALICE), timeout=10) == deleted
        assert await _code(stub.GetPost(rpc.GetPostRequest(post_id=pid),
                                        metadata=signed(auth, BOB), timeout=10)
                           ) == grpc.StatusCode.NOT_FOUND
        for md in (signed(auth, ALICE), _ops(auth)):
            read = await stub.GetPost(rpc.GetPostRequest(post_id=pid), metadata=md, timeout=10)
            read.ClearField("stats")
            assert read == deleted
        # A deleted post is not edited, and a non-author cannot tell it ever existed.
        assert await _code(life.EditPost(lc.EditPostRequest(
            post_id=pid, editor_id=ALICE, request_id="e-4", title="back"),
            metadata=signed(auth, ALICE), timeout=10)) == grpc.StatusCode.ABORTED
        assert await _code(life.EditPost(lc.EditPostRequest(
            post_id=pid, editor_id=BOB, title="x"),
            metadata=signed(auth, BOB), timeout=10)) == grpc.StatusCode.NOT_FOUND
        listed = await stub.ListAuthorPosts(rpc.ListAuthorPostsRequest(author_id=ALICE),
                                            metadata=signed(auth, ALICE), timeout=10)
        assert [p.post_id for p in listed.posts] == [kept.post_id]
        live = await _snapshot(stub, life, auth, [pid, kept.post_id])
    await service.stop()

    # Restart: same answers from the stores as they were.
    restarted = await start_content()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{restarted.port}") as channel:
        assert await _snapshot(rpc_grpc.ContentServiceStub(channel),
                               lc_grpc.PostLifecycleServiceStub(channel), auth,
                               [pid, kept.post_id]) == live
    await restarted.stop()
    # Rebuilt from the topics alone: the same answers.
    shutil.rmtree(tmp_path / "content-data")
    rebuilt = await start_content()
    assert rebuilt.replica.stats.last_restore_records > 0
    async with grpc.aio.insecure_channel(f"127.0.0.1:{rebuilt.port}") as channel:
        assert await _snapshot(rpc_grpc.ContentServiceStub(channel),
                               lc_grpc.PostLifecycleServiceStub(channel), auth,
                               [pid, kept.post_id]) == live


async def test_an_edit_on_the_replica_that_does_not_own_the_post_is_forwarded(
    start_content: StartContent, service_auth: DevServiceAuth,
) -> None:
    auth = service_auth
    first = await start_content(data_dir=None)
    second = await start_content(data_dir=None)
    # Wait until both serve (the group split the partitions between them).
    for service in (first, second):
        async with grpc.aio.insecure_channel(f"127.0.0.1:{service.port}") as channel:
            async def serving(c: grpc.aio.Channel = channel) -> rpc.ListAuthorPostsResponse:
                return await rpc_grpc.ContentServiceStub(c).ListAuthorPosts(
                    rpc.ListAuthorPostsRequest(author_id=ALICE),
                    metadata=signed(auth, "reader"), timeout=10)

            await until(serving, 60)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{first.port}") as channel:
        post = await _article(rpc_grpc.ContentServiceStub(channel), auth)
    partition = partition_for(post_id_for(ALICE, "art-1"), POSTS.partitions)
    other = first if partition not in first.replica.ownership.local else second
    assert partition not in other.replica.ownership.local
    async with grpc.aio.insecure_channel(f"127.0.0.1:{other.port}") as channel:
        life = lc_grpc.PostLifecycleServiceStub(channel)
        edited = await until(lambda: life.EditPost(lc.EditPostRequest(
            post_id=post.post_id, editor_id=ALICE, request_id="fwd", expected_revision=1,
            title="forwarded"), metadata=signed(auth, ALICE), timeout=10), 30)
        assert (edited.revision, edited.title) == (2, "forwarded")
        # The owner's refusals pass through the forwarding replica unchanged.
        assert await _code(life.EditPost(lc.EditPostRequest(
            post_id=post.post_id, editor_id=ALICE, request_id="fwd-2", expected_revision=1,
            title="stale"), metadata=signed(auth, ALICE), timeout=10)
        ) == grpc.StatusCode.ABORTED
        # A call signed by content itself (a forwarded one) is never forwarded again.
        assert await _code(life.EditPost(lc.EditPostRequest(
            post_id=post.post_id, editor_id=ALICE, title="loop"),
            metadata=auth.metadata(CONTENT, ALICE, as_=CONTENT), timeout=10)
        ) == grpc.StatusCode.UNAVAILABLE
