"""Planning then committing notifications on a real RocksDB store, as the wired path does
(plan under the write lock, append to the topic, commit): chunks of one batch share what they
planned, a replayed cause is dropped, the store holds nothing until the commit, and
``apply_logged`` (the rebuild from the topic) lands on the same keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from planet.social.v1.notifications_pb2 import NOTIFICATION_KIND_FOLLOW, NotificationsRead
from services.social.adapters.notification_store import NotificationStore, Planned
from services.social.domain.notifications.rules import Cause

T = 1_700_000_000_000


@pytest.fixture
def notes(tmp_path: Path) -> Iterator[NotificationStore]:
    s = NotificationStore(tmp_path / "notes")
    yield s
    s.close()


def _follow(recipient: str, actor: str) -> Cause:
    return Cause(recipient_id=recipient, kind=NOTIFICATION_KIND_FOLLOW, actor_id=actor,
                 subject_id="", at_ms=T)


def test_chunks_of_one_batch_continue_each_others_positions(notes: NotificationStore) -> None:
    planned = Planned()
    first = notes.plan([_follow("ann", "b1"), _follow("ann", "b2"), _follow("cy", "b1")],
                       planned)
    # The same cause again in a later chunk is dropped; ann continues from 2, not from 0.
    second = notes.plan([_follow("ann", "b2"), _follow("ann", "b3")], planned)
    assert [(n.recipient_id, n.position) for n in first + second] == [
        ("ann", 1), ("ann", 2), ("cy", 1), ("ann", 3)]
    assert notes.last_position("ann") == 0  # nothing is stored before the commit
    notes.commit(first, planned=True)
    notes.commit(second, offsets={"topic/0": 7}, planned=True)
    assert notes.last_position("ann") == 3 and notes.applied("topic/0") == 7
    assert [n.actor_id for n in notes.after("ann")] == ["b1", "b2", "b3"]
    # Committed: every cause is a replay now.
    assert notes.plan([_follow("ann", "b1"), _follow("cy", "b1")]) == []


def test_a_rebuild_from_the_log_equals_the_planned_store(tmp_path: Path,
                                                         notes: NotificationStore) -> None:
    created = notes.plan([_follow("ann", f"b{i}") for i in range(5)])
    notes.commit(created, planned=True)
    notes.commit([], reads=[NotificationsRead(recipient_id="ann", up_to_position=3)])
    rebuilt = NotificationStore(tmp_path / "rebuilt")
    try:
        # Logged out of order and twice (an identical re-append), it lands the same.
        rebuilt.apply_logged([*reversed(created), created[0],
                              NotificationsRead(recipient_id="ann", up_to_position=3)],
                             source="n/0", next_offset=9)
        assert rebuilt.after("ann") == notes.after("ann")
        assert (rebuilt.last_position("ann"), rebuilt.read_up_to("ann")) == (5, 3)
        assert rebuilt.plan([_follow("ann", "b4")]) == []
    finally:
        rebuilt.close()
