"""Group messages -> GROUP_MENTION causes: only a MessagePosted's ``notified`` users (the
groups service's members among its mentions), never the author, once each; every other group
fact, a held message and an edit's mentions notify nobody."""

from __future__ import annotations

from planet.groups.v1 import group_events_pb2 as gev
from planet.social.v1.notifications_pb2 import NOTIFICATION_KIND_GROUP_MENTION
from services.social.group_mention_notifications import group_mention_causes

GID = "g" + "1" * 24


def test_a_posted_message_notifies_its_notified_members_once_each() -> None:
    posted = gev.MessagePosted(group_id=GID, seq=42, at_ms=7, actor_id="alice", text="gm",
                               mentions=["bob", "stranger", "carol", "alice"],
                               notified=["bob", "carol", "bob", "alice", ""])
    causes = group_mention_causes(posted)
    assert [c.recipient_id for c in causes] == ["bob", "carol"]
    for cause in causes:
        assert cause.kind == NOTIFICATION_KIND_GROUP_MENTION
        assert (cause.actor_id, cause.subject_id, cause.at_ms) == ("alice", f"group:{GID}:42", 7)
    # A replay derives the same ids (the store then finds them and notifies nobody again).
    assert [c.notification_id for c in group_mention_causes(posted)] == [
        c.notification_id for c in causes]


def test_held_messages_edits_and_other_facts_notify_nobody() -> None:
    assert group_mention_causes(gev.MessageHeld(group_id=GID, seq=1, actor_id="alice",
                                                mentions=["bob"])) == []
    assert group_mention_causes(gev.MessageEdited(group_id=GID, seq=2, message_seq=1,
                                                  mentions=["bob"])) == []
    assert group_mention_causes(gev.MemberJoined(group_id=GID, seq=3, user_id="bob")) == []
    # Mentions without the groups service's verdict (an older fact): nobody.
    assert group_mention_causes(gev.MessagePosted(group_id=GID, seq=4, actor_id="alice",
                                                  mentions=["bob"])) == []
