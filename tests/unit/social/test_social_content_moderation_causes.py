"""Which content moderation facts notify the item's author, and how (pure)."""

from __future__ import annotations

from planet.content.v1 import reports_pb2 as rp
from planet.social.v1.notifications_pb2 import NOTIFICATION_KIND_MODERATION
from services.social.content_moderation_notifications import (
    content_moderation_cause,
    reason_name,
)

ITEM = "post_" + "a" * 24


def test_removal_denial_and_restoration_notify_the_author_with_the_reason() -> None:
    removed = content_moderation_cause(rp.ItemRemoved(
        item_id=ITEM, author_id="alice", reason=rp.POLICY_REASON_MARKET_MANIPULATION,
        operator_id="op", at_ms=5, moderation_version=1))
    assert removed is not None
    assert (removed.recipient_id, removed.kind, removed.actor_id, removed.subject_id) == (
        "alice", NOTIFICATION_KIND_MODERATION, "", f"item:{ITEM}:removed:1:market_manipulation")
    denied = content_moderation_cause(rp.AppealDecided(
        item_id=ITEM, author_id="alice", upheld=False, moderation_version=1))
    assert denied is not None and denied.subject_id == f"item:{ITEM}:appeal_denied:1"
    restored = content_moderation_cause(rp.ItemRestored(
        item_id=ITEM, author_id="alice", moderation_version=2))
    assert restored is not None and restored.subject_id == f"item:{ITEM}:restored:2"
    # A second removal is a second notification (its own id).
    again = content_moderation_cause(rp.ItemRemoved(
        item_id=ITEM, author_id="alice", reason=rp.POLICY_REASON_SPAM, moderation_version=3))
    assert again is not None and again.notification_id != removed.notification_id


def test_reports_dismissals_and_upheld_appeals_notify_nobody() -> None:
    for fact in (rp.ItemReported(item_id=ITEM, item_author_id="alice", reporter_id="bob"),
                 rp.ReportDecided(item_id=ITEM, item_author_id="alice"),
                 rp.RemovalAppealed(item_id=ITEM, author_id="alice"),
                 rp.AppealDecided(item_id=ITEM, author_id="alice", upheld=True)):
        assert content_moderation_cause(fact) is None
    assert reason_name(999) == "other" and reason_name(rp.POLICY_REASON_SCAM) == "scam"
