"""Building and reading the columnar EngagementBatch (gateway writes, aggregator reads)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence, Sized
from typing import NamedTuple

from planet.engagement.v1.telemetry_pb2 import EngagementBatch, EngagementKind

VIEW = EngagementKind.ENGAGEMENT_KIND_VIEW
INTERACTION_KINDS: dict[str, int] = {
    "like": EngagementKind.ENGAGEMENT_KIND_LIKE,
    "comment": EngagementKind.ENGAGEMENT_KIND_COMMENT,
    "reply": EngagementKind.ENGAGEMENT_KIND_REPLY,
    "share": EngagementKind.ENGAGEMENT_KIND_SHARE,
    "follow": EngagementKind.ENGAGEMENT_KIND_FOLLOW,
    "tip": EngagementKind.ENGAGEMENT_KIND_TIP,
    "qa": EngagementKind.ENGAGEMENT_KIND_QA,
}


class EngagementRow(NamedTuple):
    """One engagement event of a batch."""

    event_id: str
    item_id: str
    creator_id: str
    occurred_at_ms: int
    kind: int
    dwell_seconds: int = 0
    text_length: int = 0


def build_batch(batch_id: str, consumer_id: str, rows: Sequence[EngagementRow]) -> EngagementBatch:
    """Pack rows of one consumer into a columnar batch."""
    return EngagementBatch(
        batch_id=batch_id,
        consumer_id=consumer_id,
        event_ids=[r.event_id for r in rows],
        item_ids=[r.item_id for r in rows],
        creator_ids=[r.creator_id for r in rows],
        occurred_at_ms=[r.occurred_at_ms for r in rows],
        kinds=[EngagementKind.ValueType(r.kind) for r in rows],
        dwell_seconds=[r.dwell_seconds for r in rows],
        text_lengths=[r.text_length for r in rows],
    )


def check_batch(batch: EngagementBatch) -> None:
    """ValueError when the columns disagree in length (a malformed batch)."""
    n = len(batch.event_ids)
    columns: dict[str, Sized] = {
        "item_ids": batch.item_ids,
        "creator_ids": batch.creator_ids,
        "occurred_at_ms": batch.occurred_at_ms,
        "kinds": batch.kinds,
        "dwell_seconds": batch.dwell_seconds,
        "text_lengths": batch.text_lengths,
    }
    bad = [name for name, col in columns.items() if len(col) != n]
    if bad:
        raise ValueError(f"batch {batch.batch_id!r}: columns {bad} do not have {n} rows")
    if n and not batch.consumer_id:
        raise ValueError(f"batch {batch.batch_id!r} has events but no consumer_id")


def iter_rows(batch: EngagementBatch) -> Iterator[EngagementRow]:
    """The rows of a checked batch."""
    check_batch(batch)
    for row in zip(
        batch.event_ids,
        batch.item_ids,
        batch.creator_ids,
        batch.occurred_at_ms,
        batch.kinds,
        batch.dwell_seconds,
        batch.text_lengths,
        strict=True,
    ):
        yield EngagementRow(*row)
