"""Group messages -> GROUP_MENTION notifications for the members they mention.

Reads ``planet.groups.events.v1`` (the groups service's log) like the other cause tails
(notifications.py: the same store, offsets and exactly-once planning). Only ``MessagePosted``
notifies, and only its ``notified`` users: the groups service fills that list when it decides
the message, with the mentioned users who are members then (never the author), so a mentioned
non-member learns nothing of a private group, and a held message notifies nobody until a
moderator releases it (its release is a ``MessagePosted``, decided again). Edits notify nobody.

``subject_id`` is ``group:<group id>:<seq>`` (the message's position: a client opens the group
around it); the actor is the author. Mutes and blocks suppress as for every cause. The text is
never copied: a notification says who mentioned you where, the group's History says what.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from google.protobuf.message import Message

from planet.groups.v1 import group_events_pb2 as gev
from planet.social.v1.notifications_pb2 import NOTIFICATION_KIND_GROUP_MENTION
from planetkit.envelope import DomainEvent
from planetkit.topics import GROUP_FACTS
from services.social.domain.notifications.rules import Cause
from services.social.notifications import _FactTail

log = logging.getLogger(__name__)


def group_mention_causes(payload: Message) -> list[Cause]:
    """The GROUP_MENTION causes of one group fact (none for every other fact)."""
    if not isinstance(payload, gev.MessagePosted):
        return []
    subject = f"group:{payload.group_id}:{payload.seq}"
    return [Cause(recipient_id=user, kind=NOTIFICATION_KIND_GROUP_MENTION,
                  actor_id=payload.actor_id, subject_id=subject, at_ms=payload.at_ms)
            for user in dict.fromkeys(payload.notified) if user and user != payload.actor_id]


class GroupMentionNotificationsTail(_FactTail):
    """``MessagePosted`` -> GROUP_MENTION for each member it notifies."""

    FACTS = GROUP_FACTS
    UNDECODABLE = "skipping an undecodable group record"

    def causes(self, event: DomainEvent[Message]) -> Iterable[Cause]:
        """A posted message notifies the members the groups service found it mentions."""
        return group_mention_causes(event.payload)
