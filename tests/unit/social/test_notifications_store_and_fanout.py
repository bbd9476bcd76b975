"""Notification rules, the notification store and the bell fan-out on real RocksDB stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from planet.social.v1.graph_pb2 import BellSet, Followed, Muted
from planet.social.v1.notifications_pb2 import (
    NOTIFICATION_KIND_FOLLOW,
    NOTIFICATION_KIND_NEW_POST,
    NotificationsRead,
)
from services.social.adapters.bell_fanout import fan_out_post
from services.social.adapters.graph_store import GraphStore
from services.social.adapters.notification_store import NotificationStore
from services.social.domain.graph.apply import Side
from services.social.domain.notifications.fanout import (
    FanoutProgress,
    progress_from_value,
    progress_value,
)
from services.social.domain.notifications.rules import (
    Cause,
    Relation,
    notification_id,
    read_mark,
    should_notify,
)

T = 1_700_000_000_000


@pytest.fixture
def notes(tmp_path: Path) -> Iterator[NotificationStore]:
    s = NotificationStore(tmp_path / "notes")
    yield s
    s.close()


def follow_cause(recipient: str, actor: str) -> Cause:
    return Cause(recipient, NOTIFICATION_KIND_FOLLOW, actor, "", T)


def test_ids_are_derived_from_the_cause_only() -> None:
    a = notification_id(NOTIFICATION_KIND_NEW_POST, "ann", "cat", "post_1")
    assert a == notification_id(NOTIFICATION_KIND_NEW_POST, "ann", "cat", "post_1")
    assert a != notification_id(NOTIFICATION_KIND_NEW_POST, "ann", "cat", "post_2")
    # NUL-separated: parts cannot run into each other.
    assert notification_id(NOTIFICATION_KIND_FOLLOW, "a", "bc", "") != notification_id(
        NOTIFICATION_KIND_FOLLOW, "ab", "c", "")
    assert a.startswith("ntf_") and len(a) == 36


def test_muted_blocked_and_own_actions_notify_nobody() -> None:
    cause = follow_cause("ann", "bob")
    assert should_notify(cause, Relation())
    assert not should_notify(cause, Relation(mutes=True))
    assert not should_notify(cause, Relation(blocks=True))
    assert not should_notify(cause, Relation(blocked_by=True))
    assert not should_notify(follow_cause("ann", "ann"), Relation())
    with pytest.raises(ValueError, match="recipient"):
        should_notify(follow_cause("", "bob"), Relation())


def test_positions_increase_by_one_and_a_replayed_cause_is_not_notified_twice(
        notes: NotificationStore) -> None:
    made = notes.create([follow_cause("ann", "bob"), follow_cause("ann", "cat"),
                         follow_cause("ann", "bob"), follow_cause("dan", "bob")])
    assert [(n.recipient_id, n.position) for n in made] == [("ann", 1), ("ann", 2), ("dan", 1)]
    assert notes.create([follow_cause("ann", "bob")]) == []
    again = notes.create([follow_cause("ann", "eve")])
    assert [n.position for n in again] == [3]
    assert [n.actor_id for n in notes.after("ann")] == ["bob", "cat", "eve"]


def test_read_marks_never_go_back_nor_past_the_last(notes: NotificationStore) -> None:
    notes.create([follow_cause("ann", u) for u in ("b", "c", "d", "e")])
    assert notes.unread_count("ann") == 4
    assert notes.mark_read("ann", 2) == 2 and notes.unread_count("ann") == 2
    assert notes.mark_read("ann", 1) == 2
    assert notes.mark_read("ann", 99) == 4 and notes.unread_count("ann") == 0
    assert read_mark(0, 5, 3) == 3
    with pytest.raises(ValueError):
        read_mark(0, -1, 3)


def test_catch_up_after_a_position_has_no_gap_and_no_duplicate(notes: NotificationStore) -> None:
    notes.create([follow_cause("ann", f"u{i}") for i in range(23)])
    got: list[int] = []
    last = 0
    while page := notes.after("ann", last, limit=5):
        got += [n.position for n in page]
        last = page[-1].position
        if last < 15:
            notes.create([follow_cause("ann", f"late{last}")])  # arrives while catching up
    assert got == list(range(1, notes.last_position("ann") + 1))
    with pytest.raises(ValueError):
        notes.after("ann", -1)


def test_the_log_rebuilds_the_same_inbox(tmp_path: Path, notes: NotificationStore) -> None:
    made = notes.create([follow_cause("ann", u) for u in ("b", "c", "d")], source="in/0",
                        next_offset=5)
    notes.mark_read("ann", 2)
    rebuilt = NotificationStore(tmp_path / "rebuilt")
    rebuilt.apply_logged([*made, NotificationsRead(recipient_id="ann", up_to_position=2)],
                         source="planet.social.notifications.v1/0", next_offset=4)
    assert rebuilt.after("ann") == notes.after("ann")
    assert rebuilt.unread_count("ann") == 1
    assert rebuilt.applied("planet.social.notifications.v1/0") == 4
    assert rebuilt.create([follow_cause("ann", "b")]) == []  # dedup keys restored too
    assert notes.applied("in/0") == 5
    rebuilt.close()


def test_fanout_progress_codec() -> None:
    p = FanoutProgress(after="u9", done=True, notified=12)
    assert progress_from_value(progress_value(p)) == p
    assert progress_from_value(None) == FanoutProgress()
    with pytest.raises(ValueError):
        progress_from_value(b"\x07")


def subscribers(graph: GraphStore, creator: str, n: int) -> list[str]:
    ids = [f"sub{i:05d}" for i in range(n)]
    graph.apply([Followed(follower_id=s, followee_id=creator, at_ms=T) for s in ids], Side.BOTH)
    graph.apply([BellSet(follower_id=s, creator_id=creator, on=True, at_ms=T) for s in ids],
                Side.BOTH)
    return ids


def test_fanout_stopped_midway_resumes_without_duplicates(tmp_path: Path) -> None:
    graph = GraphStore(tmp_path / "graph")
    ids = subscribers(graph, "star", 1_037)
    graph.apply([Followed(follower_id="plain", followee_id="star", at_ms=T)], Side.BOTH)
    graph.apply([Muted(muter_id="sub00003", muted_id="star", at_ms=T)], Side.BOTH)
    notes = NotificationStore(tmp_path / "notes")
    first = fan_out_post(graph, notes, post_id="post_a", creator_id="star", at_ms=T,
                         batch_size=100, max_batches=4)
    assert not first.done and first.after == ids[399]
    notes.close()  # the crash: reopen from disk
    notes = NotificationStore(tmp_path / "notes")
    assert notes.fanout_progress("post_a") == first
    done = fan_out_post(graph, notes, post_id="post_a", creator_id="star", at_ms=T,
                        batch_size=100)
    assert done.done and done.notified == len(ids) - 1
    # Run again (a replayed PostPublished): nothing more.
    assert fan_out_post(graph, notes, post_id="post_a", creator_id="star", at_ms=T) == done
    for s in ids:
        got = notes.after(s)
        want = [] if s == "sub00003" else [("post_a", NOTIFICATION_KIND_NEW_POST, 1)]
        assert [(n.subject_id, n.kind, n.position) for n in got] == want, s
    assert notes.after("plain") == []  # a follower without the bell
    # A second post notifies again, at the next position.
    fan_out_post(graph, notes, post_id="post_b", creator_id="star", at_ms=T + 1)
    assert [n.subject_id for n in notes.after("sub00000")] == ["post_a", "post_b"]
    graph.close()
    notes.close()


def test_fanout_of_a_creator_without_subscribers_finishes(tmp_path: Path) -> None:
    graph, notes = GraphStore(tmp_path / "g"), NotificationStore(tmp_path / "n")
    assert fan_out_post(graph, notes, post_id="p", creator_id="nobody", at_ms=T).done
    with pytest.raises(ValueError):
        fan_out_post(graph, notes, post_id="p2", creator_id="nobody", at_ms=T, batch_size=0)
    graph.close()
    notes.close()
