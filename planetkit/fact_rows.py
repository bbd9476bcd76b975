"""Building and reading the columnar FactRows of the weekly pool's fact topics.

The aggregator writes view facts, the incentive processor interaction facts (each topic has one
writer); the settlement, the estimate and the reconciliation read both with ``iter_facts``.
Kinds are the model's EventKind numbers (planet.incentive.v1.FactKind mirrors them).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence, Sized
from typing import NamedTuple

from planet.incentive.v1.facts_pb2 import FactKind, FactRows

VIEW = FactKind.FACT_KIND_VIEW
LIKE = FactKind.FACT_KIND_LIKE
COMMENT = FactKind.FACT_KIND_COMMENT
REPLY = FactKind.FACT_KIND_REPLY
SHARE = FactKind.FACT_KIND_SHARE
FOLLOW = FactKind.FACT_KIND_FOLLOW
TIP = FactKind.FACT_KIND_TIP
QA = FactKind.FACT_KIND_QA
MAX_KIND = QA


class FactRow(NamedTuple):
    """One engagement fact of one consumer."""

    event_id: str
    item_id: str
    creator_id: str
    occurred_at_ms: int
    kind: int
    dwell_seconds: int = 0
    text_length: int = 0


def build_facts(rows_id: str, consumer_id: str, rows: Sequence[FactRow]) -> FactRows:
    """Pack rows of one consumer into one columnar record."""
    return FactRows(
        rows_id=rows_id,
        consumer_id=consumer_id,
        event_ids=[r.event_id for r in rows],
        item_ids=[r.item_id for r in rows],
        creator_ids=[r.creator_id for r in rows],
        occurred_at_ms=[r.occurred_at_ms for r in rows],
        kinds=[FactKind.ValueType(r.kind) for r in rows],
        dwell_seconds=[r.dwell_seconds for r in rows],
        text_lengths=[r.text_length for r in rows],
    )


def check_facts(facts: FactRows) -> None:
    """ValueError naming the problem when the record cannot be read as rows: columns of
    different lengths, rows without a consumer, kinds outside the model's table, or dwell on
    an interaction / text on a view (the model refuses those too, later and for the week)."""
    n = len(facts.event_ids)
    columns: dict[str, Sized] = {
        "item_ids": facts.item_ids,
        "creator_ids": facts.creator_ids,
        "occurred_at_ms": facts.occurred_at_ms,
        "kinds": facts.kinds,
        "dwell_seconds": facts.dwell_seconds,
        "text_lengths": facts.text_lengths,
    }
    bad = [name for name, col in columns.items() if len(col) != n]
    if bad:
        raise ValueError(f"fact rows {facts.rows_id!r}: columns {bad} do not have {n} rows")
    if n and not facts.consumer_id:
        raise ValueError(f"fact rows {facts.rows_id!r} have rows but no consumer_id")
    for i, kind in enumerate(facts.kinds):
        if not 0 <= kind <= MAX_KIND:
            raise ValueError(f"fact rows {facts.rows_id!r} row {i}: kind {kind} is not a FactKind")
        if kind == VIEW and facts.text_lengths[i]:
            raise ValueError(f"fact rows {facts.rows_id!r} row {i}: a view carries no text")
        if kind != VIEW and facts.dwell_seconds[i]:
            raise ValueError(f"fact rows {facts.rows_id!r} row {i}: only views carry dwell")


def iter_facts(facts: FactRows) -> Iterator[FactRow]:
    """The rows of a record, checked first (ValueError for a malformed one)."""
    check_facts(facts)
    for row in zip(
        facts.event_ids,
        facts.item_ids,
        facts.creator_ids,
        facts.occurred_at_ms,
        facts.kinds,
        facts.dwell_seconds,
        facts.text_lengths,
        strict=True,
    ):
        yield FactRow(*row)
