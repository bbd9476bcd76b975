"""Notifications through SocialService against the real broker: follows, mentions, bell
fan-out and moderation become notifications once each; the recipient alone lists and marks
them; a restart keeps them, a lost store is rebuilt from planet.social.notifications.v1, and a
store that lost its last writes after the topic had them (the crash window between the commit
and the store write) catches up from the topic without writing anything twice."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from planet.content.v1.events_pb2 import PostPublished
from planet.social.v1 import social_service_pb2 as rpc
from planet.social.v1 import social_service_pb2_grpc as rpc_grpc
from planet.social.v1.notifications_pb2 import (
    NOTIFICATION_KIND_FOLLOW,
    NOTIFICATION_KIND_MENTION,
    NOTIFICATION_KIND_MODERATION,
    NOTIFICATION_KIND_NEW_POST,
    NotificationCreated,
    NotificationsRead,
)
from planetkit.envelope import decode, wrap
from planetkit.kafka.partitioning import partition_for
from planetkit.kafka.producer import make_producer
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_identities import CONTENT
from planetkit.topics import POSTS, SOCIAL_NOTIFICATIONS, with_suffix
from services.social.bootstrap import RunningSocial
from tests.kafka.social.social_harness import handle_for
from tests.kafka.social.social_harness import open_when_verified as _until_kyc
from tests.kafka.social.social_harness import signed as _as

pytestmark = pytest.mark.kafka

StartSocial = Callable[[], Awaitable[RunningSocial]]
Kyc = Callable[[str], Awaitable[None]]
AT = 1_767_225_600_000


async def _publish_post(bootstrap: str, suffix: str, post_id: str, creator: str,
                        mentions: list[str]) -> None:
    """What content appends when ``creator`` publishes (the posts topic's writer is content)."""
    topic = with_suffix(POSTS, suffix)
    producer = make_producer(bootstrap, writer=CONTENT)
    await producer.start()
    try:
        post = PostPublished(post_id=post_id, creator_id=creator, body="range reclaim",
                             mentions=mentions, published_at_ms=AT)
        env = wrap(post, event_id=f"evt_{post_id}", source=CONTENT, aggregate_id=post_id,
                   occurred_at_ms=AT)
        await producer.send_and_wait(topic.name, env.SerializeToString(), key=post_id.encode(),
                                     partition=partition_for(post_id, topic.partitions))
    finally:
        await producer.stop()


async def _page(stub: rpc_grpc.SocialServiceAsyncStub, auth: DevServiceAuth, user: str,
                after: int = 0, limit: int = 0) -> rpc.NotificationPage:
    page: rpc.NotificationPage = await stub.ListNotifications(
        rpc.ListNotificationsRequest(user_id=user, after_position=after, limit=limit),
        metadata=_as(auth, user), timeout=10)
    return page


async def _until(stub: rpc_grpc.SocialServiceAsyncStub, auth: DevServiceAuth, user: str,
                 count: int, timeout_s: float = 30) -> rpc.NotificationPage:
    """Poll until ``user`` has ``count`` notifications (the tails derive them a moment later)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            page = await _page(stub, auth, user, limit=500)
            if len(page.notifications) >= count or time.monotonic() > deadline:
                return page
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.UNAVAILABLE or time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.1)


async def _logged(bootstrap: str, suffix: str) -> list[NotificationCreated | NotificationsRead]:
    """Every record of the notifications topic (committed ones only)."""
    topic = with_suffix(SOCIAL_NOTIFICATIONS, suffix)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                enable_auto_commit=False, isolation_level="read_committed")
    await consumer.start()
    try:
        tps = [TopicPartition(topic.name, p) for p in range(topic.partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        out: list[NotificationCreated | NotificationsRead] = []
        while any([await consumer.position(tp) < ends[tp] for tp in tps]):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for r in records:
                    p = decode(r.value, NotificationCreated, NotificationsRead).payload
                    assert isinstance(p, NotificationCreated | NotificationsRead)
                    out.append(p)
        return out
    finally:
        await consumer.stop()


def _kinds(page: rpc.NotificationPage) -> list[tuple[int, int, str, str]]:
    return [(n.position, n.kind, n.actor_id, n.subject_id) for n in page.notifications]


async def test_causes_become_notifications_once_each_for_their_recipient_only(
    social_service: StartSocial, kyc: Kyc, service_auth: DevServiceAuth, kafka_bootstrap: str,
    topic_suffix: str, tmp_path: Path,
) -> None:
    social = await social_service()
    alice, bob, carol, dave = "n-alice", "n-bob", "n-carol", "n-dave"
    for user in (alice, bob, carol, dave):
        await kyc(user)
    post1, post2 = "post_" + "1" * 24, "post_" + "2" * 24
    async with grpc.aio.insecure_channel(f"127.0.0.1:{social.port}") as channel:
        stub = rpc_grpc.SocialServiceStub(channel)
        for user in (alice, bob):
            await _until_kyc(stub, service_auth, user, handle_for(user))
        # bob and carol follow alice; carol turns her bell on; dave follows and mutes her.
        for user in (bob, carol, dave):
            await stub.Follow(rpc.FollowRequest(user_id=user, creator_id=alice),
                              metadata=_as(service_auth, user), timeout=10)
        await stub.SetBell(rpc.SetBellRequest(user_id=carol, creator_id=alice, on=True),
                           metadata=_as(service_auth, carol), timeout=10)
        await stub.SetBell(rpc.SetBellRequest(user_id=dave, creator_id=alice, on=True),
                           metadata=_as(service_auth, dave), timeout=10)
        await stub.Mute(rpc.RelationRequest(user_id=dave, other_id=alice),
                        metadata=_as(service_auth, dave), timeout=10)
        # A repeated follow after an unfollow is the same cause: one notification.
        await stub.Unfollow(rpc.FollowRequest(user_id=bob, creator_id=alice),
                            metadata=_as(service_auth, bob), timeout=10)
        await stub.Follow(rpc.FollowRequest(user_id=bob, creator_id=alice),
                          metadata=_as(service_auth, bob), timeout=10)

        page = await _until(stub, service_auth, alice, 3)
        assert sorted((n.kind, n.actor_id) for n in page.notifications) == [
            (NOTIFICATION_KIND_FOLLOW, bob), (NOTIFICATION_KIND_FOLLOW, carol),
            (NOTIFICATION_KIND_FOLLOW, dave)]
        assert [n.position for n in page.notifications] == [1, 2, 3]
        assert (page.last_position, page.read_up_to, page.unread) == (3, 0, 3)

        # alice mentions bob by handle and carol by user id (and someone nobody knows).
        await _publish_post(kafka_bootstrap, topic_suffix, post1, alice,
                            [handle_for(bob), carol, "nobody_here"])
        bob_page = await _until(stub, service_auth, bob, 1)
        assert _kinds(bob_page) == [(1, NOTIFICATION_KIND_MENTION, alice, post1)]
        carol_page = await _until(stub, service_auth, carol, 2)
        assert sorted((n.kind, n.subject_id) for n in carol_page.notifications) == [
            (NOTIFICATION_KIND_MENTION, post1), (NOTIFICATION_KIND_NEW_POST, post1)]
        # dave mutes alice: nothing; the author is never notified of her own post.
        assert len((await _page(stub, service_auth, dave)).notifications) == 0

        # An operator sanctions bob: a MODERATION notification names the sanction, not them.
        sanction = await stub.SanctionAccount(
            rpc.SanctionAccountRequest(user_id=bob, reason="spam", until_ms=0),
            metadata=_as(service_auth, "op-1", ("operator",)), timeout=10)
        bob_page = await _until(stub, service_auth, bob, 2)
        assert _kinds(bob_page)[1] == (2, NOTIFICATION_KIND_MODERATION, "",
                                       f"sanction:{sanction.sanction_id}:sanctioned")

        # Nobody reads another user's notifications, operators neither.
        for who, roles in ((bob, ()), ("op-1", ("operator",)), ("admin-1", ("admin",))):
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.ListNotifications(
                    rpc.ListNotificationsRequest(user_id=alice),
                    metadata=_as(service_auth, who, roles), timeout=10)
            assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.MarkNotificationsRead(
                    rpc.MarkNotificationsReadRequest(user_id=alice, up_to_position=3),
                    metadata=_as(service_auth, who, roles), timeout=10)
            assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        # Content may not call it at all.
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.ListNotifications(rpc.ListNotificationsRequest(user_id=alice),
                                         metadata=_as(service_auth, alice, service=CONTENT),
                                         timeout=10)
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        # Bad limits and positions are INVALID_ARGUMENT.
        for request in (rpc.ListNotificationsRequest(user_id=alice, limit=501),
                        rpc.ListNotificationsRequest(user_id=alice, after_position=-1)):
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.ListNotifications(request, metadata=_as(service_auth, alice),
                                             timeout=10)
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT

        # Pages after a position; read marks never go backwards nor past the last.
        assert [n.position for n in (await _page(stub, service_auth, alice, 1, 1)
                                     ).notifications] == [2]
        marks = []
        for up_to in (2, 1, 99):
            marked = await stub.MarkNotificationsRead(
                rpc.MarkNotificationsReadRequest(user_id=alice, up_to_position=up_to),
                metadata=_as(service_auth, alice), timeout=10)
            marks.append((marked.read_up_to, marked.unread))
        assert marks == [(2, 1), (2, 1), (3, 0)]

        # The second post reaches carol only once more, and again not dave.
        await _publish_post(kafka_bootstrap, topic_suffix, post2, alice, [])
        carol_page = await _until(stub, service_auth, carol, 3)
        assert _kinds(carol_page)[2] == (3, NOTIFICATION_KIND_NEW_POST, alice, post2)
        before = {u: _kinds(await _page(stub, service_auth, u, limit=500))
                  for u in (alice, bob, carol, dave)}

    # Every notification is on the topic once, with the read marks.
    logged = await _logged(kafka_bootstrap, topic_suffix)
    created = [e for e in logged if isinstance(e, NotificationCreated)]
    assert len(created) == sum(len(v) for v in before.values()) == 3 + 2 + 3
    assert Counter((e.recipient_id, e.position) for e in created).most_common(1)[0][1] == 1
    assert [e.up_to_position for e in logged if isinstance(e, NotificationsRead)] == [2, 3]

    async def reopened() -> dict[str, list[tuple[int, int, str, str]]]:
        again = await social_service()
        async with grpc.aio.insecure_channel(f"127.0.0.1:{again.port}") as channel:
            stub = rpc_grpc.SocialServiceStub(channel)
            out = {u: _kinds(await _until(stub, service_auth, u, len(before[u])))
                   for u in before}
            assert (await _page(stub, service_auth, alice)).read_up_to == 3
        await again.stop()
        return out

    data = tmp_path / "social-data"
    await social.stop()
    snapshot = tmp_path / "notifications-before-post2"
    # A restart keeps everything.
    assert await reopened() == before
    # The store loses its directory: rebuilt from the topic, the causes re-read find every id.
    shutil.copytree(data / "notifications", snapshot)
    shutil.rmtree(data / "notifications")
    assert await reopened() == before
    # Nothing was appended twice by either.
    again = await _logged(kafka_bootstrap, topic_suffix)
    assert len([e for e in again if isinstance(e, NotificationCreated)]) == len(created)


async def test_a_store_behind_the_topic_catches_up_without_a_second_append(
    social_service: StartSocial, kyc: Kyc, service_auth: DevServiceAuth, kafka_bootstrap: str,
    topic_suffix: str, tmp_path: Path,
) -> None:
    """The crash window between the commit and the store write: the topic has notifications
    (and the causes' offsets were not stored); the restart stores them from the topic and the
    re-read causes append nothing."""
    social = await social_service()
    creator, fans = "w-creator", [f"w-fan-{i}" for i in range(5)]
    await kyc(creator)
    data = tmp_path / "social-data"
    async with grpc.aio.insecure_channel(f"127.0.0.1:{social.port}") as channel:
        stub = rpc_grpc.SocialServiceStub(channel)
        await _until_kyc(stub, service_auth, creator, handle_for(creator))
        await _until(stub, service_auth, creator, 0)
    await social.stop()
    # The store as it was before any notification, the graph as it will be after the follows.
    shutil.copytree(data / "notifications", tmp_path / "empty-notifications")

    social = await social_service()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{social.port}") as channel:
        stub = rpc_grpc.SocialServiceStub(channel)
        for fan in fans:
            await stub.Follow(rpc.FollowRequest(user_id=fan, creator_id=creator),
                              metadata=_as(service_auth, fan), timeout=10)
            await stub.SetBell(rpc.SetBellRequest(user_id=fan, creator_id=creator, on=True),
                               metadata=_as(service_auth, fan), timeout=10)
        await _publish_post(kafka_bootstrap, topic_suffix, "post_" + "3" * 24, creator, [])
        for fan in fans:
            await _until(stub, service_auth, fan, 1)
        want = _kinds(await _until(stub, service_auth, creator, len(fans)))
    await social.stop()
    logged = len(await _logged(kafka_bootstrap, topic_suffix))
    assert logged == 2 * len(fans)

    shutil.rmtree(data / "notifications")
    shutil.copytree(tmp_path / "empty-notifications", data / "notifications")
    social = await social_service()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{social.port}") as channel:
        stub = rpc_grpc.SocialServiceStub(channel)
        assert _kinds(await _until(stub, service_auth, creator, len(fans))) == want
        for fan in fans:
            assert len((await _until(stub, service_auth, fan, 1)).notifications) == 1
    await social.stop()
    assert len(await _logged(kafka_bootstrap, topic_suffix)) == logged
