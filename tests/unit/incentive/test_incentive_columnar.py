"""The columnar machinery behind the settlement's speed, against simple references.

The sorts, rankings, vectorised roundings and the vectorised D'Hondt hand-out replace
straightforward code (np.lexsort, np.unique, largest_remainder per split, one unit at a time);
each is checked here against that reference, and the whole settlement against the promise
that ids matter only through their order (which runs both the lookup-table and the sorting
paths for ids).
"""

from __future__ import annotations

import dataclasses
import gc
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from incentive_builders import WEEK, consumers_st, events_st, week_facts

from services.incentive.domain.allocation import _top_up_by_heap, allocate_budgets
from services.incentive.domain.breakdown import encode_result
from services.incentive.domain.engagement import Engagement, _factorize, _sort_order
from services.incentive.domain.facts import (
    ConsumerValue,
    CreatorStatus,
    EngagementColumns,
    EngagementFact,
    ItemStatus,
    Rollover,
    WeekFacts,
)
from services.incentive.domain.policy import default_policy
from services.incentive.domain.rounding import largest_remainder, largest_remainder_runs
from services.incentive.domain.settlement import settle

POLICY = default_policy()
FAST = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FAST
@given(rows=st.integers(0, 300), bounds=st.lists(
    st.sampled_from([1, 2, 7, 1000, 1 << 20, 1 << 40, 1 << 62]), min_size=1, max_size=4),
    seed=st.integers(0, 2**32))
def test_sort_order_is_a_stable_lexsort(rows: int, bounds: list[int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    # Few distinct values too, so that ties (and stability) matter.
    digits = [rng.integers(0, min(b, 3) if seed % 2 else b, size=rows, dtype=np.int64)
              for b in bounds]
    got = _sort_order(list(zip(digits, bounds, strict=True)))
    want = np.lexsort(digits[::-1]) if rows else np.zeros(0, dtype=np.int64)
    assert got.tolist() == want.tolist()


@FAST
@given(ids=st.lists(st.one_of(st.integers(0, 50), st.integers(-2**63, 2**63 - 1)),
                    max_size=200))
def test_factorize_is_unique_with_inverse(ids: list[int]) -> None:
    arr = np.array(ids, dtype=np.int64)
    for column in (arr, arr % 1000 + 10**12):  # sparse ids sort, compact ones use a table
        values, rank = _factorize(column)
        want_values, want_rank = np.unique(column, return_inverse=True)
        assert values.tolist() == want_values.tolist()
        assert rank.tolist() == want_rank.tolist()


@FAST
@given(splits=st.lists(st.tuples(
    st.sampled_from([0, 1, 2, 7, 10**4, 5 * 10**9, 2**63 + 1]),
    st.lists(st.one_of(st.integers(0, 3), st.integers(0, 10**15)), min_size=1, max_size=12)),
    min_size=1, max_size=20))
def test_largest_remainder_runs_matches_one_split_at_a_time(
        splits: list[tuple[int, list[int]]]) -> None:
    splits = [(total if sum(w) else 0, w) for total, w in splits]
    weights = np.array([w for _, ws in splits for w in ws], dtype=np.int64)
    first = np.cumsum([0] + [len(ws) for _, ws in splits[:-1]]).astype(np.int64)
    got = largest_remainder_runs([total for total, _ in splits], weights, first)
    want = [share for total, ws in splits
            for share in largest_remainder(total, list(enumerate(ws))).values()]
    assert got == want


def reference_units(credits: list[int], budget: int) -> list[int]:
    """D'Hondt by its definition for a saturated consumer: the `budget` largest quotients
    g / j win a unit each, ties to the earlier (smaller) creator."""
    quotients = sorted((-Fraction(g, j), c) for c, g in enumerate(credits) if g
                       for j in range(1, budget + 1))
    units = [0] * len(credits)
    for _, c in quotients[:budget]:
        units[c] += 1
    return units


@FAST
@given(consumers=st.lists(st.tuples(
    st.integers(1, 6),  # weight
    st.lists(st.sampled_from([1, 30, 150, 600, 601, 4_000]), min_size=1, max_size=12)),
    min_size=1, max_size=30))
def test_vectorised_hand_out_is_dhondt(consumers: list[tuple[int, list[int]]]) -> None:
    """Many consumers at once, equal points (ties) likely: every consumer's split is the
    definition's (saturated) or floor(g * B / M) (light)."""
    policy = POLICY.evolve(version="t", budget_units_per_weight=7, saturation_points=300)
    pc, pr, pts = [], [], []
    for c, (_, points) in enumerate(consumers):
        for r, p in enumerate(points):
            pc.append(c)
            pr.append(r)
            pts.append(p)
    eng = _engagement(pc, pr, pts, [w for w, _ in consumers])
    alloc = allocate_budgets(eng, policy)
    sat = math.isqrt(300 * policy.concavity_scale)
    got = alloc.units.tolist()
    at = 0
    for weight, points in consumers:
        budget = weight * 7
        credits = [math.isqrt(p * policy.concavity_scale) for p in points]
        light = [g * budget // sat for g in credits]
        want = reference_units(credits, budget) if sum(light) > budget else light
        assert got[at:at + len(points)] == want
        at += len(points)


def test_hand_out_of_huge_credits_uses_exact_integers() -> None:
    """Credits too large for int64 keys take the heap; same rule, same answer."""
    credits = np.array([2**40, 2**40, 3 * 2**38, 5], dtype=np.int64)
    units = np.zeros(4, dtype=np.int64)
    _top_up_by_heap(units, credits, np.arange(4), np.arange(4), 9)
    assert units.tolist() == reference_units(credits.tolist(), 9)


def _engagement(pc: list[int], pr: list[int], points: list[int],
                weights: list[int]) -> Engagement:
    def col(values: list[int]) -> np.ndarray:
        return np.array(values, dtype=np.int64)

    none = col([])
    n_cre = max(pr) + 1
    return Engagement(col(list(range(len(weights)))), col(list(range(n_cre))), none, none,
                      col(weights), col([0] * len(weights)), col(pc), col(pr), col(points),
                      none, none, none, none, none, (none, none, none, none, none))


SPREAD = 2**40  # large enough that ids are ranked by sorting, not through a table


def spread(i: int) -> int:
    return i * SPREAD + 7


def spread_week(facts: WeekFacts) -> WeekFacts:
    """The same week with every id moved far apart, keeping their order."""
    ev = facts.events
    cols = EngagementColumns(ev.event_id * SPREAD + 7, ev.consumer_id * SPREAD + 7,
                             ev.creator_id * SPREAD + 7, ev.item_id * SPREAD + 7,
                             ev.occurred_at_ms, ev.kind, ev.dwell_seconds, ev.text_length)
    return WeekFacts(
        facts.week, facts.pool_minor, cols,
        tuple(dataclasses.replace(c, consumer_id=spread(c.consumer_id))
              for c in facts.consumers),
        tuple(dataclasses.replace(c, creator_id=spread(c.creator_id)) for c in facts.creators),
        tuple(ItemStatus(spread(i.item_id), spread(i.creator_id), i.removed_at_ms)
              for i in facts.items),
        tuple(Rollover(spread(r.creator_id), r.amount_minor) for r in facts.rollovers))


@FAST
@given(events=events_st(), consumers=consumers_st(), pool=st.integers(1, 10**9))
def test_ids_matter_only_through_their_order(
        events: list[EngagementFact], consumers: tuple[ConsumerValue, ...], pool: int) -> None:
    creators = tuple(CreatorStatus(c, True, c != 4, sanctioned=c == 3) for c in (1, 2, 3, 4))
    facts = dataclasses.replace(week_facts(events, consumers, pool, creators),
                                items=(ItemStatus(21, 2, WEEK.start_ms + 3 * 86_400_000),
                                       ItemStatus(30, 2)))
    base = settle(facts, POLICY)
    moved = settle(spread_week(facts), POLICY)
    assert moved.amounts() == {spread(c): a for c, a in base.amounts().items()}
    assert [[(i.item_id, i.amount_minor) for i in c.items] for c in moved.creators] == [
        [(spread(i.item_id), i.amount_minor) for i in c.items] for c in base.creators]
    assert [c.discounts for c in moved.creators] == [
        tuple(dataclasses.replace(d, item_id=None if d.item_id is None else spread(d.item_id))
              for d in c.discounts) for c in base.creators]


@pytest.mark.parametrize("enabled", [True, False])
def test_settling_leaves_the_garbage_collector_as_it_was(enabled: bool) -> None:
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        encode_result(settle(week_facts([], ()), POLICY))
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
