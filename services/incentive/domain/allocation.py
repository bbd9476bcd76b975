"""Stage 2: each consumer's influence budget, split over the creators they engaged with.

A consumer of value weight w holds a budget of B = w * budget_units_per_weight score units.
Their engagement with creator c earns credit g_c = isqrt(points_c * concavity_scale) (concave),
and the budget is handed out in whole units by the highest-quotient rule (D'Hondt): among all
quotients g_c / j (j = 1, 2, ...) that are at least M / B (M = the credit of the saturation
points), the B largest win a unit each; ties go to the smaller creator id. So a light consumer
spends floor(g_c * B / M) on each creator and a heavy one spends exactly B, never more.

This rule is the reason several properties hold exactly in integers: more engagement with c
raises c's quotients only, so c's units never fall, every other creator's never rise, and the
consumer's total never falls (see docs/incentives.md, "Why it is monotone").
Columnar int64 numpy, see facts.py for why.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np

from services.incentive.domain.engagement import Engagement, _group_starts, _run_of_row
from services.incentive.domain.facts import Int64Array
from services.incentive.domain.policy import ScoringPolicy

QUOTIENT_BITS = 41  # > 2 * 20 bits of (units + 1): floor(q * 2**41) orders quotients exactly
# Credits below this keep g * 2**41 (and a binary search's midpoints) inside int64.
_MAX_THRESHOLD_CREDIT = 1 << (62 - QUOTIENT_BITS)


def isqrt_array(n: Int64Array) -> Int64Array:
    """Exact floor square root of non-negative int64 values, by integer Newton steps."""
    if len(n) and int(n.max()) >= 1 << 62:
        raise ValueError("isqrt input too large")
    x = np.minimum(n, np.int64(1 << 31)).astype(np.int64)
    x = np.maximum(x, 1)
    while True:
        # From above, Newton steps never go below isqrt(n) >= 1 for n >= 1; the floor of 1
        # only keeps n == 0 (answered below) from dividing by zero.
        y = np.maximum((x + n // x) // 2, 1)
        smaller = y < x
        if not smaller.any():
            break
        x = np.where(smaller, y, x)
    return np.where(n == 0, 0, x).astype(np.int64)


@dataclass(frozen=True)
class Allocation:
    """Per (consumer, creator) pair, in Engagement's pair order."""

    credit: Int64Array  # g: concave credit of the pair's points
    units: Int64Array  # score units the consumer gave the creator
    unbounded_units: Int64Array  # units it would have been without the influence bound


def allocate_budgets(eng: Engagement, policy: ScoringPolicy) -> Allocation:
    """Split every consumer's budget over their creators (exact, monotone, order-free)."""
    pc = eng.pair_consumer
    g = isqrt_array(eng.pair_points * policy.concavity_scale)
    sat = np.int64(max(1, math.isqrt(policy.saturation_points * policy.concavity_scale)))
    budget = eng.consumer_weight[pc] * policy.budget_units_per_weight
    unbounded = g * budget // sat
    if len(pc) == 0:
        return Allocation(g, unbounded, unbounded)
    starts = _group_starts(pc)
    cons_of_group = pc[starts]
    spent = np.add.reduceat(unbounded, starts)
    group_budget = eng.consumer_weight[cons_of_group] * policy.budget_units_per_weight
    saturated_group = spent > group_budget
    units = unbounded.copy()
    if saturated_group.any():
        group_of_pair = _run_of_row(starts, len(pc))
        sat_pair = saturated_group[group_of_pair]
        big_g = np.add.reduceat(g, starts)
        # Every quotient >= G/B wins (there are at most B of them); then the highest of the
        # rest, up to B.
        base = g * budget // np.maximum(big_g[group_of_pair], 1)
        units = np.where(sat_pair, base, units)
        remaining = group_budget - np.add.reduceat(units, starts)
        remaining = np.where(saturated_group, remaining, 0)
        _hand_out_remaining(units, g, eng.pair_creator, starts, remaining)
    return Allocation(credit=g, units=units, unbounded_units=unbounded)


def _hand_out_remaining(units: Int64Array, g: Int64Array, creator: Int64Array,
                        starts: Int64Array, remaining: Int64Array) -> None:
    """Give each group of pairs (a consumer's, from `starts`) its remaining units, one at a
    time to its highest next quotient g / (units + 1).

    Handing out one unit at a time to the highest next quotient (ties: smaller creator) gives
    the `remaining` largest quotients g / j, j > units, ordered by (quotient desc, creator asc).
    Quotients are compared by their exact key floor(g * 2**41 / j) (see QUOTIENT_BITS), so
    a group's winners are found at once by a threshold on that key (`_top_up_by_threshold`),
    in O(pairs * log(key range)) for all groups together; one unit per round would take
    O(pairs * remaining) per group, which a consumer who engaged many creators makes quadratic.
    Groups whose credits are too large for int64 keys take the per-group heap (exact ints).
    """
    ends = np.append(starts[1:], len(units))
    open_groups = np.flatnonzero(remaining > 0)
    if not len(open_groups):
        return
    big_credit = np.maximum.reduceat(g, starts)[open_groups] >= _MAX_THRESHOLD_CREDIT
    fast = open_groups[~big_credit]
    _top_up_by_threshold(units, g, starts[fast], ends[fast], remaining[fast])
    for k in open_groups[big_credit].tolist():
        _top_up_by_heap(units, g, creator, np.arange(starts[k], ends[k]), int(remaining[k]))


def _top_up_by_threshold(units: Int64Array, g: Int64Array, starts: Int64Array,
                         ends: Int64Array, want: Int64Array) -> None:
    """Give each group [starts, ends) of pairs (ordered by creator) `want` more units: the
    largest keys floor(g * 2**41 / j) over j > units, ties to the smaller creator.

    count(K) = sum over pairs of max(0, floor(g * 2**41 / K) - units) is the number of
    candidates with key >= K (a pair's keys fall as j grows). With K* the largest K where
    count(K) >= want, every candidate above K* wins, and the rest of `want` goes to candidates
    at exactly K*, smaller creator first. K* is found by a binary search per group.
    """
    if not len(starts):
        return
    sizes = ends - starts
    group = np.repeat(np.arange(len(starts), dtype=np.int64), sizes)
    first = np.cumsum(sizes) - sizes
    pair = np.arange(len(group), dtype=np.int64) - first[group] + starts[group]
    num = g[pair] << QUOTIENT_BITS
    base = units[pair]

    def candidates(k: Int64Array) -> Int64Array:
        count: Int64Array = np.maximum(num // k[group] - base, 0)
        return count

    # Bounds: the best next key wins for sure; `want` candidates of one pair reach down to
    # floor(num / (base + want)), so that key has at least `want` candidates at or above it.
    hi = np.maximum.reduceat(num // (base + 1), first)
    lo = np.maximum(np.maximum.reduceat(num // (base + want[group]), first), 1)
    while True:
        open_ = lo < hi
        if not open_.any():
            break
        mid = np.where(open_, lo + (hi - lo + 1) // 2, lo)
        enough = np.add.reduceat(candidates(mid), first) >= want
        lo = np.where(enough, mid, lo)
        hi = np.where(enough, hi, mid - 1)
    above = candidates(lo + 1)
    at = candidates(lo) - above
    ties_left = want - np.add.reduceat(above, first)
    # Ties at K* go in creator order: skip what smaller creators of the same group take.
    before = np.cumsum(at) - at
    before -= before[first][group]
    units[pair] += above + np.clip(ties_left[group] - before, 0, at)


def _top_up_by_heap(units: Int64Array, g: Int64Array, creator: Int64Array,
                    pairs: Int64Array, want: int) -> None:
    """The same hand-out one unit at a time with a heap, in exact Python integers."""
    # Same key as above: floor(q * 2**41) exactly orders q = g / (u + 1); then creator.
    heap = [(-((int(g[p]) << QUOTIENT_BITS) // (int(units[p]) + 1)), int(creator[p]), p)
            for p in pairs.tolist()]
    heapq.heapify(heap)
    for _ in range(want):
        _, cre, p = heapq.heappop(heap)
        units[p] += 1
        heapq.heappush(heap, (-((int(g[p]) << QUOTIENT_BITS) // (int(units[p]) + 1)), cre, p))
