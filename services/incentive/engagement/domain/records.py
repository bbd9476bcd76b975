"""The records one fetch commits: view facts, dedup ids (tail or a new snapshot), tombstones.

Pure: given the fetch's accepted views, the memories (already updated with the fetch) and
the ledgers, it returns records and, per partition that starts a new snapshot
generation, the index of the record whose offset the generation starts at.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from itertools import pairwise

from planet.incentive.v1.engagement_pb2 import DedupCheckpoint, WeekEventIds
from planet.incentive.v1.facts_pb2 import FactRows
from planetkit.envelope import encode, wrap
from planetkit.fact_rows import VIEW, event_keys
from planetkit.service_identities import ENGAGEMENT_AGGREGATOR
from services.incentive.engagement.domain.dedup import DedupMemory
from services.incentive.engagement.domain.snapshot import SNAP, TAIL, PartitionLedger
from services.incentive.engagement.domain.views import FetchViews, ViewColumns

SOURCE = ENGAGEMENT_AGGREGATOR
# ~20 bytes an id: dedup records stay well under the 8 MiB limit.
MAX_IDS_PER_RECORD = 100_000
# A fact record aims at ~1 MiB (a partition's views of one fetch are split beyond it), far
# from the broker's 8 MiB limit even when every id character takes 4 bytes of UTF-8.
MAX_FACT_BYTES = 1 << 20
# Bytes a view row adds besides its four ids' characters: a tag and a length byte per id
# (two for the long ones) and, in the packed columns, up to 10 for the time, 5 for dwell,
# 1 each for kind and text length, 8 each for the event key and check.
_ROW_OVERHEAD = 48
# (topic, partition, key, value); partition -1 lets the producer's partitioner choose;
# a None value is a tombstone (compaction removes the key).
Record = tuple[str, int, bytes, bytes | None]


@dataclass(frozen=True)
class OutputTopics:
    """Names of what the aggregator writes (view facts: partition p for input partition p)."""

    view_facts: str
    dedup: str
    dead_letters: str


@dataclass
class Outgoing:
    """One fetch's records, and where new snapshot generations start among them."""

    records: list[Record] = field(default_factory=list)
    # input partition -> (new generation, index in ``records`` of its first snapshot record)
    new_generations: dict[int, tuple[int, int]] = field(default_factory=dict)
    # View rows and fact records among ``records``.
    fact_rows: int = 0
    fact_records: int = 0


def view_facts(
    commit_id: str, partition: int, views: Mapping[str, ViewColumns],
    max_bytes: int = MAX_FACT_BYTES,
) -> list[FactRows]:
    """One input partition's accepted views of one fetch (consumer -> their views) as
    FactRows with a consumer column, each of about ``max_bytes`` at most (one record unless
    the views are many), consumer after consumer in fetch order.

    Record k is ``rows_id = "<commit_id>:<partition>:<k>"``: a commit id names every
    partition's last offset of its fetch, so ids never repeat, and a replay of the same fetch
    (same batches, same memory) builds the same records with the same ids.
    """
    consumers: list[str] = []
    event_ids: list[str] = []
    item_ids: list[str] = []
    creator_ids: list[str] = []
    occurred_at_ms: list[int] = []
    dwell_seconds: list[int] = []
    for consumer, cols in views.items():
        consumers += [consumer] * len(cols)
        event_ids += cols.event_ids
        item_ids += cols.item_ids
        creator_ids += cols.creator_ids
        occurred_at_ms += cols.occurred_at_ms
        dwell_seconds += cols.dwell_seconds
    out: list[FactRows] = []
    if not event_ids:
        return out
    # Hashed here, once per accepted view, so the scoring job need not hash a week's events.
    keys, checks = event_keys(event_ids)
    id_columns = (consumers, event_ids, item_ids, creator_ids)
    for start, stop in _pieces(id_columns, 0, len(event_ids), max_bytes):
        count = stop - start
        out.append(
            FactRows(
                rows_id=f"{commit_id}:{partition}:{len(out)}",
                consumer_ids=consumers[start:stop],
                event_ids=event_ids[start:stop],
                item_ids=item_ids[start:stop],
                creator_ids=creator_ids[start:stop],
                occurred_at_ms=occurred_at_ms[start:stop],
                kinds=[VIEW] * count,
                dwell_seconds=dwell_seconds[start:stop],
                text_lengths=[0] * count,  # a view carries no text (the model refuses one)
                event_keys=keys[start:stop],
                event_checks=checks[start:stop],
            )
        )
    return out


def _estimated_bytes(id_columns: tuple[list[str], ...], start: int, stop: int) -> int:
    chars = sum(sum(map(len, col[start:stop])) for col in id_columns)
    return chars + _ROW_OVERHEAD * (stop - start)


def _pieces(id_columns: tuple[list[str], ...], start: int, stop: int,
            max_bytes: int) -> Iterator[tuple[int, int]]:
    """Row ranges of about ``max_bytes`` at most, in order (one row is never split)."""
    size = _estimated_bytes(id_columns, start, stop)
    if size <= max_bytes or stop - start <= 1:
        yield start, stop
        return
    parts = min(size // max_bytes + 1, stop - start)
    bounds = [start + (stop - start) * k // parts for k in range(parts + 1)]
    for lo, hi in pairwise(bounds):
        yield from _pieces(id_columns, lo, hi, max_bytes)


def build_outgoing(
    fetch: FetchViews,
    pruned: Mapping[int, list[str]],
    memories: Mapping[int, DedupMemory],
    ledgers: Mapping[int, PartitionLedger],
    topics: OutputTopics,
    *,
    group_id: str,
    now_ms: int,
    min_tail_ids: int,
) -> Outgoing:
    """Per input partition its view facts, then its dedup records; updates the ledgers."""
    span = ",".join(f"p{p}@{t.last_offset}" for p, t in sorted(fetch.partitions.items()))
    commit_id = f"{group_id}:{span}"
    out = Outgoing()
    for p, tally in sorted(fetch.partitions.items()):
        _add_view_facts(out, topics.view_facts, commit_id, p, tally.views, now_ms)
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


def _add_view_facts(
    out: Outgoing,
    topic: str,
    commit_id: str,
    partition: int,
    views: Mapping[str, ViewColumns],
    now_ms: int,
) -> None:
    """Partition ``partition`` of the facts topic (the input partition's number, so a
    consumer's views stay on one partition, in order, whatever the fetch boundaries), keyed
    by the partition: a record holds many consumers."""
    key = f"p{partition}"
    records = view_facts(commit_id, partition, views)
    for facts in records:
        env = wrap(facts, event_id=facts.rows_id, source=SOURCE, aggregate_id=key,
                   occurred_at_ms=now_ms)
        out.records.append((topic, partition, key.encode(), encode(env)))
        out.fact_rows += len(facts.event_ids)
    out.fact_records += len(records)
