"""Building and reading the columnar FactRows of the weekly pool's fact topics.

The aggregator writes view facts, one record per input partition and fetch with a consumer
column (``consumer_ids``) and the event keys; the incentive processor writes interaction facts,
one record of one consumer (``consumer_id``) per act with its event key (each topic has one
writer). Readers accept
both forms: ``consumers_of`` gives every row's consumer whichever the record uses. Kinds are
the model's EventKind numbers (planet.incentive.v1.FactKind mirrors them).

Event keys: the model's event id of an envelope event id is BLAKE2b-64 of ``event\0<id>``
(top bit cleared) and a second, independent 64-bit digest (``event-check\0<id>``) tells a
redelivered event (equal key, equal check) from two event ids on one key (equal key, different
check: refused, never merged) without keeping millions of id strings. The aggregator computes
both as it writes (it scales by partitions; the scoring job that reads every week is one), and
so does the interaction intake.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from typing import NamedTuple

import numpy as np

from planet.incentive.v1.facts_pb2 import FactKind, FactRows

VIEW = FactKind.FACT_KIND_VIEW
LIKE = FactKind.FACT_KIND_LIKE
COMMENT = FactKind.FACT_KIND_COMMENT
REPLY = FactKind.FACT_KIND_REPLY
SHARE = FactKind.FACT_KIND_SHARE
FOLLOW = FactKind.FACT_KIND_FOLLOW
TIP = FactKind.FACT_KIND_TIP
QA = FactKind.FACT_KIND_QA
GROUP_MESSAGE = FactKind.FACT_KIND_GROUP_MESSAGE
GROUP_REACTION = FactKind.FACT_KIND_GROUP_REACTION
MAX_KIND = GROUP_REACTION
_TOP_BIT_CLEARED = (1 << 63) - 1
# Up to this many rows a record is checked row by row (whole-column numpy costs more on few).
_SMALL = 64
# Hash states with the prefix already absorbed: copy() + update() is about half the cost of
# hashing prefix + id afresh (a week hashes millions of ids).
_KEY = hashlib.blake2b(b"event\0", digest_size=8)
_CHECK = hashlib.blake2b(b"event-check\0", digest_size=8)


def event_key(event_id: str) -> int:
    """The model's event id of an envelope event id (BLAKE2b-64, top bit cleared)."""
    h = _KEY.copy()
    h.update(event_id.encode())
    return int.from_bytes(h.digest(), "big") & _TOP_BIT_CLEARED


def event_check(event_id: str) -> int:
    """A second 64-bit digest of an event id, independent of ``event_key`` (unsigned)."""
    h = _CHECK.copy()
    h.update(event_id.encode())
    return int.from_bytes(h.digest(), "big")


def event_keys(event_ids: Sequence[str]) -> tuple[list[int], list[int]]:
    """(event_key, event_check) of each id, as two columns."""
    key, check = _KEY.copy, _CHECK.copy
    keys, checks = [], []
    for text in event_ids:
        raw = text.encode()
        h = key()
        h.update(raw)
        keys.append(int.from_bytes(h.digest(), "big") & _TOP_BIT_CLEARED)
        h = check()
        h.update(raw)
        checks.append(int.from_bytes(h.digest(), "big"))
    return keys, checks


class FactRow(NamedTuple):
    """One engagement fact of one consumer."""

    event_id: str
    item_id: str
    creator_id: str
    occurred_at_ms: int
    kind: int
    dwell_seconds: int = 0
    text_length: int = 0


def build_facts(rows_id: str, consumer_id: str, rows: Sequence[FactRow], *,
                keyed: bool = False) -> FactRows:
    """Pack rows of one consumer into one columnar record (no consumer column); ``keyed``:
    with each row's event key and check digest (what a writer computes once so that the
    weekly reader hashes nothing)."""
    facts = FactRows(
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
    if keyed:
        keys, checks = event_keys(facts.event_ids)
        facts.event_keys[:] = keys
        facts.event_checks[:] = checks
    return facts


class Columns(NamedTuple):
    """A record's columns, each read once (a protobuf column access builds a wrapper, ~0.5 µs:
    a reader of a million small records reads each column of each record once)."""

    event_ids: Sequence[str]
    item_ids: Sequence[str]
    creator_ids: Sequence[str]
    occurred_at_ms: Sequence[int]
    kinds: Sequence[int]
    dwell_seconds: Sequence[int]
    text_lengths: Sequence[int]
    consumer_ids: Sequence[str]
    event_keys: Sequence[int]
    event_checks: Sequence[int]


def check_facts(facts: FactRows) -> None:
    """ValueError naming the problem when the record cannot be read as rows: columns of
    different lengths, rows without a consumer (or both consumer forms), event keys not
    matching their ids, kinds outside the model's table, or dwell on an interaction / text on
    a view (the model refuses those too, later and for the week). Whole columns at a time: a
    record holds thousands of rows."""
    checked_columns(facts)


def checked_columns(facts: FactRows) -> Columns:
    """``check_facts``, returning the columns it read."""
    cols = Columns(facts.event_ids, facts.item_ids, facts.creator_ids, facts.occurred_at_ms,
                   facts.kinds, facts.dwell_seconds, facts.text_lengths, facts.consumer_ids,
                   facts.event_keys, facts.event_checks)
    n = len(cols.event_ids)
    lengths = {"item_ids": len(cols.item_ids), "creator_ids": len(cols.creator_ids),
               "occurred_at_ms": len(cols.occurred_at_ms), "kinds": len(cols.kinds),
               "dwell_seconds": len(cols.dwell_seconds), "text_lengths": len(cols.text_lengths)}
    consumers = len(cols.consumer_ids)
    if consumers:
        lengths["consumer_ids"] = consumers
    keyed = len(cols.event_keys)
    if keyed or len(cols.event_checks):
        lengths["event_keys"] = keyed
        lengths["event_checks"] = len(cols.event_checks)
    bad = [name for name, length in lengths.items() if length != n]
    if bad:
        raise ValueError(f"fact rows {facts.rows_id!r}: columns {bad} do not have {n} rows")
    if not n:
        return cols
    if consumers:
        if facts.consumer_id:
            raise ValueError(f"fact rows {facts.rows_id!r} have both consumer_id and "
                             "consumer_ids")
        if "" in cols.consumer_ids:
            raise ValueError(f"fact rows {facts.rows_id!r} row "
                             f"{list(cols.consumer_ids).index('')}: no consumer")
    elif not facts.consumer_id:
        raise ValueError(f"fact rows {facts.rows_id!r} have rows but no consumer_id")
    if keyed:
        # The writer's keys are trusted past the first row (checking every row would cost
        # what they save); a writer hashing differently fails here on its first record.
        first = cols.event_ids[0]
        if (cols.event_keys[0], cols.event_checks[0]) != (event_key(first),
                                                          event_check(first)):
            raise ValueError(f"fact rows {facts.rows_id!r} row 0: event key does not match "
                             f"event id {first!r}")
        if (cols.event_keys[0] if n == 1 else max(cols.event_keys)) > _TOP_BIT_CLEARED:
            raise ValueError(f"fact rows {facts.rows_id!r}: an event key has its top bit set")
    if n <= _SMALL:
        kinds, dwell, text = cols.kinds, cols.dwell_seconds, cols.text_lengths
        lowest, highest = (kinds[0], kinds[0]) if n == 1 else (min(kinds), max(kinds))
        if lowest >= 0 and highest <= MAX_KIND and (
                (lowest > VIEW and not any(dwell))  # no views
                or (highest == VIEW and not any(text))):  # views only
            return cols
        for i, (kind, d, t) in enumerate(zip(kinds, dwell, text, strict=True)):
            problem = _row_problem(kind, d, t)
            if problem:
                raise ValueError(f"fact rows {facts.rows_id!r} row {i}: {problem}")
        return cols
    kinds_array = np.asarray(cols.kinds, dtype=np.int64)
    views = kinds_array == VIEW
    wrong = (kinds_array < 0) | (kinds_array > MAX_KIND)
    wrong |= views & (np.asarray(cols.text_lengths, dtype=np.int64) != 0)
    wrong |= ~views & (np.asarray(cols.dwell_seconds, dtype=np.int64) != 0)
    if wrong.any():
        i = int(np.flatnonzero(wrong)[0])
        problem = _row_problem(cols.kinds[i], cols.dwell_seconds[i], cols.text_lengths[i])
        raise ValueError(f"fact rows {facts.rows_id!r} row {i}: {problem}")
    return cols


def _row_problem(kind: int, dwell: int, text: int) -> str:
    if not 0 <= kind <= MAX_KIND:
        return f"kind {kind} is not a FactKind"
    if kind == VIEW and text:
        return "a view carries no text"
    if kind != VIEW and dwell:
        return "only views carry dwell"
    return ""


def consumers_of(facts: FactRows) -> list[str]:
    """Each row's consumer, whichever form the record uses (checked records only)."""
    if len(facts.consumer_ids):
        return list(facts.consumer_ids)
    return [facts.consumer_id] * len(facts.event_ids)


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


def iter_consumer_facts(facts: FactRows) -> Iterator[tuple[str, FactRow]]:
    """(consumer, row) of each row of a record of either form, checked first."""
    rows = list(iter_facts(facts))
    yield from zip(consumers_of(facts), rows, strict=True)
