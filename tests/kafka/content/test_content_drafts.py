"""Drafts through real replicas, the real broker and RocksDB.

An author saves a draft (a retry answers the same one), updates it against its revision (a
second tab at an older revision is refused, a retried save is not repeated), lists and
resumes it; nobody else can read it or tell it exists; publishing validates it as an
article, answers the same post when repeated, and a publish whose DraftPublished was lost
(a crash after the post) answers the post the first attempt made; a restart answers the
same, and so does a store rebuilt from the topic alone. With two replicas, a call landing on
the replica that does not own the author's partition is forwarded to the one that does.
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
from planet.content.v1 import drafts_pb2 as dr
from planet.content.v1 import drafts_pb2_grpc as dr_grpc
from planet.content.v1 import events_pb2 as ev
from planetkit.kafka.partitioning import partition_for
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_identities import CONTENT
from planetkit.topics import DRAFTS
from services.content.domain.drafts import (
    MAX_DRAFTS_PER_AUTHOR,
    draft_from_pb,
    publish_request_id,
)
from services.content.domain.ids import post_id_for

pytestmark = pytest.mark.kafka
ALICE, BOB = CREATORS[0], CREATORS[1]


async def _code(call: Awaitable[object]) -> grpc.StatusCode:
    try:
        await call
    except grpc.aio.AioRpcError as exc:
        return exc.code()
    raise AssertionError("the call succeeded")


def _content(title: str = "", body: str = "", **more: object) -> dr.DraftContent:
    return dr.DraftContent(title=title, body=body, **more)  # type: ignore[arg-type]


async def _snapshot(stub: dr_grpc.DraftServiceAsyncStub, auth: DevServiceAuth,
                    draft_ids: list[str]) -> list[object]:
    """What the author sees: the list, then each draft."""
    listed = await until(lambda: stub.ListDrafts(dr.ListDraftsRequest(author_id=ALICE),
                                                 metadata=signed(auth, ALICE), timeout=10), 30)
    out: list[object] = [listed]
    for draft_id in draft_ids:
        out.append(await stub.GetDraft(dr.GetDraftRequest(author_id=ALICE, draft_id=draft_id),
                                       metadata=signed(auth, ALICE), timeout=10))
    return out


async def test_save_update_conflict_list_publish_and_a_rebuilt_store_answers_the_same(
    start_content: StartContent, service_auth: DevServiceAuth, tmp_path: Path,
) -> None:
    auth = service_auth
    me = signed(auth, ALICE)
    service = await start_content()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{service.port}") as channel:
        drafts = dr_grpc.DraftServiceStub(channel)
        posts = rpc_grpc.ContentServiceStub(channel)
        save = dr.SaveDraftRequest(author_id=ALICE, request_id="d-1",
                                   content=_content(body="# Range\n\n<script>x</script>"))
        first = await until(lambda: drafts.SaveDraft(save, metadata=me, timeout=10), 30)
        assert first.revision == 1 and first.content.title == ""  # incomplete is fine
        assert "<h1>Range</h1>" in first.body_html and "<script>" not in first.body_html
        # A retried create answers the same draft.
        assert await drafts.SaveDraft(save, metadata=me, timeout=10) == first
        did = first.draft_id

        # Autosave: revision 1 -> 2; a second tab still at 1 is refused; a retried save of
        # revision 2 (its answer lost) answers revision 2 without making a third.
        update = dr.UpdateDraftRequest(author_id=ALICE, draft_id=did, expected_revision=1,
                                       content=_content(body="SOL *range*"))
        second = await drafts.UpdateDraft(update, metadata=me, timeout=10)
        assert (second.revision, second.content.body) == (2, "SOL *range*")
        assert second.created_at_ms == first.created_at_ms
        assert await drafts.UpdateDraft(update, metadata=me, timeout=10) == second
        assert await _code(drafts.UpdateDraft(dr.UpdateDraftRequest(
            author_id=ALICE, draft_id=did, expected_revision=1, content=_content(body="tab 2")),
            metadata=me, timeout=10)) == grpc.StatusCode.ABORTED
        # A save naming no revision is refused: it could overwrite another tab's.
        assert await _code(drafts.UpdateDraft(dr.UpdateDraftRequest(
            author_id=ALICE, draft_id=did, content=_content(body="blind")),
            metadata=me, timeout=10)) == grpc.StatusCode.INVALID_ARGUMENT
        # A save breaking an article's limits is refused.
        assert await _code(drafts.UpdateDraft(dr.UpdateDraftRequest(
            author_id=ALICE, draft_id=did, expected_revision=2,
            content=_content(cover_image_url="http://x.example/c.png")),
            metadata=me, timeout=10)) == grpc.StatusCode.INVALID_ARGUMENT

        # Private: another user cannot read, change or tell it exists; nor can an operator;
        # nor can a gateway call made for someone else than the author it names.
        bob = signed(auth, BOB)
        for call in (drafts.GetDraft(dr.GetDraftRequest(author_id=BOB, draft_id=did),
                                     metadata=bob, timeout=10),
                     drafts.DiscardDraft(dr.DiscardDraftRequest(author_id=BOB, draft_id=did),
                                         metadata=bob, timeout=10),
                     drafts.PublishDraft(dr.PublishDraftRequest(author_id=BOB, draft_id=did),
                                         metadata=bob, timeout=10),
                     drafts.UpdateDraft(dr.UpdateDraftRequest(
                         author_id=BOB, draft_id=did, expected_revision=2,
                         content=_content(title="mine")), metadata=bob, timeout=10)):
            assert await _code(call) == grpc.StatusCode.NOT_FOUND
        assert await _code(drafts.GetDraft(
            dr.GetDraftRequest(author_id="op_1", draft_id=did),
            metadata=auth.metadata(CONTENT, "op_1", ("operator",)), timeout=10)
        ) == grpc.StatusCode.NOT_FOUND
        assert await _code(drafts.GetDraft(dr.GetDraftRequest(author_id=ALICE, draft_id=did),
                                           metadata=signed(auth, BOB), timeout=10)
                           ) == grpc.StatusCode.PERMISSION_DENIED
        assert await _code(drafts.GetDraft(dr.GetDraftRequest(author_id=ALICE, draft_id="x"),
                                           metadata=me, timeout=10)
                           ) == grpc.StatusCode.INVALID_ARGUMENT
        listed = await drafts.ListDrafts(dr.ListDraftsRequest(author_id=BOB),
                                         metadata=signed(auth, BOB), timeout=10)
        assert list(listed.drafts) == []

        # More drafts: listed most recently updated first, bodies left out.
        other = await drafts.SaveDraft(dr.SaveDraftRequest(
            author_id=ALICE, request_id="d-2", content=_content(title="Second", body="b")),
            metadata=me, timeout=10)
        lost = await drafts.SaveDraft(dr.SaveDraftRequest(
            author_id=ALICE, request_id="d-3", content=_content(title="Crash", body="c")),
            metadata=me, timeout=10)
        listed = await drafts.ListDrafts(dr.ListDraftsRequest(author_id=ALICE), metadata=me,
                                         timeout=10)
        assert [d.draft_id for d in listed.drafts] == [lost.draft_id, other.draft_id, did]
        assert all(d.content.body == "" and d.body_html == "" for d in listed.drafts)
        assert listed.drafts[0].content.title == "Crash"

        # Publishing validates it as an article: a title is required.
        assert await _code(drafts.PublishDraft(dr.PublishDraftRequest(
            author_id=ALICE, draft_id=did), metadata=me, timeout=10)
        ) == grpc.StatusCode.INVALID_ARGUMENT
        third = await drafts.UpdateDraft(dr.UpdateDraftRequest(
            author_id=ALICE, draft_id=did, expected_revision=2,
            content=_content(title="Why SOL", body="SOL *range*", hashtags=["sol"])),
            metadata=me, timeout=10)
        assert third.revision == 3
        assert await _code(drafts.PublishDraft(dr.PublishDraftRequest(
            author_id=ALICE, draft_id=did, expected_revision=2), metadata=me, timeout=10)
        ) == grpc.StatusCode.ABORTED
        post = await drafts.PublishDraft(dr.PublishDraftRequest(
            author_id=ALICE, draft_id=did, expected_revision=3), metadata=me, timeout=10)
        assert (post.kind, post.title, post.creator_id) == (ev.POST_KIND_ARTICLE, "Why SOL", ALICE)
        assert post.post_id == post_id_for(ALICE, publish_request_id(draft_from_pb(third)))
        # Publishing again answers the same post; the draft names it and leaves the list.
        again = await drafts.PublishDraft(dr.PublishDraftRequest(author_id=ALICE, draft_id=did),
                                          metadata=me, timeout=10)
        again.ClearField("stats")
        assert again == post
        resumed = await drafts.GetDraft(dr.GetDraftRequest(author_id=ALICE, draft_id=did),
                                        metadata=me, timeout=10)
        assert resumed.published_post_id == post.post_id and resumed.published_at_ms > 0
        assert await _code(drafts.UpdateDraft(dr.UpdateDraftRequest(
            author_id=ALICE, draft_id=did, expected_revision=3, content=_content(title="x")),
            metadata=me, timeout=10)) == grpc.StatusCode.ABORTED
        read = await posts.GetPost(rpc.GetPostRequest(post_id=post.post_id),
                                   metadata=signed(auth, BOB), timeout=10)
        assert read.title == "Why SOL"

        # A crash between the post and DraftPublished: the post exists (made with the
        # derived request id), the draft is not marked. Publishing again answers that post.
        crashed = await posts.PublishPost(rpc.PublishPostRequest(
            request_id=publish_request_id(draft_from_pb(lost)), creator_id=ALICE,
            kind=ev.POST_KIND_ARTICLE, title="Crash", body="c"), metadata=me, timeout=10)
        retried = await drafts.PublishDraft(dr.PublishDraftRequest(
            author_id=ALICE, draft_id=lost.draft_id), metadata=me, timeout=10)
        assert retried.post_id == crashed.post.post_id
        mine = await posts.ListAuthorPosts(rpc.ListAuthorPostsRequest(author_id=ALICE, limit=100),
                                           metadata=me, timeout=10)
        assert sorted(p.post_id for p in mine.posts) == sorted({post.post_id, retried.post_id})

        # Discard: gone from the list and from reads; again is a success; a retried create
        # does not bring it back.
        await drafts.DiscardDraft(dr.DiscardDraftRequest(author_id=ALICE,
                                                         draft_id=other.draft_id),
                                  metadata=me, timeout=10)
        await drafts.DiscardDraft(dr.DiscardDraftRequest(author_id=ALICE,
                                                         draft_id=other.draft_id),
                                  metadata=me, timeout=10)
        assert await _code(drafts.GetDraft(dr.GetDraftRequest(
            author_id=ALICE, draft_id=other.draft_id), metadata=me, timeout=10)
        ) == grpc.StatusCode.NOT_FOUND
        assert await _code(drafts.SaveDraft(dr.SaveDraftRequest(
            author_id=ALICE, request_id="d-2", content=_content(title="again")),
            metadata=me, timeout=10)) == grpc.StatusCode.NOT_FOUND
        # A published draft is not discarded (its post is deleted as a post).
        assert await _code(drafts.DiscardDraft(dr.DiscardDraftRequest(
            author_id=ALICE, draft_id=did), metadata=me, timeout=10)
        ) == grpc.StatusCode.ABORTED
        kept = await drafts.SaveDraft(dr.SaveDraftRequest(
            author_id=ALICE, request_id="d-4", content=_content(title="Kept")),
            metadata=me, timeout=10)
        listed = await drafts.ListDrafts(dr.ListDraftsRequest(author_id=ALICE), metadata=me,
                                         timeout=10)
        assert [d.draft_id for d in listed.drafts] == [kept.draft_id]
        ids = [did, lost.draft_id, kept.draft_id]
        live = await _snapshot(drafts, auth, ids)
    await service.stop()

    # Restart: the same answers from the stores as they were.
    restarted = await start_content()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{restarted.port}") as channel:
        assert await _snapshot(dr_grpc.DraftServiceStub(channel), auth, ids) == live
    await restarted.stop()
    # Rebuilt from the topic alone: the same answers.
    shutil.rmtree(tmp_path / "content-data")
    rebuilt = await start_content()
    assert rebuilt.replica.stats.last_restore_records > 0
    async with grpc.aio.insecure_channel(f"127.0.0.1:{rebuilt.port}") as channel:
        assert await _snapshot(dr_grpc.DraftServiceStub(channel), auth, ids) == live


async def test_an_author_keeps_a_bounded_number_of_drafts(
    start_content: StartContent, service_auth: DevServiceAuth,
) -> None:
    me = signed(service_auth, BOB)
    service = await start_content(data_dir=None)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{service.port}") as channel:
        drafts = dr_grpc.DraftServiceStub(channel)
        for i in range(MAX_DRAFTS_PER_AUTHOR):
            await until(lambda i=i: drafts.SaveDraft(dr.SaveDraftRequest(  # type: ignore[misc]
                author_id=BOB, request_id=f"n-{i}", content=_content(title=f"{i}")),
                metadata=me, timeout=10), 30)
        refused = dr.SaveDraftRequest(author_id=BOB, request_id="one-more",
                                      content=_content(title="x"))
        assert await _code(drafts.SaveDraft(refused, metadata=me, timeout=10)
                           ) == grpc.StatusCode.FAILED_PRECONDITION
        listed = await drafts.ListDrafts(dr.ListDraftsRequest(author_id=BOB), metadata=me,
                                         timeout=10)
        assert len(listed.drafts) == MAX_DRAFTS_PER_AUTHOR
        # Discarding one makes room.
        await drafts.DiscardDraft(dr.DiscardDraftRequest(
            author_id=BOB, draft_id=listed.drafts[-1].draft_id), metadata=me, timeout=10)
        assert (await drafts.SaveDraft(refused, metadata=me, timeout=10)).revision == 1


async def test_a_draft_call_on_the_replica_that_does_not_own_the_author_is_forwarded(
    start_content: StartContent, service_auth: DevServiceAuth,
) -> None:
    auth = service_auth
    me = signed(auth, ALICE)
    first = await start_content(data_dir=None)
    second = await start_content(data_dir=None)
    for service in (first, second):
        async with grpc.aio.insecure_channel(f"127.0.0.1:{service.port}") as channel:
            async def serving(c: grpc.aio.Channel = channel) -> dr.ListDraftsResponse:
                return await dr_grpc.DraftServiceStub(c).ListDrafts(
                    dr.ListDraftsRequest(author_id=ALICE), metadata=me, timeout=10)

            await until(serving, 60)
    partition = partition_for(ALICE, DRAFTS.partitions)

    def other() -> int:
        owner = first if partition in first.replica.ownership.local else second
        return (second if owner is first else first).port

    async with grpc.aio.insecure_channel(f"127.0.0.1:{other()}") as channel:
        drafts = dr_grpc.DraftServiceStub(channel)
        saved = await until(lambda: drafts.SaveDraft(dr.SaveDraftRequest(
            author_id=ALICE, request_id="fwd", content=_content(title="Fwd", body="x")),
            metadata=me, timeout=10), 30)
        # The owner's refusals pass through the forwarding replica unchanged.
        assert await _code(drafts.UpdateDraft(dr.UpdateDraftRequest(
            author_id=ALICE, draft_id=saved.draft_id, expected_revision=7,
            content=_content(title="stale")), metadata=me, timeout=10)
        ) == grpc.StatusCode.ABORTED
        assert await _code(drafts.GetDraft(dr.GetDraftRequest(
            author_id=BOB, draft_id=saved.draft_id), metadata=signed(auth, BOB), timeout=10)
        ) == grpc.StatusCode.NOT_FOUND
        post = await until(lambda: drafts.PublishDraft(dr.PublishDraftRequest(
            author_id=ALICE, draft_id=saved.draft_id), metadata=me, timeout=10), 30)
        assert post.title == "Fwd"
        # A call signed by content itself (a forwarded one) is never forwarded again.
        assert await _code(drafts.ListDrafts(
            dr.ListDraftsRequest(author_id=ALICE),
            metadata=auth.metadata(CONTENT, ALICE, as_=CONTENT), timeout=10)
        ) == grpc.StatusCode.UNAVAILABLE
    for service in (first, second):
        async with grpc.aio.insecure_channel(f"127.0.0.1:{service.port}") as channel:
            got = await rpc_grpc.ContentServiceStub(channel).GetPost(
                rpc.GetPostRequest(post_id=post.post_id), metadata=me, timeout=10)
            assert got.title == "Fwd"
