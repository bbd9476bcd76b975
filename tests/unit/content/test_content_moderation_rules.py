"""The moderation fold and rules (domain/moderation.py), the removal's fold onto posts
(domain/post_events.moderated) and the per-partition store (adapters/moderation_store.py),
without Kafka: the Kafka path is tests/kafka/content/test_content_moderation.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiokafka.structs import ConsumerRecord

from planet.content.v1 import reports_pb2 as rp
from planet.events.v1.envelope_pb2 import Envelope
from planetkit.envelope import encode, wrap
from services.content.adapters.moderation_store import ModerationStore
from services.content.domain.interactions import InvalidInteraction
from services.content.domain.model import Post, PostKind
from services.content.domain.moderation import (
    ModerationEvent,
    QueueCursor,
    apply,
    checked_appeal,
    checked_detail,
    checked_note,
    checked_reason,
    decode_cursor,
    encode_cursor,
    item_kind,
    main_reason,
    merge_pages,
    queue_keys,
    queue_page_limit,
    report_id_for,
)
from services.content.domain.post_events import apply as apply_post

POST = "post_" + "a" * 24
COMMENT = "cmt_" + "a" * 24 + "_" + "b" * 24


def _report(reporter: str, at: int,
            reason: rp.PolicyReason.ValueType = rp.POLICY_REASON_SPAM, round_: int = 0
            ) -> rp.ItemReported:
    return rp.ItemReported(report_id=report_id_for(reporter, POST, round_), item_id=POST,
                           kind=rp.MODERATED_KIND_POST, post_id=POST, item_author_id="alice",
                           reporter_id=reporter, reason=reason, at_ms=at, round=round_)


def _fold(events: list[ModerationEvent]) -> rp.ItemModeration | None:
    state: rp.ItemModeration | None = None
    for event in events:
        state = apply(state, event) or state
    return state


def _removed(version: int, at: int = 50) -> rp.ItemRemoved:
    return rp.ItemRemoved(item_id=POST, kind=rp.MODERATED_KIND_POST, post_id=POST,
                          author_id="alice", reason=rp.POLICY_REASON_SCAM, note="pump",
                          operator_id="op", at_ms=at, moderation_version=version)


def test_reports_open_a_round_that_a_decision_closes() -> None:
    state = _fold([_report("bob", 10), _report("carol", 20, rp.POLICY_REASON_SCAM)])
    assert state is not None
    assert (state.open_reports, state.first_reported_at_ms, state.last_reported_at_ms) == (
        2, 10, 20)
    assert queue_keys(state) and main_reason(state) == rp.POLICY_REASON_SPAM  # tie: lower
    decided = apply(state, rp.ReportDecided(item_id=POST, round=0, confirmed=False,
                                            request_id="d1"))
    assert decided is not None
    assert (decided.round, decided.open_reports, list(decided.reasons)) == (1, 0, [])
    assert queue_keys(decided) == set()
    # A decision of a round already decided, and a report of that round, change nothing.
    assert apply(decided, rp.ReportDecided(item_id=POST, round=0)) is None
    assert apply(decided, _report("dave", 30)) is None
    # The next round counts afresh.
    again = apply(decided, _report("dave", 30, round_=1))
    assert again is not None and (again.open_reports, again.first_reported_at_ms) == (1, 30)


def test_removal_appeal_and_restoration_are_numbered_and_appealed_once() -> None:
    removed = apply(None, _removed(1))
    assert removed is not None and removed.removed_at_ms == 50
    assert apply(removed, _removed(1)) is None  # a duplicate
    appealed = apply(removed, rp.RemovalAppealed(item_id=POST, text="joke", at_ms=60,
                                                 moderation_version=1, request_id="a"))
    assert appealed is not None and appealed.appeal == rp.APPEAL_STATE_PENDING
    assert len(queue_keys(appealed)) == 1
    assert apply(appealed, rp.RemovalAppealed(item_id=POST, moderation_version=1)) is None
    upheld = apply(appealed, rp.AppealDecided(item_id=POST, upheld=True,
                                              moderation_version=1, request_id="d"))
    assert upheld is not None and upheld.appeal == rp.APPEAL_STATE_UPHELD
    assert queue_keys(upheld) == set()
    restored = apply(upheld, rp.ItemRestored(item_id=POST, moderation_version=2, at_ms=70))
    assert restored is not None and restored.removed_at_ms == 0
    assert apply(restored, rp.ItemRestored(item_id=POST, moderation_version=2)) is None
    assert apply(restored, _removed(1)) is None  # an old removal never comes back
    # Removed again: a new removal, appealable again.
    again = apply(restored, _removed(3, at=80))
    assert again is not None and again.appeal == rp.APPEAL_STATE_UNSPECIFIED
    assert again.removed_at_ms == 80 and not again.appeal_text


def test_a_post_folds_its_removal_apart_from_its_version() -> None:
    post = Post(post_id=POST, creator_id="alice", kind=PostKind.SHORT, title="", body="gm",
                hashtags=("btc",), mentions=(), components=(), published_at_ms=1, version=3)
    removed = apply_post(post, Envelope(aggregate_version=1), _removed(1))
    assert removed is not None and removed.post.removed_at_ms == 50
    assert removed.post.version == 3 and removed.revision == 0
    assert apply_post(removed.post, Envelope(aggregate_version=1), _removed(1)) is None
    restored = apply_post(removed.post, Envelope(aggregate_version=2),
                          rp.ItemRestored(item_id=POST, post_id=POST, moderation_version=2))
    assert restored is not None and restored.post.removed_at_ms == 0


def test_rules_refuse_bad_input_with_a_message() -> None:
    assert item_kind(POST) == rp.MODERATED_KIND_POST
    assert item_kind(COMMENT) == rp.MODERATED_KIND_COMMENT
    for bad in ("", "post_x", "shr_" + "a" * 24 + "_" + "b" * 24, POST.upper()):
        with pytest.raises(InvalidInteraction):
            item_kind(bad)
    with pytest.raises(InvalidInteraction, match="reason must be one of"):
        checked_reason(0)
    with pytest.raises(InvalidInteraction):
        checked_reason(999)
    assert checked_detail("") == ""
    with pytest.raises(InvalidInteraction, match="limit is 1000"):
        checked_detail("x" * 1001)
    with pytest.raises(InvalidInteraction, match="control"):
        checked_detail("a\u202eb")
    with pytest.raises(InvalidInteraction, match="must not be empty"):
        checked_note("  ")
    with pytest.raises(InvalidInteraction):
        checked_appeal("x" * 2001)
    assert queue_page_limit(0) == 20
    with pytest.raises(InvalidInteraction):
        queue_page_limit(101)


def test_cursors_round_trip_and_refuse_anything_else() -> None:
    cursor = QueueCursor(123, COMMENT)
    assert decode_cursor(encode_cursor(cursor)) == cursor
    assert decode_cursor("") is None
    for bad in ("!!", "a" * 201, "AAAA", encode_cursor(QueueCursor(1, POST))[:-3] + "___"):
        with pytest.raises(InvalidInteraction):
            decode_cursor(bad)


def _item(item_id: str, at: int) -> rp.ItemModeration:
    return rp.ItemModeration(item_id=item_id, first_reported_at_ms=at, open_reports=1)


def test_merging_partition_pages_has_no_gap_and_no_repeat() -> None:
    ids = [f"post_{i:024x}" for i in range(9)]
    partitions = [[_item(ids[i], i) for i in range(p, 9, 3)] for p in range(3)]
    seen: list[str] = []
    after: QueueCursor | None = None
    while True:
        pages = [[s for s in part if after is None
                  or (s.first_reported_at_ms, s.item_id) > (after.at_ms, after.item_id)][:3]
                 for part in partitions]
        items, after = merge_pages(rp.QUEUE_KIND_REPORTS, pages, 2)
        seen.extend(i.item_id for i in items)
        if after is None:
            break
    assert seen == ids


def _record(offset: int, event: ModerationEvent) -> ConsumerRecord[bytes, bytes]:
    value = encode(wrap(event, event_id=f"e{offset}", source="content", aggregate_id=POST,
                        occurred_at_ms=1))
    return ConsumerRecord("t", 0, offset, 0, 0, POST.encode(), value, None, 0, len(value), [])


def test_the_store_counts_a_report_once_and_keeps_its_queue_in_step(tmp_path: Path) -> None:
    store = ModerationStore(tmp_path / "p0", 0)
    first = _report("bob", 10)
    store.put_decided([first])  # ahead of the tail
    # The tail then applies the same record, and a duplicate: nothing changes.
    assert store.apply([_record(0, first), _record(1, first)]) == 0
    assert store.applied == 2
    state = store.state(POST)
    assert state is not None and state.open_reports == 1
    assert [s.item_id for s in store.queue(rp.QUEUE_KIND_REPORTS, None, 10)] == [POST]
    store.apply([_record(2, rp.ReportDecided(item_id=POST, round=0, confirmed=True)),
                 _record(3, _removed(1))])
    assert store.queue(rp.QUEUE_KIND_REPORTS, None, 10) == []
    store.close()
    reopened = ModerationStore(tmp_path / "p0", 0)
    assert reopened.applied == 4 and reopened.removed(POST)
    reopened.reset()
    assert reopened.applied == 0 and reopened.state(POST) is None
    reopened.close()


def test_a_removed_post_is_seen_by_its_author_and_operators_only_and_not_edited() -> None:
    from services.content.domain.post_rules import RevisionConflict, check_revision, visible_to

    post = Post(post_id=POST, creator_id="alice", kind=PostKind.SHORT, title="", body="gm",
                hashtags=(), mentions=(), components=(), published_at_ms=1, removed_at_ms=5,
                moderation_version=1)
    assert visible_to(post, "alice", frozenset())
    assert visible_to(post, "olga", frozenset({"operator"}))
    assert not visible_to(post, "bob", frozenset())
    with pytest.raises(RevisionConflict, match="removed"):
        check_revision(post, 0)
