"""A topic folded apart (in a child process) and merged after the parent's rows builds the
same model input as one sequential fold (services/incentive/scoring/week_inputs.py merge,
services/incentive/scoring/fact_reader.py's error passing)."""

from __future__ import annotations

import pickle
import random

import numpy as np
import pytest

from planet.incentive.v1.facts_pb2 import FactKind, FactRows, ItemStatus, UserStatus
from planetkit.envelope import UndecodableEvent
from planetkit.fact_rows import FOLLOW, LIKE, VIEW, FactRow, build_facts, event_keys
from services.incentive.domain.breakdown import encode_result
from services.incentive.domain.facts import IsoWeek
from services.incentive.domain.id_map import IdCollision, IdKind
from services.incentive.domain.policy import default_policy
from services.incentive.domain.settlement import settle
from services.incentive.scoring import fact_reader
from services.incentive.scoring.week_inputs import BuiltWeek, WeekInputs

WEEK = IsoWeek.parse("2026-W48")
T0 = WEEK.start_ms
HOUR = 3_600_000
CLOSE = WEEK.end_ms + HOUR


def _rows(n: int, seed: int) -> list[tuple[str, FactRow]]:
    """(consumer, row): views, likes and follows over a few users and items, some outside
    the week, some redelivered (same event id)."""
    rng = random.Random(seed)
    out = []
    for k in range(n):
        creator = rng.choice(["ada", "bo", "cy"])
        item = rng.choice([f"{creator}-post-{i}" for i in range(4)] + [f"home:{creator}"])
        at = T0 + rng.randrange(-HOUR, 7 * 24 * HOUR + HOUR)
        consumer = f"u{rng.randrange(40)}"
        kind = rng.choice([VIEW, VIEW, VIEW, LIKE, FOLLOW])
        event = f"e{rng.randrange(n)}" if rng.random() < 0.05 else f"e{seed}-{k}"
        out.append((consumer, FactRow(event, item, creator, at, kind,
                                      rng.randrange(600) if kind == VIEW else 0)))
    return out


def _big(rows: list[tuple[str, FactRow]], rows_id: str) -> FactRows:
    """One record of many consumers (the numpy path past 256 rows)."""
    ids = [r.event_id for _, r in rows]
    record = FactRows(
        rows_id=rows_id, consumer_ids=[c for c, _ in rows], event_ids=ids,
        item_ids=[r.item_id for _, r in rows], creator_ids=[r.creator_id for _, r in rows],
        occurred_at_ms=[r.occurred_at_ms for _, r in rows],
        kinds=[FactKind.ValueType(r.kind) for _, r in rows],
        dwell_seconds=[r.dwell_seconds for _, r in rows],
        text_lengths=[r.text_length for _, r in rows])
    record.event_keys[:], record.event_checks[:] = event_keys(ids)
    return record


def _records(rows: list[tuple[str, FactRow]], tag: str) -> list[FactRows]:
    """Big records and small ones of one consumer each (both fold paths)."""
    out = [_big(rows[:300], f"{tag}-big")]
    for n, (consumer, row) in enumerate(rows[300:]):
        out.append(build_facts(f"{tag}-{n}", consumer, [row], keyed=n % 2 == 0))
    return out


def _statuses(inputs: WeekInputs) -> None:
    for n, uid in enumerate(["ada", "bo", "cy", *(f"u{i}" for i in range(40))]):
        inputs.set_user(UserStatus(user_id=uid, kyc_verified_at_ms=T0 - 1 if n % 3 else 0))
    for creator in ("ada", "bo"):  # cy's items have no status: their earliest fact names him
        for i in range(4):
            inputs.set_item(ItemStatus(item_id=f"{creator}-post-{i}", creator_id=creator))


def _build(inputs: WeekInputs) -> BuiltWeek:
    _statuses(inputs)
    return inputs.build(pool_minor=1_000_000, rollovers={"bo": 500}, quote_asset="USDT",
                        status_at_ms=CLOSE)


def _same(a: BuiltWeek, b: BuiltWeek) -> bool:
    """The model inputs are equal: every event column, every status, the pool."""
    fa, fb = a.facts, b.facts
    columns = ("event_id", "consumer_id", "creator_id", "item_id", "occurred_at_ms", "kind",
               "dwell_seconds", "text_length")
    return all(np.array_equal(getattr(fa.events, c), getattr(fb.events, c))
               and getattr(fa.events, c).dtype == getattr(fb.events, c).dtype
               for c in columns) and (
        fa.week, fa.pool_minor, fa.consumers, fa.creators, fa.items, fa.rollovers, a.rows) == (
        fb.week, fb.pool_minor, fb.consumers, fb.creators, fb.items, fb.rollovers, b.rows)


def _sequential(first: list[FactRows], second: list[FactRows]) -> WeekInputs:
    inputs = WeekInputs(WEEK)
    for record in (*first, *second):
        inputs.add_facts(record)
    return inputs


def _merged(first: list[FactRows], second: list[FactRows]) -> WeekInputs:
    parent, child = WeekInputs(WEEK), WeekInputs(WEEK)
    for record in first:
        parent.add_facts(record)
    for record in second:
        child.add_facts(record)
    # Through pickle, as the executor's pipe carries it.
    parent.merge(pickle.loads(pickle.dumps(child.folded())))
    return parent


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_merging_a_topic_folded_apart_builds_the_sequential_input(seed: int) -> None:
    views = _records(_rows(700, seed), "v")
    interactions = _records(_rows(500, seed + 100), "i")
    want, got = _sequential(views, interactions), _merged(views, interactions)
    assert len(got) == len(want)
    # The same dense codes, row for row (first-seen order over views then interactions).
    want_cols, got_cols = want.folded(), got.folded()
    assert want_cols.names == got_cols.names
    for name, column in want_cols.columns.items():
        assert got_cols.columns[name].dtype == column.dtype, name
        assert np.array_equal(got_cols.columns[name], column), name
    a, b = _build(want), _build(got)
    assert _same(a, b)
    assert {k: v.SerializeToString() for k, v in a.activity.items()} == \
        {k: v.SerializeToString() for k, v in b.activity.items()}
    assert list(a.activity) == list(b.activity)
    policy = default_policy()
    assert encode_result(settle(a.facts, policy)) == encode_result(settle(b.facts, policy))


def test_an_empty_side_merges_to_the_other() -> None:
    views = _records(_rows(400, 5), "v")
    for first, second in ((views, []), ([], views), ([], [])):
        want, got = _sequential(first, second), _merged(first, second)
        assert len(got) == len(want)
        assert _same(_build(got), _build(want))


def test_more_facts_after_a_merge_fold_as_sequentially() -> None:
    views, interactions = _records(_rows(400, 6), "v"), _records(_rows(300, 7), "i")
    late = _records(_rows(350, 8), "late")
    want, got = _sequential(views, interactions), _merged(views, interactions)
    for record in late:
        want.add_facts(record)
        got.add_facts(record)
    assert _same(_build(got), _build(want))


def test_the_childs_errors_are_raised_in_the_parent_as_themselves() -> None:
    collision = IdCollision(IdKind.ITEM, 7, "post-a", "post-b")
    with pytest.raises(IdCollision) as raised:
        fact_reader._outcome(fact_reader._failed(collision), "t")
    assert (raised.value.kind, raised.value.value, raised.value.first, raised.value.second) \
        == (IdKind.ITEM, 7, "post-a", "post-b")
    with pytest.raises(UndecodableEvent, match="not an envelope"):
        fact_reader._outcome(fact_reader._failed(UndecodableEvent("not an envelope")), "t")

    class Unpicklable(Exception):
        def __init__(self, a: int, b: int) -> None:
            super().__init__(f"{a} and {b}")

    with pytest.raises(fact_reader.ChildFailed, match="Unpicklable: 1 and 2"):
        fact_reader._outcome(fact_reader._failed(Unpicklable(1, 2)), "t")
