"""The pure record builder: a partition's accepted views as FactRows (a consumer column and
the event keys), and a fetch's records."""

from __future__ import annotations

import pytest

from planet.incentive.v1.facts_pb2 import FactRows
from planetkit.engagement_batches import VIEW, EngagementRow, build_batch
from planetkit.envelope import decode
from planetkit.fact_rows import VIEW as FACT_VIEW
from planetkit.fact_rows import (
    FactRow,
    build_facts,
    check_facts,
    event_check,
    event_key,
    iter_consumer_facts,
    iter_facts,
)
from planetkit.weeks import week_start_ms
from services.incentive.engagement.domain.dedup import DedupMemory
from services.incentive.engagement.domain.records import (
    OutputTopics,
    build_outgoing,
    view_facts,
)
from services.incentive.engagement.domain.snapshot import PartitionLedger
from services.incentive.engagement.domain.views import FetchViews, ViewColumns, book_accepted

W48 = week_start_ms("2026-W48") + 3_600_000
TOPICS = OutputTopics("facts", "dedup", "dlq")


def columns(n: int, width: int = 8) -> ViewColumns:
    cols = ViewColumns()
    for i in range(n):
        cols.event_ids.append(f"e{i:0{width}d}")
        cols.item_ids.append(f"item-{i % 3}")
        cols.creator_ids.append(f"creator-{i % 2}")
        cols.occurred_at_ms.append(W48 + i)
        cols.dwell_seconds.append(i % 90)
    return cols


def expected_rows(cols: ViewColumns) -> list[FactRow]:
    return [FactRow(e, i, c, t, FACT_VIEW, d, 0) for e, i, c, t, d in zip(
        cols.event_ids, cols.item_ids, cols.creator_ids, cols.occurred_at_ms, cols.dwell_seconds,
        strict=True)]


def test_one_record_holds_every_view_with_its_consumer_and_event_keys() -> None:
    cols, other = columns(5), columns(2, width=3)
    [facts] = view_facts("g:p2@41", 2, {"u1": cols, "u2": other})
    assert facts.rows_id == "g:p2@41:2:0" and not facts.consumer_id
    assert list(facts.consumer_ids) == ["u1"] * 5 + ["u2"] * 2
    assert list(iter_facts(facts)) == expected_rows(cols) + expected_rows(other)
    assert list(iter_consumer_facts(facts)) == [("u1", r) for r in expected_rows(cols)] + [
        ("u2", r) for r in expected_rows(other)]
    ids = cols.event_ids + other.event_ids
    assert list(facts.event_keys) == [event_key(e) for e in ids]
    assert list(facts.event_checks) == [event_check(e) for e in ids]
    # A replay of the fetch builds the same record.
    assert view_facts("g:p2@41", 2, {"u1": cols, "u2": other}) == [facts]


def test_views_beyond_the_size_aim_are_split_in_order_with_consecutive_ids() -> None:
    views = {f"u{k}": columns(1000, width=40) for k in range(3)}  # ~90 bytes a row: ~270 KB
    pieces = view_facts("c", 0, views, max_bytes=50_000)
    assert len(pieces) > 4
    assert [p.rows_id for p in pieces] == [f"c:0:{k}" for k in range(len(pieces))]
    assert all(p.ByteSize() <= 50_000 for p in pieces)
    assert [r for p in pieces for r in iter_consumer_facts(p)] == [
        (u, r) for u, cols in views.items() for r in expected_rows(cols)]


def test_nothing_accepted_builds_no_record() -> None:
    assert view_facts("c", 0, {}) == []
    assert view_facts("c", 0, {"u1": ViewColumns()}) == []


def test_a_one_consumer_record_reads_as_before() -> None:
    cols = columns(3)
    facts = build_facts("r", "u1", expected_rows(cols))
    assert list(iter_consumer_facts(facts)) == [("u1", r) for r in expected_rows(cols)]


def test_records_with_both_or_no_consumer_forms_or_wrong_keys_are_refused() -> None:
    [facts] = view_facts("c", 0, {"u1": columns(3)})
    both = FactRows()
    both.CopyFrom(facts)
    both.consumer_id = "u1"
    with pytest.raises(ValueError, match="both consumer_id and consumer_ids"):
        check_facts(both)
    short = FactRows()
    short.CopyFrom(facts)
    del short.consumer_ids[-1]
    with pytest.raises(ValueError, match="consumer_ids"):
        check_facts(short)
    wrong = FactRows()
    wrong.CopyFrom(facts)
    wrong.event_keys[0] += 1
    with pytest.raises(ValueError, match="event key does not match"):
        check_facts(wrong)
    no_checks = FactRows()
    no_checks.CopyFrom(facts)
    del no_checks.event_checks[:]
    with pytest.raises(ValueError, match="event_checks"):
        check_facts(no_checks)


def test_a_fetch_writes_one_record_per_partition_on_the_same_partition() -> None:
    memories = {0: DedupMemory(), 3: DedupMemory()}
    ledgers = {0: PartitionLedger(), 3: PartitionLedger()}
    fetch = FetchViews()

    def send(p: int, offset: int, consumer: str, ids: list[str]) -> None:
        rows = [EngagementRow(i, "item", "c1", W48, VIEW, dwell_seconds=2) for i in ids]
        fetch.add_batch(p, offset, build_batch(f"b{offset}", consumer, rows), memories[p])

    send(0, 10, "u1", ["a", "b"])
    send(0, 11, "u2", ["c"])
    send(0, 12, "u1", ["d", "a"])  # a: duplicate
    send(3, 40, "u7", ["e"])
    pruned = book_accepted(fetch, memories)
    out = build_outgoing(fetch, pruned, memories, ledgers, TOPICS, group_id="g", now_ms=123,
                         min_tail_ids=1000)
    facts = [(p, k, decode(v, FactRows)) for t, p, k, v in out.records if t == "facts"]
    assert out.fact_records == len(facts) == 2 and out.fact_rows == 5
    by_id = {env.payload.rows_id: (p, k, env) for p, k, env in facts}
    assert set(by_id) == {"g:p0@12,p3@40:0:0", "g:p0@12,p3@40:3:0"}
    p, key, env = by_id["g:p0@12,p3@40:0:0"]
    assert (p, key, env.event_id, env.envelope.aggregate_id) == (0, b"p0", "g:p0@12,p3@40:0:0",
                                                                 "p0")
    assert list(env.payload.event_ids) == ["a", "b", "d", "c"]
    assert list(env.payload.consumer_ids) == ["u1", "u1", "u1", "u2"]
    assert by_id["g:p0@12,p3@40:3:0"][:2] == (3, b"p3")
    # The dedup records of the same commit still carry every accepted id once.
    dedup = [r for r in out.records if r[0] == "dedup"]
    assert {r[1] for r in dedup} == {0, 3}
