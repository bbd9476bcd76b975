"""The volume path's pure folding: dedup, weeks, late and invalid events, routing."""

from __future__ import annotations

from planet.engagement.v1.telemetry_pb2 import EngagementBatch
from planetkit.engagement_batches import INTERACTION_KINDS, VIEW, EngagementRow, build_batch
from planetkit.kafka.partitioning import partition_for
from planetkit.weeks import week_start_ms
from services.incentive.engagement.domain.aggregate import FetchAggregate, book_accepted
from services.incentive.engagement.domain.dedup import DedupMemory

W48 = week_start_ms("2026-W48") + 3_600_000


def view(eid: str, creator: str = "c1", dwell: int = 10, at: int = W48) -> EngagementRow:
    return EngagementRow(eid, "i1", creator, at, VIEW, dwell_seconds=dwell)


def like(eid: str, creator: str = "c1", at: int = W48) -> EngagementRow:
    return EngagementRow(eid, "i1", creator, at, INTERACTION_KINDS["like"])


def batch(*rows: EngagementRow, consumer: str = "u1") -> EngagementBatch:
    return build_batch("b", consumer, rows)


def test_folds_views_dwell_and_interactions_per_creator_week_consumer() -> None:
    agg = FetchAggregate()
    agg.add_batch(
        0,
        5,
        batch(view("a"), view("b", dwell=20), like("c"), view("d", creator="c2")),
        DedupMemory(),
    )
    assert agg.deltas == {
        ("c1", "2026-W48", "u1"): [2, 30, 1],
        ("c2", "2026-W48", "u1"): [1, 10, 0],
    }
    assert agg.partitions[0].last_offset == 5
    assert sorted(agg.partitions[0].accepted["2026-W48"]) == ["a", "b", "c", "d"]


def test_duplicate_ids_count_once_within_a_fetch_and_across_committed_fetches() -> None:
    memory = DedupMemory()
    first = FetchAggregate()
    first.add_batch(0, 1, batch(view("a"), view("a")), memory)
    assert first.deltas[("c1", "2026-W48", "u1")] == [1, 10, 0]
    assert first.partitions[0].duplicates == 1
    book_accepted(first, {0: memory})
    second = FetchAggregate()
    second.add_batch(0, 2, batch(view("a"), view("b")), memory)
    assert second.deltas[("c1", "2026-W48", "u1")] == [1, 10, 0]
    assert second.partitions[0].duplicates == 1


def test_a_later_batch_of_the_same_fetch_sees_earlier_ids() -> None:
    memory = DedupMemory()
    agg = FetchAggregate()
    agg.add_batch(0, 1, batch(view("a")), memory)
    agg.add_batch(0, 2, batch(view("a"), view("b")), memory)
    assert agg.deltas[("c1", "2026-W48", "u1")] == [2, 20, 0]
    assert agg.partitions[0].duplicates == 1


def test_malformed_batch_is_rejected_before_anything_is_folded() -> None:
    bad = batch(view("a"))
    bad.kinds.append(VIEW)
    memory = DedupMemory()
    agg = FetchAggregate()
    try:
        agg.add_batch(0, 1, bad, memory)
    except ValueError as exc:
        assert "do not have 1 rows" in str(exc)
    else:
        raise AssertionError("a batch with ragged columns was accepted")
    assert agg.deltas == {} and "a" not in memory


def test_events_past_the_horizon_are_counted_late_not_scored() -> None:
    memory = DedupMemory(horizon_weeks=2)
    memory.remember("2026-W48", ["x"])
    agg = FetchAggregate()
    old = week_start_ms("2026-W45")
    agg.add_batch(0, 1, batch(view("o", at=old), view("n")), memory)
    assert agg.partitions[0].late == 1
    assert agg.deltas == {("c1", "2026-W48", "u1"): [1, 10, 0]}


def test_memory_prunes_weeks_past_the_horizon() -> None:
    memory = DedupMemory(horizon_weeks=2)
    memory.remember("2026-W46", ["old"])
    memory.remember("2026-W48", ["new"])
    assert "old" not in memory and "new" in memory
    assert memory.is_late("2026-W46") and not memory.is_late("2026-W47")


def test_events_without_ids_or_kind_are_counted_invalid() -> None:
    agg = FetchAggregate()
    no_kind = EngagementRow("k", "i", "c1", W48, 0)
    agg.add_batch(0, 1, batch(view(""), no_kind, view("x", creator="")), DedupMemory())
    assert agg.partitions[0].invalid == 3 and agg.deltas == {}


def test_deltas_are_routed_to_the_partition_that_owns_each_creator() -> None:
    agg = FetchAggregate()
    events = [view(f"e{i}", creator=f"c{i}") for i in range(20)]
    agg.add_batch(0, 1, batch(*events), DedupMemory())
    routed = agg.by_output_partition(4)
    for q, items in routed.items():
        assert all(partition_for(creator, 4) == q for (creator, _, _), _ in items)
    assert sum(len(items) for items in routed.values()) == 20


def test_deltas_codec_round_trips_rows() -> None:
    from planetkit.engagement_deltas import Delta, encode_deltas, iter_deltas

    rows = [(("c1", "2026-W48", "u1"), [1, 2, 3]), (("c2", "2026-W47", "u2"), [4, 5, 6])]
    assert list(iter_deltas(encode_deltas("x", rows))) == [
        Delta("c1", "2026-W48", "u1", 1, 2, 3),
        Delta("c2", "2026-W47", "u2", 4, 5, 6),
    ]
