"""What each caller sees, through the real service: a held message shows to its author and
the staff only (and a released one to everyone, at its new seq); a public group's history
is readable by a non-member, its member list is not; a banned user reads nothing; a private
group's every read answers not_found to a non-member."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import grpc

from planet.groups.v1 import group_events_pb2 as ev
from planetkit.service_auth_dev import DevServiceAuth
from services.groups.bootstrap import RunningGroups
from services.social.bootstrap import RunningSocial
from tests.kafka.groups.groups_harness import Client, profile
from tests.kafka.social.social_harness import open_creators


async def test_groups_service_visibility(
    kafka_bootstrap: str, topic_suffix: str, service_auth: DevServiceAuth,
    social: RunningSocial, groups_service: Callable[..., Awaitable[RunningGroups]],
) -> None:
    await open_creators(social, service_auth, kafka_bootstrap, topic_suffix, ["owner5"])
    groups = await groups_service()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{groups.port}") as channel:
        owner = Client(channel, service_auth, "owner5")
        author, other = Client(channel, service_auth, "v1"), Client(channel, service_auth, "v2")
        outsider, banned = (Client(channel, service_auth, "v3"),
                            Client(channel, service_auth, "v4"))
        group = (await owner.call("CreateGroup", request_id="c",
                                  profile=profile("Open"))).group_id
        await owner.call("SetFilterRules", request_id="f", group_id=group, rules=[
            ev.FilterRule(kind=ev.FILTER_KIND_KEYWORD, pattern="moon",
                          action=ev.FILTER_ACTION_HOLD)])
        for who in (author, other, banned):
            await who.call("JoinGroup", request_id="j", group_id=group)
        plain = (await author.call("PostMessage", request_id="p1", group_id=group,
                                   text="hello")).message_seq
        held = await author.call("PostMessage", request_id="p2", group_id=group,
                                 text="to the moon")
        assert held.held

        async def seen(who: Client) -> list[tuple[int, bool]]:
            page = await who.call("History", group_id=group, before=20)
            return [(m.seq, m.held) for m in page.messages]
        assert await seen(author) == [(plain, False), (held.message_seq, True)]
        assert await seen(owner) == [(plain, False), (held.message_seq, True)]
        assert await seen(other) == [(plain, False)]
        assert await seen(outsider) == [(plain, False)]  # a public group's conversation
        assert (await outsider.refused("ListMembers", group_id=group)).code == "not_member"
        members = await other.call("ListMembers", group_id=group)
        assert sorted(m.user_id for m in members.members) == ["owner5", "v1", "v2", "v4"]

        released = await owner.call("DecideHeldMessage", request_id="d", group_id=group,
                                    message_seq=held.message_seq, approve=True, reason="ok")
        new_seq = released.seqs[-1]
        assert await seen(other) == [(plain, False), (new_seq, False)]

        await owner.call("BanMember", request_id="b", group_id=group, user_id="v4")
        assert (await banned.refused("History", group_id=group)).code == "banned"

        secret = (await owner.call("CreateGroup", request_id="c2",
                                   profile=profile("Closed door", private=True))).group_id
        for method in ("GetGroup", "History", "ListMembers", "AdminLog"):
            refusal = await outsider.refused(method, group_id=secret)
            assert refusal.code == "not_found", method
        assert not (await outsider.call("Unread", group_ids=[secret])).groups
