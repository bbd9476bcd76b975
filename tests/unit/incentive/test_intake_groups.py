"""The groups service's facts through the intake's group fold (issue 15), over plain dicts.

A group is the item ``group:<id>`` of its owner: members' messages and reactions are facts for
the owner (lengths and ids only: the text never leaves the groups topic), the owner's own are
none, a closure is a removal period lifted by a granted appeal, and a transfer hands the item
to the new owner for the facts from then on.
"""

from __future__ import annotations

import pytest
from intake_events import DAY, T0, raw

from planet.groups.v1 import group_events_pb2 as ev
from planet.incentive.v1.facts_pb2 import FactRows, ItemStatus, Period
from planetkit import topics as registry
from planetkit.envelope import UndecodableEvent, decode
from planetkit.fact_rows import GROUP_MESSAGE, GROUP_REACTION, iter_facts
from planetkit.group_items import group_item, group_of_item
from planetkit.service_identities import GROUPS
from services.incentive.intake.dispatch import on_group_record
from services.incentive.intake.group_engagement import reaction_id
from services.incentive.intake.records import Output

G = "g0123456789abcdef01234567"
ITEM = f"group:{G}"
SECRET = "the private words of a member, never to be copied anywhere"


def group_raw(payload: ev.GroupCreated | ev.MessagePosted | ev.ReactionSet
              | ev.OwnershipTransferred | ev.GroupClosed | ev.AppealDecided | ev.MemberJoined
              | ev.ReactionRemoved,
              seq: int) -> bytes:
    payload.group_id, payload.seq = G, seq
    payload.at_ms = payload.at_ms or T0 + seq
    return raw(payload, f"rq.{seq:04d}.0", source=GROUPS, key=G)


def fold(groups: dict[str, bytes], *records: bytes) -> list[Output]:
    out: list[Output] = []
    for record in records:
        out += on_group_record(record, groups)
    return out


def facts_of(out: list[Output]) -> list[tuple[str, FactRows]]:
    return [(o.key, decode(o.value, FactRows).payload) for o in out
            if o.topic.name == registry.INTERACTION_FACTS.name]


def statuses_of(out: list[Output]) -> list[ItemStatus]:
    return [decode(o.value, ItemStatus).payload for o in out
            if o.topic.name == registry.ITEM_STATUS.name]


def test_the_group_item_id_passes_the_group_alphabet_only() -> None:
    assert group_item(G) == ITEM and group_of_item(ITEM) == G
    for bad in ("group:", "group:G1", "group:a/b", "group:a:b", "post_1", "home:u1",
                "group:" + "a" * 129):
        assert group_of_item(bad) is None


def test_members_messages_and_reactions_are_facts_for_the_owner_without_their_text() -> None:
    groups: dict[str, bytes] = {}
    out = fold(
        groups,
        group_raw(ev.GroupCreated(actor_id="owen"), 1),
        group_raw(ev.MemberJoined(actor_id="mia", user_id="mia"), 2),
        group_raw(ev.MessagePosted(actor_id="mia", text=SECRET, mentions=["owen"]), 3),
        # A reply in a thread is a message like any other.
        group_raw(ev.MessagePosted(actor_id="mia", text="short reply", reply_to=3), 4),
        group_raw(ev.MessagePosted(actor_id="owen", text=SECRET), 5),  # the owner's own
        group_raw(ev.ReactionSet(actor_id="owen", message_seq=3, emoji="👍", author_id="mia"), 6),
        group_raw(ev.ReactionSet(actor_id="mia", message_seq=5, emoji="👍", author_id="owen"), 7),
        group_raw(ev.ReactionSet(actor_id="mia", message_seq=3, emoji="🔥", author_id="mia"), 8),
    )
    [created] = statuses_of(out)
    assert (created.item_id, created.creator_id, created.item_kind, created.published_at_ms) \
        == (ITEM, "owen", "group", T0 + 1)
    rows = [(consumer, row) for consumer, facts in facts_of(out) for row in iter_facts(facts)]
    assert [(c, r.event_id, r.item_id, r.creator_id, r.kind, r.text_length) for c, r in rows] == [
        ("mia", "rq.0003.0", ITEM, "owen", GROUP_MESSAGE, len(SECRET)),
        ("mia", "rq.0004.0", ITEM, "owen", GROUP_MESSAGE, len("short reply")),
        ("mia", reaction_id(G, 5, "mia", "👍"), ITEM, "owen", GROUP_REACTION, 0),
    ]
    # Private content is never copied: no record holds any of the text.
    assert all(SECRET.encode() not in o.value and b"short reply" not in o.value for o in out)
    assert all(SECRET.encode() not in v for v in groups.values())


def test_a_closure_removes_the_group_item_until_a_granted_appeal() -> None:
    groups: dict[str, bytes] = {}
    fold(groups, group_raw(ev.GroupCreated(actor_id="owen"), 1))
    out = fold(groups,
               group_raw(ev.GroupClosed(actor_id="op", note="spam ring", at_ms=T0 + DAY), 2),
               group_raw(ev.AppealDecided(actor_id="op", granted=False, at_ms=T0 + 2 * DAY), 3),
               group_raw(ev.AppealDecided(actor_id="op", granted=True, at_ms=T0 + 3 * DAY), 4))
    closed, reopened = statuses_of(out)
    assert list(closed.removed) == [Period(from_ms=T0 + DAY, until_ms=0)]
    assert list(reopened.removed) == [Period(from_ms=T0 + DAY, until_ms=T0 + 3 * DAY)]
    assert ItemStatus.FromString(groups[ITEM]) == reopened
    assert b"spam ring" not in b"".join(o.value for o in out)


def test_a_transfer_hands_the_item_and_the_later_facts_to_the_new_owner() -> None:
    groups: dict[str, bytes] = {}
    out = fold(groups,
               group_raw(ev.GroupCreated(actor_id="owen"), 1),
               group_raw(ev.MessagePosted(actor_id="mia", text=SECRET), 2),
               group_raw(ev.OwnershipTransferred(actor_id="owen", new_owner_id="mia"), 3),
               group_raw(ev.MessagePosted(actor_id="mia", text=SECRET), 4),  # now the owner's
               group_raw(ev.MessagePosted(actor_id="owen", text=SECRET), 5))
    assert [s.creator_id for s in statuses_of(out)] == ["owen", "mia"]
    assert [(c, f.creator_ids[0]) for c, f in facts_of(out)] == [("mia", "owen"),
                                                                 ("owen", "mia")]


def test_a_fact_of_a_group_never_created_is_refused_and_others_change_nothing() -> None:
    groups: dict[str, bytes] = {}
    with pytest.raises(UndecodableEvent, match="never created"):
        fold(groups, group_raw(ev.MessagePosted(actor_id="mia", text=SECRET), 2))
    assert groups == {}
    # Membership and the like are read and ignored.
    assert fold(groups, group_raw(ev.MemberJoined(actor_id="mia", user_id="mia"), 2)) == []
    fold(groups, group_raw(ev.GroupCreated(actor_id="owen"), 1))
    assert fold(groups, group_raw(ev.GroupCreated(actor_id="owen"), 1)) == []  # a replay
    with pytest.raises(UndecodableEvent, match="lacks actor_id"):
        fold(groups, group_raw(ev.MessagePosted(text=SECRET), 3))


def test_a_reaction_set_again_is_the_same_event_and_another_emoji_another() -> None:
    groups: dict[str, bytes] = {}
    fold(groups, group_raw(ev.GroupCreated(actor_id="owen"), 1))
    out = fold(
        groups,
        group_raw(ev.ReactionSet(actor_id="mia", message_seq=9, emoji="👍", author_id="tom"), 2),
        group_raw(ev.ReactionRemoved(actor_id="mia", message_seq=9, emoji="👍"), 3),
        group_raw(ev.ReactionSet(actor_id="mia", message_seq=9, emoji="👍", author_id="tom"), 4),
        group_raw(ev.ReactionSet(actor_id="mia", message_seq=9, emoji="🔥", author_id="tom"), 5),
        group_raw(ev.ReactionSet(actor_id="tom", message_seq=8, emoji="👍", author_id="mia"), 6))
    ids = [(c, f.event_ids[0]) for c, f in facts_of(out)]
    assert ids == [("mia", reaction_id(G, 9, "mia", "👍")), ("mia", reaction_id(G, 9, "mia", "👍")),
                   ("mia", reaction_id(G, 9, "mia", "🔥")), ("tom", reaction_id(G, 8, "tom", "👍"))]
    assert len({i for _, i in ids}) == 3
    # Each record is its own (envelope and rows ids from the source record).
    assert len({o.value for o in out}) == 4
