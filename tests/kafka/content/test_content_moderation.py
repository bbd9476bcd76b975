"""Reports, removals and appeals through real content replicas, the real broker, RocksDB.

Readers report a post and a comment (a repeat answers the first report, one's own item is
refused); operators see the open reports grouped per item, oldest first, a page at a time;
confirming removes the post (NOT_FOUND for everyone but its author and operators, gone from
the author's list and the topic page, no new interactions), dismissing keeps the comment;
the author appeals once (a second appeal is refused, a retry answers the first); an upheld
appeal restores the post everywhere; a removed comment reads as a tombstone in its thread;
a store rebuilt from the topics answers exactly as the live one; with two replicas the queue
spans both and a decision on the replica that does not own the post is forwarded.
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
from planet.content.v1 import interactions_pb2 as ipb
from planet.content.v1 import interactions_pb2_grpc as ipb_grpc
from planet.content.v1 import reports_pb2 as rp
from planet.content.v1 import reports_pb2_grpc as rp_grpc
from planet.content.v1 import topics_pb2 as tpb
from planet.content.v1 import topics_pb2_grpc as tpb_grpc
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_identities import CONTENT

pytestmark = pytest.mark.kafka
ALICE, BOB, CAROL = CREATORS
OP = "op_1"


def _ops(auth: DevServiceAuth) -> tuple[tuple[str, str]]:
    return auth.metadata(CONTENT, OP, ("operator",))


async def _code(call: Awaitable[object]) -> grpc.StatusCode:
    try:
        await call
    except grpc.aio.AioRpcError as exc:
        return exc.code()
    raise AssertionError("the call succeeded")


class Stubs:
    """The services of one replica."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.content = rpc_grpc.ContentServiceStub(channel)
        self.reports = rp_grpc.ReportServiceStub(channel)
        self.acts = ipb_grpc.InteractionServiceStub(channel)
        self.topics = tpb_grpc.TopicServiceStub(channel)


async def _snapshot(s: Stubs, auth: DevServiceAuth, post_id: str, comment_id: str
                    ) -> list[object]:
    """Everything moderation changes, as each party sees it."""
    out: list[object] = []
    for item in (post_id, comment_id):
        out.append(await until(lambda i=item: s.reports.GetModeration(  # type: ignore[misc]
            rp.GetModerationRequest(item_id=i), metadata=_ops(auth), timeout=10), 30))
    for who in (signed(auth, ALICE), _ops(auth), signed(auth, BOB)):
        got = await until(lambda w=who: s.content.GetPost(  # type: ignore[misc]
            rpc.GetPostRequest(post_id=post_id), metadata=w, timeout=10), 30)
        out.append(got)
    thread = await s.acts.ListComments(ipb.ListCommentsRequest(post_id=post_id),
                                       metadata=signed(auth, BOB), timeout=10)
    out.append(thread)
    listed = await s.content.ListAuthorPosts(rpc.ListAuthorPostsRequest(author_id=ALICE),
                                             metadata=signed(auth, "reader"), timeout=10)
    out.append([p.post_id for p in listed.posts])
    page = await s.topics.ListTopicPosts(tpb.ListTopicPostsRequest(topic="sol"),
                                         metadata=signed(auth, "reader"), timeout=10)
    out.append([p.post.post_id for p in page.posts])
    for queue in (rp.QUEUE_KIND_REPORTS, rp.QUEUE_KIND_APPEALS):
        out.append(await s.reports.ListQueue(rp.ListQueueRequest(queue=queue),
                                             metadata=_ops(auth), timeout=10))
    return out


async def test_report_remove_appeal_restore_and_a_rebuilt_store_answers_the_same(
    start_content: StartContent, service_auth: DevServiceAuth, tmp_path: Path,
) -> None:
    auth = service_auth
    service = await start_content()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{service.port}") as channel:
        s = Stubs(channel)
        post = (await until(lambda: s.content.PublishPost(rpc.PublishPostRequest(
            request_id="p-1", creator_id=ALICE, kind=ev.POST_KIND_SHORT, body="buy my coin",
            hashtags=["sol"]), metadata=signed(auth, ALICE), timeout=10), 30)).post
        kept = (await s.content.PublishPost(rpc.PublishPostRequest(
            request_id="p-2", creator_id=ALICE, kind=ev.POST_KIND_SHORT, body="fine",
            hashtags=["sol"]), metadata=signed(auth, ALICE), timeout=10)).post
        pid = post.post_id
        comment = await s.acts.PostComment(ipb.PostCommentRequest(
            request_id="c-1", user_id=CAROL, post_id=pid, text="rude words"),
            metadata=signed(auth, CAROL), timeout=10)
        cid = comment.comment_id
        await s.acts.PostComment(ipb.PostCommentRequest(
            request_id="c-2", user_id=BOB, post_id=pid, parent_comment_id=cid, text="why"),
            metadata=signed(auth, BOB), timeout=10)
        lone = await s.acts.PostComment(ipb.PostCommentRequest(
            request_id="c-3", user_id=CAROL, post_id=pid, text="more rude words"),
            metadata=signed(auth, CAROL), timeout=10)

        # Reports: one per reporter and item; not one's own; not by another user's name.
        report = rp.ReportItemRequest(request_id="r-1", reporter_id=BOB, item_id=pid,
                                      reason=rp.POLICY_REASON_SCAM, detail="a pump")
        first = await s.reports.ReportItem(report, metadata=signed(auth, BOB), timeout=10)
        assert first.created and first.report_id.startswith("rpt_")
        again = await s.reports.ReportItem(report, metadata=signed(auth, BOB), timeout=10)
        assert (again.report_id, again.created) == (first.report_id, False)
        assert await _code(s.reports.ReportItem(rp.ReportItemRequest(
            reporter_id=ALICE, item_id=pid, reason=rp.POLICY_REASON_SPAM),
            metadata=signed(auth, ALICE), timeout=10)) == grpc.StatusCode.PERMISSION_DENIED
        assert await _code(s.reports.ReportItem(report, metadata=signed(auth, CAROL),
                                                timeout=10)) == grpc.StatusCode.PERMISSION_DENIED
        assert await _code(s.reports.ReportItem(rp.ReportItemRequest(
            reporter_id=BOB, item_id=pid, reason=rp.POLICY_REASON_UNSPECIFIED),
            metadata=signed(auth, BOB), timeout=10)) == grpc.StatusCode.INVALID_ARGUMENT
        assert await _code(s.reports.ReportItem(rp.ReportItemRequest(
            reporter_id=BOB, item_id=pid, reason=rp.POLICY_REASON_SCAM, detail="x" * 1001),
            metadata=signed(auth, BOB), timeout=10)) == grpc.StatusCode.INVALID_ARGUMENT
        assert await _code(s.reports.ReportItem(rp.ReportItemRequest(
            reporter_id=BOB, item_id="post_" + "0" * 24, reason=rp.POLICY_REASON_SCAM),
            metadata=signed(auth, BOB), timeout=10)) == grpc.StatusCode.NOT_FOUND
        await s.reports.ReportItem(rp.ReportItemRequest(
            reporter_id=CAROL, item_id=pid, reason=rp.POLICY_REASON_MARKET_MANIPULATION),
            metadata=signed(auth, CAROL), timeout=10)
        await s.reports.ReportItem(rp.ReportItemRequest(
            reporter_id=BOB, item_id=cid, reason=rp.POLICY_REASON_HARASSMENT),
            metadata=signed(auth, BOB), timeout=10)

        # The queue: operators only, per item, oldest first, a page at a time.
        assert await _code(s.reports.ListQueue(rp.ListQueueRequest(),
                                               metadata=signed(auth, BOB), timeout=10)
                           ) == grpc.StatusCode.PERMISSION_DENIED
        queue = await s.reports.ListQueue(rp.ListQueueRequest(), metadata=_ops(auth),
                                          timeout=10)
        assert [(i.item_id, i.open_reports) for i in queue.items] == [(pid, 2), (cid, 1)]
        assert {r.reason for r in queue.items[0].reasons} == {
            rp.POLICY_REASON_SCAM, rp.POLICY_REASON_MARKET_MANIPULATION}
        assert queue.next_cursor == ""
        one = await s.reports.ListQueue(rp.ListQueueRequest(limit=1), metadata=_ops(auth),
                                        timeout=10)
        assert [i.item_id for i in one.items] == [pid] and one.next_cursor
        two = await s.reports.ListQueue(rp.ListQueueRequest(limit=1, cursor=one.next_cursor),
                                        metadata=_ops(auth), timeout=10)
        assert [i.item_id for i in two.items] == [cid] and two.next_cursor == ""
        assert await _code(s.reports.ListQueue(rp.ListQueueRequest(cursor="!!"),
                                               metadata=_ops(auth), timeout=10)
                           ) == grpc.StatusCode.INVALID_ARGUMENT

        # Decisions: operators only; confirm removes, dismiss keeps; a retry decides nothing.
        assert await _code(s.reports.DecideReports(rp.DecideReportsRequest(
            item_id=pid, operator_id=BOB, confirm=True, note="x"),
            metadata=signed(auth, BOB), timeout=10)) == grpc.StatusCode.PERMISSION_DENIED
        confirm = rp.DecideReportsRequest(item_id=pid, operator_id=OP, confirm=True,
                                          note="pump and dump", request_id="d-1")
        removed = await s.reports.DecideReports(confirm, metadata=_ops(auth), timeout=10)
        assert removed.removed_at_ms > 0 and removed.open_reports == 0
        assert removed.removal_reason == rp.POLICY_REASON_SCAM  # a tie: the lower number
        assert await s.reports.DecideReports(confirm, metadata=_ops(auth), timeout=10) == removed
        assert await _code(s.reports.DecideReports(rp.DecideReportsRequest(
            item_id=pid, operator_id=OP, confirm=True, note="again", request_id="d-2"),
            metadata=_ops(auth), timeout=10)) == grpc.StatusCode.ABORTED
        dismissed = await s.reports.DecideReports(rp.DecideReportsRequest(
            item_id=cid, operator_id=OP, confirm=False, note="banter"),
            metadata=_ops(auth), timeout=10)
        assert dismissed.removed_at_ms == 0 and dismissed.round == 1
        assert not (await s.reports.ListQueue(rp.ListQueueRequest(), metadata=_ops(auth),
                                              timeout=10)).items

        # Hidden like a deleted post from everyone but its author and operators.
        assert await _code(s.content.GetPost(rpc.GetPostRequest(post_id=pid),
                                             metadata=signed(auth, BOB), timeout=10)
                           ) == grpc.StatusCode.NOT_FOUND
        for md in (signed(auth, ALICE), _ops(auth)):
            got = await s.content.GetPost(rpc.GetPostRequest(post_id=pid), metadata=md,
                                          timeout=10)
            assert got.removed_at_ms == removed.removed_at_ms and got.moderation_version == 1
        listed = await s.content.ListAuthorPosts(rpc.ListAuthorPostsRequest(author_id=ALICE),
                                                 metadata=signed(auth, ALICE), timeout=10)
        assert [p.post_id for p in listed.posts] == [kept.post_id]
        page = await s.topics.ListTopicPosts(tpb.ListTopicPostsRequest(topic="sol"),
                                             metadata=signed(auth, "reader"), timeout=10)
        assert [p.post.post_id for p in page.posts] == [kept.post_id]
        # No interactions on it, no thread, no further report.
        assert await _code(s.acts.Like(ipb.LikeRequest(request_id="l", user_id=BOB,
                                                       item_id=pid),
                                       metadata=signed(auth, BOB), timeout=10)
                           ) == grpc.StatusCode.NOT_FOUND
        assert await _code(s.acts.ListComments(ipb.ListCommentsRequest(post_id=pid),
                                               metadata=signed(auth, BOB), timeout=10)
                           ) == grpc.StatusCode.NOT_FOUND
        assert await _code(s.reports.ReportItem(rp.ReportItemRequest(
            reporter_id=CAROL, item_id=pid, reason=rp.POLICY_REASON_SPAM),
            metadata=signed(auth, CAROL), timeout=10)) == grpc.StatusCode.NOT_FOUND
        # The author sees why, never who reported; others see nothing.
        mine = await s.reports.GetModeration(rp.GetModerationRequest(item_id=pid),
                                             metadata=signed(auth, ALICE), timeout=10)
        assert mine.removal_note == "pump and dump" and not mine.reasons
        assert await _code(s.reports.GetModeration(rp.GetModerationRequest(item_id=pid),
                                                   metadata=signed(auth, BOB), timeout=10)
                           ) == grpc.StatusCode.NOT_FOUND

        # Appeal: the author only, once (a retry answers the first).
        assert await _code(s.reports.AppealRemoval(rp.AppealRemovalRequest(
            item_id=pid, author_id=BOB, text="mine"), metadata=signed(auth, BOB), timeout=10)
        ) == grpc.StatusCode.NOT_FOUND
        appeal = rp.AppealRemovalRequest(item_id=pid, author_id=ALICE, text="it was a joke",
                                         request_id="a-1")
        pending = await s.reports.AppealRemoval(appeal, metadata=signed(auth, ALICE),
                                                timeout=10)
        assert pending.appeal == rp.APPEAL_STATE_PENDING
        again_state = await s.reports.AppealRemoval(appeal, metadata=signed(auth, ALICE),
                                                    timeout=10)
        assert again_state.appeal == rp.APPEAL_STATE_PENDING
        assert await _code(s.reports.AppealRemoval(rp.AppealRemovalRequest(
            item_id=pid, author_id=ALICE, text="please", request_id="a-2"),
            metadata=signed(auth, ALICE), timeout=10)) == grpc.StatusCode.ABORTED
        appeals = await s.reports.ListQueue(rp.ListQueueRequest(queue=rp.QUEUE_KIND_APPEALS),
                                            metadata=_ops(auth), timeout=10)
        assert [(i.item_id, i.appeal_text) for i in appeals.items] == [(pid, "it was a joke")]

        # Upheld: visible again everywhere.
        restored = await s.reports.DecideAppeal(rp.DecideAppealRequest(
            item_id=pid, operator_id=OP, uphold=True, note="satire", request_id="ad-1"),
            metadata=_ops(auth), timeout=10)
        assert restored.removed_at_ms == 0 and restored.appeal == rp.APPEAL_STATE_UPHELD
        assert restored.moderation_version == 2
        got = await s.content.GetPost(rpc.GetPostRequest(post_id=pid),
                                      metadata=signed(auth, BOB), timeout=10)
        assert got.removed_at_ms == 0
        listed = await s.content.ListAuthorPosts(rpc.ListAuthorPostsRequest(author_id=ALICE),
                                                 metadata=signed(auth, BOB), timeout=10)
        assert {p.post_id for p in listed.posts} == {pid, kept.post_id}
        page = await s.topics.ListTopicPosts(tpb.ListTopicPostsRequest(topic="sol"),
                                             metadata=signed(auth, "reader"), timeout=10)
        assert {p.post.post_id for p in page.posts} == {pid, kept.post_id}
        assert await _code(s.reports.AppealRemoval(rp.AppealRemovalRequest(
            item_id=pid, author_id=ALICE, text="more", request_id="a-3"),
            metadata=signed(auth, ALICE), timeout=10)) == grpc.StatusCode.ABORTED

        # Comments reported again (the next round) and removed, as a deletion leaves them: a
        # tombstone in its thread while it has replies, gone otherwise.
        for item in (cid, lone.comment_id):
            await s.reports.ReportItem(rp.ReportItemRequest(
                reporter_id=BOB, item_id=item, reason=rp.POLICY_REASON_HATE),
                metadata=signed(auth, BOB), timeout=10)
            gone = await s.reports.DecideReports(rp.DecideReportsRequest(
                item_id=item, operator_id=OP, confirm=True, note="slur"),
                metadata=_ops(auth), timeout=10)
            assert gone.removed_at_ms > 0 and gone.removal_reason == rp.POLICY_REASON_HATE
        thread = await s.acts.ListComments(ipb.ListCommentsRequest(post_id=pid),
                                           metadata=signed(auth, BOB), timeout=10)
        assert [(c.comment_id, c.text, c.deleted) for c in thread.comments] == [
            (cid, "", True)]
        assert await _code(s.acts.Like(ipb.LikeRequest(request_id="l2", user_id=BOB,
                                                       item_id=cid),
                                       metadata=signed(auth, BOB), timeout=10)
                           ) == grpc.StatusCode.NOT_FOUND
        live = await _snapshot(s, auth, pid, cid)
    await service.stop()

    # Rebuilt from the topics alone: the same answers.
    shutil.rmtree(tmp_path / "content-data")
    rebuilt = await start_content()
    assert rebuilt.replica.stats.last_restore_records > 0
    async with grpc.aio.insecure_channel(f"127.0.0.1:{rebuilt.port}") as channel:
        assert await _snapshot(Stubs(channel), auth, pid, cid) == live


async def test_the_queue_spans_replicas_and_decisions_are_forwarded(
    start_content: StartContent, service_auth: DevServiceAuth,
) -> None:
    auth = service_auth
    first = await start_content(data_dir=None)
    second = await start_content(data_dir=None)
    for service in (first, second):
        async with grpc.aio.insecure_channel(f"127.0.0.1:{service.port}") as channel:
            await until(lambda c=channel: rpc_grpc.ContentServiceStub(c).ListAuthorPosts(  # type: ignore[arg-type,misc]
                rpc.ListAuthorPostsRequest(author_id=ALICE), metadata=signed(auth, "reader"),
                timeout=10), 60)
    # Posts until both replicas own at least one of them.
    reported: list[str] = []
    owners: set[int] = set()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{first.port}") as channel:
        s = Stubs(channel)
        n = 0
        while len(owners) < 2 and n < 40:
            n += 1
            post = (await until(lambda i=n: s.content.PublishPost(rpc.PublishPostRequest(  # type: ignore[misc]
                request_id=f"q-{i}", creator_id=ALICE, kind=ev.POST_KIND_SHORT,
                body=f"post {i}"), metadata=signed(auth, ALICE), timeout=10), 30)).post
            partition = first.replica.ownership.partition_of(post.post_id)
            owners.add(0 if partition in first.replica.ownership.local else 1)
            await until(lambda p=post.post_id: s.reports.ReportItem(rp.ReportItemRequest(  # type: ignore[misc]
                reporter_id=BOB, item_id=p, reason=rp.POLICY_REASON_SPAM),
                metadata=signed(auth, BOB), timeout=10), 30)
            reported.append(post.post_id)
        assert owners == {0, 1}
    for service in (first, second):
        async with grpc.aio.insecure_channel(f"127.0.0.1:{service.port}") as channel:
            s = Stubs(channel)
            seen: list[str] = []
            cursor = ""
            while True:
                page = await until(lambda c=cursor, st=s: st.reports.ListQueue(  # type: ignore[misc]
                    rp.ListQueueRequest(limit=1, cursor=c), metadata=_ops(auth), timeout=10), 30)
                seen.extend(i.item_id for i in page.items)
                cursor = page.next_cursor
                if not cursor:
                    break
            assert seen == reported  # oldest first, across both replicas, no gap, no repeat
    # Every decision taken on the first replica, whichever owns the post.
    async with grpc.aio.insecure_channel(f"127.0.0.1:{first.port}") as channel:
        s = Stubs(channel)
        for post_id in reported:
            decided = await until(lambda p=post_id: s.reports.DecideReports(  # type: ignore[misc]
                rp.DecideReportsRequest(item_id=p, operator_id=OP, confirm=True, note="spam"),
                metadata=_ops(auth), timeout=10), 30)
            assert decided.removed_at_ms > 0
        assert not (await s.reports.ListQueue(rp.ListQueueRequest(), metadata=_ops(auth),
                                              timeout=10)).items
