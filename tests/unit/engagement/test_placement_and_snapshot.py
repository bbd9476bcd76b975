"""Placement (murmur2) and the dedup snapshot's bookkeeping: pure, no broker."""

from __future__ import annotations

import zlib

import pytest

from planet.incentive.v1.engagement_pb2 import DedupCheckpoint
from planetkit.engagement_batches import VIEW, EngagementRow, build_batch
from planetkit.envelope import decode
from planetkit.kafka.partitioning import partition_for
from planetkit.weeks import week_start_ms
from services.incentive.engagement.domain.dedup import DedupMemory
from services.incentive.engagement.domain.placement import MisplacedRecord, Placement
from services.incentive.engagement.domain.records import OutputTopics, build_outgoing
from services.incentive.engagement.domain.snapshot import (
    SNAP,
    TAIL,
    PartitionLedger,
    SnapshotPosition,
    decode_position,
    encode_position,
    parse_key,
)
from services.incentive.engagement.domain.views import FetchViews, book_accepted

TOPICS = OutputTopics("facts", "dedup", "dlq")


def test_a_batch_on_its_murmur2_partition_passes_and_elsewhere_is_refused() -> None:
    placement = Placement(4)
    consumers = [f"user-{i}" for i in range(200)]
    for c in consumers:
        placement.check(c, partition_for(c, 4))
    # kcat's default partitioner (consistent_random) is crc32 of the key.
    foreign = next(c for c in consumers if zlib.crc32(c.encode()) % 4 != partition_for(c, 4))
    with pytest.raises(MisplacedRecord) as refused:
        placement.check(foreign, zlib.crc32(foreign.encode()) % 4)
    assert "murmur2" in str(refused.value) and "not counted" in str(refused.value)


def test_a_partition_count_change_misplaces_records() -> None:
    consumers = [f"user-{i}" for i in range(200)]
    moved = [c for c in consumers if partition_for(c, 8) != partition_for(c, 4)]
    assert moved, "doubling the partitions moves some consumers"
    # Where a producer that knows 8 partitions puts it, judged by the registered 4.
    with pytest.raises(MisplacedRecord):
        Placement(4).check(moved[0], partition_for(moved[0], 8))


def test_keys_and_positions_round_trip_and_foreign_metadata_is_refused() -> None:
    ledger = PartitionLedger()
    key = ledger.new_key(3, SNAP, "2026-W48", 7)
    assert parse_key(key.encode()) == key
    position = SnapshotPosition(7, 12345)
    assert decode_position(encode_position(position)) == position
    assert decode_position("") == SnapshotPosition(0, 0)
    for bad in ("hello", '{"dedup": {"generation": -1, "from": 0}}', '{"x": 1}'):
        with pytest.raises(ValueError, match="not a dedup position"):
            decode_position(bad)
    with pytest.raises(ValueError, match="not a dedup snapshot key"):
        parse_key(b"p1")


def _fetch(memory: DedupMemory, ids: list[str], week: str, offset: int) -> FetchViews:
    at = week_start_ms(week) + 3_600_000
    rows = [EngagementRow(i, "item", "c1", at, VIEW, dwell_seconds=1) for i in ids]
    agg = FetchViews()
    agg.add_batch(0, offset, build_batch(f"b{offset}", "u1", rows), memory)
    return agg


def _commit(
    agg: FetchViews, memory: DedupMemory, ledger: PartitionLedger, min_tail: int
) -> list[tuple[str, int, bytes, bytes | None]]:
    pruned = book_accepted(agg, {0: memory})
    out = build_outgoing(
        agg, pruned, {0: memory}, {0: ledger}, TOPICS, group_id="g", now_ms=0,
        min_tail_ids=min_tail,
    )
    for p, (generation, _) in out.new_generations.items():
        ledger.position = SnapshotPosition(generation, 1000 * generation)  # as a commit would
        assert p == 0
    return [r for r in out.records if r[0] == "dedup"]


def test_tail_grows_until_it_matches_the_snapshot_then_a_new_generation_replaces_it() -> None:
    memory, ledger = DedupMemory(), PartitionLedger()
    first = _commit(_fetch(memory, ["a", "b"], "2026-W48", 1), memory, ledger, min_tail=3)
    assert [parse_key(k).kind for _, _, k, _ in first] == [TAIL]
    second = _commit(_fetch(memory, ["c"], "2026-W48", 2), memory, ledger, min_tail=3)
    keys = [(parse_key(k), v) for _, _, k, v in second]
    # Tail reached 3 ids: generation 1 holds all of memory, generation 0's key is tombstoned.
    assert [(k.kind, k.generation) for k, v in keys if v is not None] == [(SNAP, 1)]
    assert [(k.kind, k.generation) for k, v in keys if v is None] == [(TAIL, 0)]
    snapshot = decode(keys[0][1], DedupCheckpoint).payload
    assert sorted(snapshot.accepted[0].event_ids) == ["a", "b", "c"]
    assert ledger.snapshot_ids == 3 and ledger.tail_ids == 0


def test_a_week_leaving_the_horizon_is_tombstoned() -> None:
    memory, ledger = DedupMemory(horizon_weeks=2), PartitionLedger()
    _commit(_fetch(memory, ["old"], "2026-W45", 1), memory, ledger, min_tail=100)
    records = _commit(_fetch(memory, ["new"], "2026-W48", 2), memory, ledger, min_tail=100)
    tombstoned = [parse_key(k).week for _, _, k, v in records if v is None]
    assert tombstoned == ["2026-W45"]
    assert "old" not in memory and list(ledger.keys) == ["2026-W48"]
