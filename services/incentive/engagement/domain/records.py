"""The records one fetch commits: deltas, dedup ids (tail or a new snapshot), tombstones.

Pure: given the fetch's aggregate, the memories (already updated with the fetch) and
the ledgers, it returns records and, per partition that starts a new snapshot
generation, the index of the record whose offset the generation starts at.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from planet.incentive.v1.engagement_pb2 import DedupCheckpoint, WeekEventIds
from planetkit.engagement_deltas import encode_deltas
from planetkit.envelope import encode, wrap
from planetkit.service_identities import ENGAGEMENT_AGGREGATOR
from services.incentive.engagement.domain.aggregate import FetchAggregate
from services.incentive.engagement.domain.dedup import DedupMemory
from services.incentive.engagement.domain.snapshot import SNAP, TAIL, PartitionLedger

SOURCE = ENGAGEMENT_AGGREGATOR
# ~40 bytes a row and ~20 bytes an id: records stay well under the 8 MiB limit.
MAX_ROWS_PER_RECORD = 50_000
MAX_IDS_PER_RECORD = 100_000
# (topic, partition, key, value); partition -1 lets the producer's partitioner choose;
# a None value is a tombstone (compaction removes the key).
Record = tuple[str, int, bytes, bytes | None]


@dataclass(frozen=True)
class OutputTopics:
    """Names and partition counts of what the aggregator writes."""

    deltas: str
    deltas_partitions: int
    dedup: str
    dead_letters: str


@dataclass
class Outgoing:
    """One fetch's records, and where new snapshot generations start among them."""

    records: list[Record] = field(default_factory=list)
    # input partition -> (new generation, index in ``records`` of its first snapshot record)
    new_generations: dict[int, tuple[int, int]] = field(default_factory=dict)


def build_outgoing(
    aggregate: FetchAggregate,
    pruned: Mapping[int, list[str]],
    memories: Mapping[int, DedupMemory],
    ledgers: Mapping[int, PartitionLedger],
    topics: OutputTopics,
    *,
    group_id: str,
    now_ms: int,
    min_tail_ids: int,
) -> Outgoing:
    """Deltas, then per input partition its dedup records; updates the ledgers."""
    span = ",".join(f"p{p}@{t.last_offset}" for p, t in sorted(aggregate.partitions.items()))
    commit_id = f"{group_id}:{span}"
    out = Outgoing(list(_delta_records(aggregate, topics, commit_id, now_ms)))
    for p, tally in sorted(aggregate.partitions.items()):
        ledger = ledgers[p]
        tombstones = ledger.pending_tombstones + ledger.drop_weeks(pruned.get(p, []))
        ledger.pending_tombstones = []
        accepted = sum(len(ids) for ids in tally.accepted.values())
        ledger.tail_ids += accepted
        if accepted and ledger.snapshot_due(min_tail_ids):
            tombstones += ledger.all_keys()
            generation = ledger.position.generation + 1
            ledger.keys, ledger.next_n, ledger.tail_ids = {}, 0, 0
            ledger.snapshot_ids = len(memories[p])
            out.new_generations[p] = (generation, len(out.records))
            kind, weeks = SNAP, memories[p].weeks()
        else:
            generation, kind, weeks = ledger.position.generation, TAIL, tally.accepted
        for n, (week, ids) in enumerate(_chunks(weeks)):
            # The counters travel once, on the first record of the partition's commit.
            first = n == 0
            cp = DedupCheckpoint(
                partition=p,
                last_offset=tally.last_offset,
                accepted=[WeekEventIds(week=week, event_ids=ids)],
                duplicates_dropped=tally.duplicates if first else 0,
                late_dropped=tally.late if first else 0,
                invalid_dropped=tally.invalid if first else 0,
            )
            key = ledger.new_key(p, kind, week, generation)
            env = wrap(
                cp,
                event_id=f"{commit_id}:dedup:{key.encode().decode()}",
                source=SOURCE,
                aggregate_id=f"p{p}",
                occurred_at_ms=now_ms,
            )
            out.records.append((topics.dedup, p, key.encode(), encode(env)))
        out.records += [(topics.dedup, p, key.encode(), None) for key in tombstones]
    return out


def _chunks(weeks: Mapping[str, list[str]]) -> Iterator[tuple[str, list[str]]]:
    """(week, ids) pieces of at most MAX_IDS_PER_RECORD ids; each record holds one week."""
    for week, ids in sorted(weeks.items()):
        for start in range(0, len(ids), MAX_IDS_PER_RECORD):
            yield week, ids[start : start + MAX_IDS_PER_RECORD]


def _delta_records(
    aggregate: FetchAggregate, topics: OutputTopics, commit_id: str, now_ms: int
) -> Iterator[Record]:
    for q, items in sorted(aggregate.by_output_partition(topics.deltas_partitions).items()):
        # Chunked so no record nears the broker's message size limit.
        for n, start in enumerate(range(0, len(items), MAX_ROWS_PER_RECORD)):
            msg = encode_deltas(f"{commit_id}:q{q}:{n}", items[start : start + MAX_ROWS_PER_RECORD])
            env = wrap(
                msg,
                event_id=msg.commit_id,
                source=SOURCE,
                aggregate_id=f"q{q}",
                occurred_at_ms=now_ms,
            )
            yield topics.deltas, q, env.aggregate_id.encode(), encode(env)
