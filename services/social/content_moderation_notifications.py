"""Content moderation -> MODERATION notifications for the item's author.

Reads ``planet.content.moderation.v1`` (content's reports, removals and appeals) like the other
cause tails (notifications.py: the same store, offsets and exactly-once planning):

- ``ItemRemoved`` -> ``item:<item id>:removed:<removal number>:<reason>`` (the policy reason:
  spam, scam, market_manipulation, ...; the operator's words are on the item's moderation,
  ``GET /v1/items/{item_id}/moderation``, which only its author and operators read);
- ``AppealDecided`` denied -> ``item:<item id>:appeal_denied:<removal number>``;
- ``ItemRestored`` (an upheld appeal) -> ``item:<item id>:restored:<restoration number>``.

No actor: the platform acts; operators and reporters are never named to the author. Reports
and dismissed reports notify nobody (the author learns of a report only if it removes).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from google.protobuf.message import Message

from planet.content.v1 import reports_pb2 as rp
from planet.social.v1.notifications_pb2 import NOTIFICATION_KIND_MODERATION
from planetkit.envelope import DomainEvent
from services.social.domain.notifications.rules import Cause
from services.social.notifications import _FactTail

log = logging.getLogger(__name__)
_FACTS = (rp.ItemReported, rp.ReportDecided, rp.ItemRemoved, rp.RemovalAppealed,
          rp.AppealDecided, rp.ItemRestored)


def reason_name(reason: int) -> str:
    """The API's name of a policy reason ("scam"); "other" for one this reader does not know."""
    try:
        return rp.PolicyReason.Name(rp.PolicyReason.ValueType(reason)).removeprefix(
            "POLICY_REASON_").lower()
    except ValueError:
        return "other"


def content_moderation_cause(payload: Message) -> Cause | None:
    """The MODERATION cause of a moderation fact (None for those that notify nobody)."""
    if isinstance(payload, rp.ItemRemoved):
        subject = (f"item:{payload.item_id}:removed:{payload.moderation_version}:"
                   f"{reason_name(payload.reason)}")
    elif isinstance(payload, rp.AppealDecided) and not payload.upheld:
        subject = f"item:{payload.item_id}:appeal_denied:{payload.moderation_version}"
    elif isinstance(payload, rp.ItemRestored):
        subject = f"item:{payload.item_id}:restored:{payload.moderation_version}"
    else:
        return None
    if not payload.author_id:
        return None
    return Cause(recipient_id=payload.author_id, kind=NOTIFICATION_KIND_MODERATION,
                 actor_id="", subject_id=subject, at_ms=payload.at_ms)


class ContentModerationNotificationsTail(_FactTail):
    """Removals, denied appeals and restorations -> MODERATION for the item's author."""

    FACTS = _FACTS
    UNDECODABLE = "skipping an undecodable moderation record"

    def causes(self, event: DomainEvent[Message]) -> Iterable[Cause]:
        """A removal, denied appeal or restoration notifies the item's author."""
        cause = content_moderation_cause(event.payload)
        return () if cause is None else (cause,)
