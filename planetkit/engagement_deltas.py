"""The EngagementDeltas contract: the aggregator writes it, the scoring processor reads it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple

from planet.incentive.v1.engagement_pb2 import EngagementDeltas

DeltaRow = tuple[tuple[str, str, str], list[int]]


class Delta(NamedTuple):
    """One row: what a consumer added to a creator's week."""

    creator_id: str
    week: str
    consumer_id: str
    views: int
    dwell_seconds: int
    interactions: int


def encode_deltas(commit_id: str, rows: Sequence[DeltaRow]) -> EngagementDeltas:
    """Pack ((creator, week, consumer), [views, dwell, interactions]) rows into columns."""
    return EngagementDeltas(
        commit_id=commit_id,
        creator_ids=[k[0] for k, _ in rows],
        weeks=[k[1] for k, _ in rows],
        consumer_ids=[k[2] for k, _ in rows],
        views=[v[0] for _, v in rows],
        dwell_seconds=[v[1] for _, v in rows],
        interactions=[v[2] for _, v in rows],
    )


def iter_deltas(msg: EngagementDeltas) -> Iterator[Delta]:
    """The rows of a decoded EngagementDeltas; ValueError when its columns disagree."""
    columns = (msg.weeks, msg.consumer_ids, msg.views, msg.dwell_seconds, msg.interactions)
    if any(len(col) != len(msg.creator_ids) for col in columns):
        raise ValueError(f"EngagementDeltas {msg.commit_id!r}: columns differ in length")
    for row in zip(msg.creator_ids, *columns, strict=True):
        yield Delta(*row)
