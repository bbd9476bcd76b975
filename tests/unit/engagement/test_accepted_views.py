"""The volume path's pure core: dedup, weeks, late, invalid and non-view rows, columns kept."""

from __future__ import annotations

from planet.engagement.v1.telemetry_pb2 import EngagementBatch
from planetkit.engagement_batches import INTERACTION_KINDS, VIEW, EngagementRow, build_batch
from planetkit.weeks import week_start_ms
from services.incentive.engagement.domain.dedup import DedupMemory
from services.incentive.engagement.domain.views import FetchViews, ViewColumns, book_accepted

W48 = week_start_ms("2026-W48") + 3_600_000


def view(eid: str, creator: str = "c1", dwell: int = 10, at: int = W48,
         item: str = "i1") -> EngagementRow:
    return EngagementRow(eid, item, creator, at, VIEW, dwell_seconds=dwell)


def like(eid: str, creator: str = "c1", at: int = W48) -> EngagementRow:
    return EngagementRow(eid, "i1", creator, at, INTERACTION_KINDS["like"])


def batch(*rows: EngagementRow, consumer: str = "u1") -> EngagementBatch:
    return build_batch("b", consumer, rows)


def rows_of(cols: ViewColumns) -> list[tuple[str, str, str, int, int]]:
    return list(zip(cols.event_ids, cols.item_ids, cols.creator_ids, cols.occurred_at_ms,
                    cols.dwell_seconds, strict=True))


def test_views_are_kept_at_full_detail_per_partition_and_consumer_in_order() -> None:
    fetch = FetchViews()
    memory = DedupMemory()
    fetch.add_batch(0, 5, batch(view("a"), view("b", dwell=20, item="i2"),
                                view("d", creator="c2", at=W48 + 1)), memory)
    fetch.add_batch(0, 6, batch(view("e", dwell=3), consumer="u2"), memory)
    fetch.add_batch(0, 7, batch(view("f", dwell=4)), memory)
    tally = fetch.partitions[0]
    assert rows_of(tally.views["u1"]) == [
        ("a", "i1", "c1", W48, 10), ("b", "i2", "c1", W48, 20), ("d", "i1", "c2", W48 + 1, 10),
        ("f", "i1", "c1", W48, 4),
    ]
    assert rows_of(tally.views["u2"]) == [("e", "i1", "c1", W48, 3)]
    assert tally.last_offset == 7 and fetch.events == fetch.accepted == 5
    assert sorted(tally.accepted["2026-W48"]) == ["a", "b", "d", "e", "f"]


def test_rows_that_are_not_views_are_dropped_counted_invalid_and_not_remembered() -> None:
    fetch = FetchViews()
    memory = DedupMemory()
    fetch.add_batch(0, 1, batch(view("a"), like("c"), view("d", dwell=7)), memory)
    tally = fetch.partitions[0]
    assert [r[0] for r in rows_of(tally.views["u1"])] == ["a", "d"]
    assert rows_of(tally.views["u1"])[1] == ("d", "i1", "c1", W48, 7)
    assert tally.invalid == 1 and tally.not_views == 1
    assert "c" not in memory and fetch.accepted == 2


def test_duplicate_ids_are_kept_once_within_a_fetch_and_across_committed_fetches() -> None:
    memory = DedupMemory()
    first = FetchViews()
    first.add_batch(0, 1, batch(view("a"), view("a", dwell=99)), memory)
    assert rows_of(first.partitions[0].views["u1"]) == [("a", "i1", "c1", W48, 10)]
    assert first.partitions[0].duplicates == 1
    book_accepted(first, {0: memory})
    second = FetchViews()
    second.add_batch(0, 2, batch(view("a"), view("b")), memory)
    assert [r[0] for r in rows_of(second.partitions[0].views["u1"])] == ["b"]
    assert second.partitions[0].duplicates == 1


def test_a_batch_with_nothing_new_adds_no_columns() -> None:
    memory = DedupMemory()
    fetch = FetchViews()
    fetch.add_batch(0, 1, batch(view("a")), memory)
    fetch.add_batch(0, 2, batch(view("a"), consumer="u1"), memory)
    fetch.add_batch(0, 3, batch(like("z"), consumer="u9"), memory)
    assert set(fetch.partitions[0].views) == {"u1"}
    assert len(fetch.partitions[0].views["u1"]) == 1


def test_malformed_batch_is_rejected_before_anything_is_kept() -> None:
    bad = batch(view("a"))
    bad.kinds.append(VIEW)
    memory = DedupMemory()
    fetch = FetchViews()
    try:
        fetch.add_batch(0, 1, bad, memory)
    except ValueError as exc:
        assert "do not have 1 rows" in str(exc)
    else:
        raise AssertionError("a batch with ragged columns was accepted")
    assert fetch.accepted == 0 and "a" not in memory
    assert not fetch.partitions or not fetch.partitions[0].views


def test_events_past_the_horizon_are_counted_late_not_kept() -> None:
    memory = DedupMemory(horizon_weeks=2)
    memory.remember("2026-W48", ["x"])
    fetch = FetchViews()
    old = week_start_ms("2026-W45")
    fetch.add_batch(0, 1, batch(view("o", at=old), view("n")), memory)
    assert fetch.partitions[0].late == 1
    assert [r[0] for r in rows_of(fetch.partitions[0].views["u1"])] == ["n"]


def test_memory_prunes_weeks_past_the_horizon() -> None:
    memory = DedupMemory(horizon_weeks=2)
    memory.remember("2026-W46", ["old"])
    memory.remember("2026-W48", ["new"])
    assert "old" not in memory and "new" in memory
    assert memory.is_late("2026-W46") and not memory.is_late("2026-W47")


def test_events_without_ids_or_kind_are_counted_invalid() -> None:
    fetch = FetchViews()
    no_kind = EngagementRow("k", "i", "c1", W48, 0)
    fetch.add_batch(0, 1, batch(view(""), no_kind, view("x", creator=""), view("y", item="")),
                    DedupMemory())
    tally = fetch.partitions[0]
    assert tally.invalid == 4 and tally.not_views == 1 and not tally.views
