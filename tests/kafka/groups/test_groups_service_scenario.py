"""The groups service end to end on the real broker: a creator (open identity in the real
social) creates a group; members join by link, post, edit, delete, pin, react; moderation
(mute, ban, slow mode) refuses with the domain's codes and details; history reads both ways
around a message; a private group's history is refused to a non-member; a retried command
answers its first result and appends nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import grpc

from planet.groups.v1 import group_events_pb2 as ev
from planet.groups.v1 import groups_service_pb2 as rpc
from planetkit.service_auth_dev import DevServiceAuth
from services.groups.bootstrap import RunningGroups
from services.social.bootstrap import RunningSocial
from tests.kafka.groups.groups_harness import Client, eventually, profile
from tests.kafka.social.social_harness import open_creators


async def test_groups_service_scenario(
    kafka_bootstrap: str, topic_suffix: str, service_auth: DevServiceAuth,
    social: RunningSocial, groups_service: Callable[..., Awaitable[RunningGroups]],
) -> None:
    await open_creators(social, service_auth, kafka_bootstrap, topic_suffix, ["owner1"])
    groups = await groups_service()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{groups.port}") as channel:
        owner = Client(channel, service_auth, "owner1")
        alice = Client(channel, service_auth, "alice")
        bob = Client(channel, service_auth, "bob")
        eve = Client(channel, service_auth, "eve")

        # No open identity: refused with the domain's code.
        assert (await bob.refused("CreateGroup", request_id="c0",
                                  profile=profile("Bob's"))).code == "not_creator"
        created = await owner.call("CreateGroup", request_id="c1", profile=profile("Traders"))
        group = created.group_id
        # A retried create answers the first result: same group, nothing appended.
        again = await owner.call("CreateGroup", request_id="c1", profile=profile("Traders"))
        assert again == created

        link = await owner.call("CreateInviteLink", request_id="l1", group_id=group)
        assert link.link_id
        for member in (alice, bob):
            await member.call("JoinByLink", request_id="j1", group_id=group,
                              link_id=link.link_id)

        posted = await alice.call("PostMessage", request_id="p1", group_id=group,
                                  text="hello **all**")
        retried = await alice.call("PostMessage", request_id="p1", group_id=group,
                                   text="hello **all**")
        assert retried == posted and posted.message_seq
        first = posted.message_seq
        await alice.call("EditMessage", request_id="e1", group_id=group, message_seq=first,
                         text="hello everyone")
        second = (await bob.call("PostMessage", request_id="p2", group_id=group,
                                 text="gm")).message_seq
        doomed = (await bob.call("PostMessage", request_id="p3", group_id=group,
                                 text="oops")).message_seq
        await bob.call("DeleteMessage", request_id="d1", group_id=group, message_seq=doomed)
        await owner.call("PinMessage", request_id="pin1", group_id=group, message_seq=first)
        await bob.call("SetReaction", request_id="r1", group_id=group, message_seq=first,
                       emoji="🔥")
        await owner.call("SetReaction", request_id="r1", group_id=group, message_seq=first,
                         emoji="🔥")

        view = await alice.call("GetGroup", group_id=group)
        assert list(view.pinned) == [first] and view.member_count == 3

        page = await alice.call("History", group_id=group, around_seq=second, before=10,
                                after=10)
        by_seq = {m.seq: m for m in page.messages}
        assert [m.seq for m in page.messages] == [first, second, doomed]
        assert by_seq[first].text == "hello everyone" and by_seq[first].edited_at_ms
        assert by_seq[first].reactions["🔥"] == 2
        assert by_seq[doomed].deleted and not by_seq[doomed].text
        # Both ways around a message, with the cursor flags.
        older = await alice.call("History", group_id=group, around_seq=second, before=1,
                                 after=0)
        assert [m.seq for m in older.messages] == [first, second] and not older.has_before
        assert older.has_after
        newer = await alice.call("History", group_id=group, around_seq=first, before=0,
                                 after=1)
        assert [m.seq for m in newer.messages] == [first, second] and newer.has_after

        # Mute: a muted member's post is refused with until_ms.
        await owner.call("MuteMember", request_id="m1", group_id=group, user_id="bob",
                         duration_s=3600, reason="spam")
        muted = await bob.refused("PostMessage", request_id="p4", group_id=group, text="hi")
        assert muted.code == "muted" and muted.until_ms > 0

        # Ban: no link gets the user back in.
        await owner.call("BanMember", request_id="b1", group_id=group, user_id="bob",
                         reason="abuse")
        banned = await bob.refused("JoinByLink", request_id="j2", group_id=group,
                                   link_id=link.link_id)
        assert banned.code == "banned"

        # Slow mode: the second message within the window is refused with seconds left.
        await owner.call("SetSlowMode", request_id="s1", group_id=group, seconds=60)
        carol = Client(channel, service_auth, "carol")
        await carol.call("JoinByLink", request_id="j1", group_id=group, link_id=link.link_id)
        await carol.call("PostMessage", request_id="p5", group_id=group, text="one")
        slow = await carol.refused("PostMessage", request_id="p6", group_id=group, text="two")
        assert slow.code == "slow_mode" and 0 < slow.retry_after_s <= 60

        # The admin log: staff only, with actor and reason.
        entries = (await owner.call("AdminLog", group_id=group)).entries
        kinds = {e.type: e for e in entries}
        assert kinds["planet.groups.v1.MemberBanned"].reason == "abuse"
        assert kinds["planet.groups.v1.MemberMuted"].actor_id == "owner1"
        assert (await alice.refused("AdminLog", group_id=group)).code == "forbidden"

        # Read positions and unread counts (the member index, not the group's log).
        last = (await alice.call("GetGroup", group_id=group)).last_seq
        await alice.call("SetReadPosition", request_id="rp1", group_id=group,
                         read_seq=first)
        assert (await alice.call("GetGroup", group_id=group)).last_seq == last

        async def unread() -> None:
            counts = (await alice.call("Unread")).groups
            assert [(u.group_id, u.read_seq) for u in counts] == [(group, first)]
            # bob's "gm" and carol's "one" (deleted and own messages are not counted)
            assert counts[0].unread == 2
        await eventually(unread)

        # A private group: its history is refused to a non-member (told "not found").
        secret = (await owner.call("CreateGroup", request_id="c2",
                                   profile=profile("Inner circle", private=True))).group_id
        await owner.call("PostMessage", request_id="sp1", group_id=secret, text="secret")
        assert (await eve.refused("History", group_id=secret)).code == "not_found"
        assert (await eve.refused("GetGroup", group_id=secret)).code == "not_found"
        listed = [g.group_id for g in (await eve.call("ListGroups")).groups]
        assert group in listed and secret not in listed
        operator = Client(channel, service_auth, "op1", operator=True)
        seen = await operator.call("History", group_id=secret, before=5)
        assert [m.text for m in seen.messages] == ["secret"]
        shown = await owner.call("GetGroup", group_id=secret)
        assert shown.profile.visibility == ev.GROUP_VISIBILITY_PRIVATE

        # actor_id must be the end user the gateway signs for.
        try:
            await eve.stub.PostMessage(rpc.PostMessageRequest(
                actor_id="alice", group_id=group, request_id="x", text="x"), metadata=eve.md())
        except grpc.aio.AioRpcError as exc:
            assert exc.code() == grpc.StatusCode.PERMISSION_DENIED
        else:
            raise AssertionError("a call for another user was accepted")
