"""A reconnecting reader's catch-up, through the real service: History with ``with_changes``
returns, after a position, the edits, deletions, pins and reactions of messages BEFORE that
position too, in seq order, each as the reader may see it (an edit with the message's current
words, none for a deleted message; a moderator's reason only to staff), and pages by
``through_seq`` with nothing lost or repeated."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import grpc

from planet.groups.v1 import groups_service_pb2 as rpc
from planetkit.service_auth_dev import DevServiceAuth
from services.groups.bootstrap import RunningGroups
from services.social.bootstrap import RunningSocial
from tests.kafka.groups.groups_harness import Client, profile
from tests.kafka.social.social_harness import open_creators


def _kinds(changes: list[rpc.ConversationChange]) -> list[tuple[str, int, int]]:
    out: list[tuple[str, int, int]] = []
    for change in changes:
        name = change.WhichOneof("change")
        assert name is not None
        fact = getattr(change, name)
        out.append((name, fact.seq, int(getattr(fact, "message_seq", 0))))
    return out


async def test_groups_service_changes_after_a_position(
    kafka_bootstrap: str, topic_suffix: str, service_auth: DevServiceAuth,
    social: RunningSocial, groups_service: Callable[..., Awaitable[RunningGroups]],
) -> None:
    await open_creators(social, service_auth, kafka_bootstrap, topic_suffix, ["owner9"])
    groups = await groups_service()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{groups.port}") as channel:
        owner = Client(channel, service_auth, "owner9")
        alice, bob = Client(channel, service_auth, "c1"), Client(channel, service_auth, "c2")
        group = (await owner.call("CreateGroup", request_id="c",
                                  profile=profile("Changes"))).group_id
        for who in (alice, bob):
            await who.call("JoinGroup", request_id="j", group_id=group)
        old = [(await alice.call("PostMessage", request_id=f"p{i}", group_id=group,
                                 text=f"old {i}")).message_seq for i in range(3)]
        position = (await owner.call("GetGroup", group_id=group)).last_seq

        # While the reader is away: changes to messages before its position, and a new one.
        edited = (await alice.call("EditMessage", request_id="e", group_id=group,
                                   message_seq=old[0], text="old 0, edited")).seqs[0]
        reacted = (await bob.call("SetReaction", request_id="r", group_id=group,
                                  message_seq=old[1], emoji="👍")).seqs[0]
        pinned = (await owner.call("PinMessage", request_id="pin", group_id=group,
                                   message_seq=old[1])).seqs[0]
        gone_edit = (await alice.call("EditMessage", request_id="e2", group_id=group,
                                      message_seq=old[2], text="secret words")).seqs[0]
        deleted = (await owner.call("DeleteMessage", request_id="d", group_id=group,
                                    message_seq=old[2], reason="spam")).seqs[0]
        new = (await alice.call("PostMessage", request_id="p9", group_id=group,
                                text="new")).message_seq
        unreacted = (await bob.call("RemoveReaction", request_id="r2", group_id=group,
                                    message_seq=old[1], emoji="👍")).seqs[0]
        assert gone_edit < deleted

        page = await bob.call("History", group_id=group, around_seq=position + 1, after=100,
                              with_changes=True)
        assert [m.seq for m in page.messages] == [new]
        assert page.through_seq == page.last_seq == unreacted
        assert _kinds(list(page.changes)) == [
            ("edited", edited, old[0]), ("reaction_set", reacted, old[1]),
            ("pinned", pinned, old[1]), ("deleted", deleted, old[2]),
            ("reaction_removed", unreacted, old[1])]
        assert page.changes[0].edited.text == "old 0, edited"
        assert page.changes[1].reaction_set.emoji == "👍"
        assert page.changes[1].reaction_set.actor_id == "c2"
        assert page.changes[3].deleted.reason == ""  # a moderator's reason: staff only
        staff_view = await owner.call("History", group_id=group, around_seq=position + 1,
                                      after=100, with_changes=True)
        assert [c.deleted.reason for c in staff_view.changes
                if c.WhichOneof("change") == "deleted"] == ["spam"]

        # Paged one at a time, through_seq walks every fact once, in order.
        seen: list[tuple[str, int, int]] = []
        messages: list[int] = []
        cursor = position
        while cursor < page.last_seq:
            part = await bob.call("History", group_id=group, around_seq=cursor + 1, after=1,
                                  with_changes=True)
            assert part.through_seq > cursor
            seen += _kinds(list(part.changes))
            messages += [m.seq for m in part.messages]
            cursor = part.through_seq
        assert seen == _kinds(list(page.changes))
        assert messages == [new]

        # Without with_changes History is what it was.
        plain = await bob.call("History", group_id=group, around_seq=position + 1, after=100)
        assert not plain.changes and plain.through_seq == 0
