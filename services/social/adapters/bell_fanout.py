"""The fan-out of a new post to its creator's bell subscribers, in batched writes, resumable.

Subscribers are read by key range (``s/<creator>/…``, in id order) ``batch_size`` at a time;
each batch's NEW_POST notifications are written in one write batch together with the
fan-out's progress (the last subscriber covered). A crash between batches loses nothing and
repeats nothing: a restart reads the progress and continues after it; a finished fan-out is
recorded as done and never runs again; and each notification's id is derived from (post,
subscriber), so even a replay that raced the progress would find it already there.

Memory holds one batch at a time: a 1 M-subscriber fan-out never has 1 M of anything in it.
Subscribers who mute the creator are skipped (``M/<creator>/<muter>``, on the creator's
partition); blocks need no check: a block ends the follow, and the bell with it.

This is the one-partition form (the creator's subscribers and their inboxes in one process,
as in tests and the benchmark). Across partitions the same loop produces each batch's
NotificationCreated records keyed by recipient and the progress in one Kafka transaction,
and each recipient's partition positions them (the notification id makes that exactly once).
"""

from __future__ import annotations

from planet.social.v1.notifications_pb2 import NOTIFICATION_KIND_NEW_POST
from services.social.adapters.graph_store import GraphStore
from services.social.adapters.notification_store import NotificationStore
from services.social.domain.notifications.fanout import FanoutProgress
from services.social.domain.notifications.rules import Cause

DEFAULT_BATCH = 10_000


def fan_out_post(
    graph: GraphStore,
    notes: NotificationStore,
    *,
    post_id: str,
    creator_id: str,
    at_ms: int,
    batch_size: int = DEFAULT_BATCH,
    max_batches: int | None = None,
) -> FanoutProgress:
    """Notify every bell subscriber of ``creator_id`` of ``post_id``; the progress reached.

    ``max_batches`` stops after that many batches (a crash stands in for it in tests); a
    later call resumes where it stopped.
    """
    if batch_size < 1:
        raise ValueError("a fan-out batch holds at least one notification")
    progress = notes.fanout_progress(post_id)
    batches = 0
    while not progress.done and (max_batches is None or batches < max_batches):
        causes, progress = next_batch(graph, progress, post_id=post_id, creator_id=creator_id,
                                      at_ms=at_ms, batch_size=batch_size)
        # The progress goes in the same write batch as this batch's notifications.
        notes.create(causes, fanout=(post_id, progress))
        batches += 1
    return progress


def next_batch(graph: GraphStore, progress: FanoutProgress, *, post_id: str, creator_id: str,
               at_ms: int, batch_size: int = DEFAULT_BATCH) -> tuple[list[Cause], FanoutProgress]:
    """The causes of the next ``batch_size`` subscribers after ``progress``, and the progress
    once they are stored (the wired path, services/social/notifications.py, appends them to
    the notifications topic before it stores them with that progress)."""
    if batch_size < 1:
        raise ValueError("a fan-out batch holds at least one notification")
    page = graph.bell_subscribers(creator_id, after=progress.after, limit=batch_size)
    muting = graph.muted_by(creator_id, page.ids)
    causes = [Cause(recipient_id=s, kind=NOTIFICATION_KIND_NEW_POST, actor_id=creator_id,
                    subject_id=post_id, at_ms=at_ms)
              for s in page.ids if s not in muting and s != creator_id]
    after = page.ids[-1] if page.ids else progress.after
    return causes, FanoutProgress(after, page.next_cursor is None,
                                  progress.notified + len(causes))
