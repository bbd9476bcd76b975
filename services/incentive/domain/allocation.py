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

from services.incentive.domain.engagement import Engagement, _group_starts
from services.incentive.domain.facts import Int64Array
from services.incentive.domain.policy import ScoringPolicy

QUOTIENT_BITS = 41  # > 2 * 20 bits of (units + 1): floor(q * 2**41) orders quotients exactly


def isqrt_array(n: Int64Array) -> Int64Array:
    """Exact floor square root of non-negative int64 values, by integer Newton steps."""
    if len(n) and int(n.max()) >= 1 << 62:
        raise ValueError("isqrt input too large")
    x = np.minimum(n, np.int64(1 << 31)).astype(np.int64)
    x = np.maximum(x, 1)
    while True:
        y = (x + n // x) // 2
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
        group_of_pair = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, len(pc))))
        sat_pair = saturated_group[group_of_pair]
        big_g = np.add.reduceat(g, starts)
        # Every quotient >= G/B wins (there are at most B of them); the rest go one at a time.
        base = g * budget // np.maximum(big_g[group_of_pair], 1)
        units = np.where(sat_pair, base, units)
        remaining = group_budget - np.add.reduceat(units, starts)
        remaining = np.where(saturated_group, remaining, 0)
        _hand_out_remaining(units, g, eng.pair_creator, group_of_pair, remaining)
    return Allocation(credit=g, units=units, unbounded_units=unbounded)


def _hand_out_remaining(units: Int64Array, g: Int64Array, creator: Int64Array,
                        group_of_pair: Int64Array, remaining: Int64Array) -> None:
    """Give each group's remaining units to its highest next quotients g / (units + 1)."""
    active_pairs = np.flatnonzero(remaining[group_of_pair] > 0)
    # Vectorised rounds while many groups are open; the long tail (consumers who engaged
    # with very many creators) is finished per group with a heap, under the same order.
    while len(active_pairs) and len(np.unique(group_of_pair[active_pairs])) > 256:
        d = units[active_pairs] + 1
        gg = g[active_pairs]
        hi = gg // d
        lo = ((gg % d) << QUOTIENT_BITS) // d
        grp = group_of_pair[active_pairs]
        order = np.lexsort((creator[active_pairs], -lo, -hi, grp))
        winners_at = _group_starts(grp[order])
        winners = active_pairs[order[winners_at]]
        units[winners] += 1
        remaining[group_of_pair[winners]] -= 1
        active_pairs = active_pairs[remaining[group_of_pair[active_pairs]] > 0]
    if not len(active_pairs):
        return
    by_group: dict[int, list[int]] = {}
    for p in active_pairs.tolist():
        by_group.setdefault(int(group_of_pair[p]), []).append(p)
    for grp_id, pairs in by_group.items():
        # Same key as above: floor(q * 2**41) exactly orders q = g / (u + 1); then creator.
        heap = [(-((int(g[p]) << QUOTIENT_BITS) // (int(units[p]) + 1)), int(creator[p]), p)
                for p in pairs]
        heapq.heapify(heap)
        for _ in range(int(remaining[grp_id])):
            _, cre, p = heapq.heappop(heap)
            units[p] += 1
            heapq.heappush(heap, (-((int(g[p]) << QUOTIENT_BITS) // (int(units[p]) + 1)), cre, p))
        remaining[grp_id] = 0
