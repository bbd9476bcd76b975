"""settle(): the one function behind the running estimate and the final weekly result."""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from services.incentive.domain.allocation import Allocation, allocate_budgets
from services.incentive.domain.breakdown import (
    CreatorResult,
    Discount,
    ItemShare,
    TierShare,
    WeekResult,
)
from services.incentive.domain.engagement import (
    Engagement,
    _factorize,
    _group_starts,
    _run_of_row,
    count_engagement,
)
from services.incentive.domain.facts import Int64Array, IsoWeek, WeekFacts
from services.incentive.domain.gc_pause import paused_gc
from services.incentive.domain.merkle import merkle_root
from services.incentive.domain.policy import ScoringPolicy
from services.incentive.domain.reasons import REASON_CODES, Reason
from services.incentive.domain.rounding import largest_remainder, largest_remainder_runs
from services.incentive.domain.weights import tier_label


@dataclass(frozen=True)
class Scored:
    """Stages 1-2 of a settlement, exposed for proofs and the bench."""

    engagement: Engagement
    allocation: Allocation
    creator_scores: dict[int, int]  # creator id -> score units (eligible creators only)


def score_week(facts: WeekFacts, policy: ScoringPolicy, *, as_of_ms: int | None = None,
               check_effective: bool = True) -> Scored:
    """Count engagement and split every consumer's budget; no money yet."""
    if check_effective and IsoWeek.parse(policy.effective_from_week) > facts.week:
        raise ValueError(f"policy {policy.version} takes effect {policy.effective_from_week}, "
                         f"after {facts.week}")
    eng = count_engagement(facts, policy, as_of_ms)
    alloc = allocate_budgets(eng, policy)
    return Scored(eng, alloc, creator_scores(eng, alloc))


def creator_scores(eng: Engagement, alloc: Allocation) -> dict[int, int]:
    """creator id -> the score units consumers gave them, for creators with a positive score."""
    scores = np.zeros(len(eng.creator_ids), dtype=np.int64)
    np.add.at(scores, eng.pair_creator, alloc.units)
    return {int(c): int(s) for c, s in zip(eng.creator_ids.tolist(), scores.tolist(), strict=True)
            if s > 0}


def settle(facts: WeekFacts, policy: ScoringPolicy, *, as_of_ms: int | None = None,
           check_effective: bool = True) -> WeekResult:
    """Split the week's pool; as_of_ms=None is the final result, else the estimate so far."""
    scored = score_week(facts, policy, as_of_ms=as_of_ms, check_effective=check_effective)
    return settle_scored(facts, policy, scored, as_of_ms=as_of_ms)


def settle_scored(facts: WeekFacts, policy: ScoringPolicy, scored: Scored, *,
                  as_of_ms: int | None = None) -> WeekResult:
    """Stage 3: money. Largest remainder over creators, items and tiers; rollovers; Merkle."""
    with paused_gc():  # about a million result objects: see gc_pause
        return _settle_scored(facts, policy, scored, as_of_ms)


def _settle_scored(facts: WeekFacts, policy: ScoringPolicy, scored: Scored,
                   as_of_ms: int | None) -> WeekResult:
    eng, alloc = scored.engagement, scored.allocation
    total_score = sum(scored.creator_scores.values())
    pool = facts.pool_minor
    allocated = largest_remainder(pool, sorted(scored.creator_scores.items())) \
        if total_score else {}
    unallocated = pool - sum(allocated.values())

    # Amount per dense creator index (a creator with a score is one of eng.creator_ids).
    amount_of_index = [0] * len(eng.creator_ids)
    if allocated:
        at = np.searchsorted(eng.creator_ids, np.array(list(allocated), dtype=np.int64))
        for idx, amount in zip(at.tolist(), allocated.values(), strict=True):
            amount_of_index[idx] = amount
    items_of = _item_shares(eng, alloc, amount_of_index)
    tiers_of = _tier_shares(eng, alloc, policy, amount_of_index)
    discounts_of = _discounts(eng, alloc)
    sanctioned = {c.creator_id for c in facts.creators if c.sanctioned}
    rollover_in = {r.creator_id: r.amount_minor for r in facts.rollovers}

    creator_ids = sorted(set(allocated) | set(rollover_in) | set(discounts_of))
    creators = []
    for cid in creator_ids:
        amount = allocated.get(cid, 0)
        gross = amount + rollover_in.get(cid, 0)
        if cid in sanctioned:
            status, payable, carry, held = "held", 0, 0, gross
        elif gross >= policy.min_payout_minor:
            status, payable, carry, held = "paid", gross, 0, 0
        else:
            status, payable, carry, held = "rolled_over", 0, gross, 0
        creators.append(CreatorResult(
            creator_id=cid, status=status, score=scored.creator_scores.get(cid, 0),
            allocated_minor=amount, rollover_in_minor=rollover_in.get(cid, 0),
            payable_minor=payable, rollover_out_minor=carry, held_minor=held,
            items=items_of.get(cid, ()) if amount else (),
            tiers=tiers_of.get(cid, ()) if amount else (),
            discounts=discounts_of.get(cid, ()),
        ))
    result = WeekResult(
        week=str(facts.week), mode="final" if as_of_ms is None else "estimate",
        as_of_ms=as_of_ms, policy_version=policy.version, policy_hash=policy.hash,
        pool_minor=pool, unallocated_minor=unallocated, total_score=total_score,
        merkle_root="", creators=tuple(creators),
    )
    root = merkle_root(result.leaves()).hex()
    return WeekResult(**{**result.__dict__, "merkle_root": root})


def _item_shares(eng: Engagement, alloc: Allocation,
                 amount_of_index: list[int]) -> dict[int, tuple[ItemShare, ...]]:
    """Each paid creator's amount split over every item of theirs (by item id), dwell and
    interaction parts separately (keys 2 * item and 2 * item + 1): largest remainder over
    the units consumers gave, attributed to items by counted points."""
    units = alloc.units[eng.row_pair]
    comp_total = np.zeros(len(eng.pair_points), dtype=np.int64)
    np.add.at(comp_total, eng.row_pair, eng.row_dwell_milli + eng.row_interaction_milli)
    denom = np.maximum(comp_total[eng.row_pair], 1)
    # A consumer's units for a creator are attributed to items in proportion to counted points.
    columns = (units * eng.row_dwell_milli // denom, units * eng.row_interaction_milli // denom,
               eng.row_dwell_milli, eng.row_interaction_milli, eng.row_dwell_seconds)
    n_item = len(eng.item_ids)
    w_dwell, w_inter, raw_dwell, raw_inter, seconds = (
        _sum_by(eng.row_item, col, n_item) for col in columns)
    milli = raw_inter

    # Items of paid creators, by creator then item id (dense item order is id order).
    is_paid = np.array([a > 0 for a in amount_of_index], dtype=bool)
    items = np.flatnonzero(is_paid[eng.item_creator])
    items = items[np.argsort(eng.item_creator[items], kind="stable")]
    first = _group_starts(eng.item_creator[items])
    runs = eng.item_creator[items[first]]
    # Two entries per item, dwell then interaction: keys 2 * item, 2 * item + 1 ascend.
    weights = np.stack((w_dwell[items], w_inter[items]), axis=1).ravel()
    raw = np.stack((raw_dwell[items], raw_inter[items]), axis=1).ravel()
    if len(first):  # all floors were zero: fall back to the counted points
        no_weight = (np.add.reduceat(weights, 2 * first) == 0)[_run_of_row(first, len(items))]
        weights = np.where(np.repeat(no_weight, 2), raw, weights)
    split = largest_remainder_runs([amount_of_index[r] for r in runs.tolist()], weights,
                                   2 * first)
    dwell, inter = split[0::2], split[1::2]
    shares = list(map(ItemShare, eng.item_ids[items].tolist(), map(operator.add, dwell, inter),
                      dwell, inter, seconds[items].tolist(), milli[items].tolist()))
    return _by_creator(eng, runs, first, shares)


def _tier_shares(eng: Engagement, alloc: Allocation, policy: ScoringPolicy,
                 amount_of_index: list[int]) -> dict[int, tuple[TierShare, ...]]:
    """Each paid creator's amount split over the value-weight tiers of the consumers who gave
    them units (largest remainder, ties to the lower tier), with the consumer counts."""
    n_tiers = len(policy.tier_lower_bounds)
    cell = eng.pair_creator * n_tiers + eng.consumer_tier[eng.pair_consumer]
    n_cells = len(eng.creator_ids) * n_tiers
    tier_units = _sum_by(cell, alloc.units, n_cells)
    tier_people = _sum_by(cell, (alloc.units > 0).astype(np.int64), n_cells)
    is_paid = np.array([a > 0 for a in amount_of_index], dtype=bool)
    cells = np.flatnonzero(tier_units)  # by (creator, tier)
    cells = cells[is_paid[cells // n_tiers]]
    first = _group_starts(cells // n_tiers)
    runs = cells[first] // n_tiers
    split = largest_remainder_runs([amount_of_index[r] for r in runs.tolist()],
                                   tier_units[cells], first)
    labels = [tier_label(policy, t) for t in range(n_tiers)]
    shares = list(map(TierShare, [labels[t] for t in (cells % n_tiers).tolist()], split,
                      tier_people[cells].tolist()))
    return _by_creator(eng, runs, first, shares)


def _discounts(eng: Engagement, alloc: Allocation) -> dict[int, tuple[Discount, ...]]:
    """Discounts per creator, ordered by (item, reason); influence bound at creator level."""
    cr, it, rs, ev, qt = eng.discounts
    lost = alloc.unbounded_units - alloc.units
    bound = lost > 0
    n_cre = len(eng.creator_ids)
    by_cre = _sum_by(eng.pair_creator[bound], lost[bound], n_cre)
    people = _sum_by(eng.pair_creator[bound], np.ones(int(bound.sum()), np.int64), n_cre)
    bound_cre = np.flatnonzero(by_cre)
    cr = np.concatenate([cr, eng.creator_ids[bound_cre]])
    it = np.concatenate([it, np.full(len(bound_cre), -1, dtype=np.int64)])  # creator level
    rs = np.concatenate([rs, np.full(len(bound_cre), _INFLUENCE_BOUND, dtype=np.int64)])
    ev = np.concatenate([ev, people[bound_cre]])
    qt = np.concatenate([qt, by_cre[bound_cre]])
    # By creator; within one by item (creator level, i.e. no item, first), then reason code.
    # The sort is stable, so where that key ties (only rows without an item id, i.e. the
    # ids below 0) the rows keep their given order, as the per-creator list sort did.
    order = np.argsort(_pack_ranks(cr, np.maximum(it, -1), _REASON_ORDER[rs]), kind="stable")
    cr, it, rs, ev, qt = cr[order], it[order], rs[order], ev[order], qt[order]
    first = _group_starts(cr)
    rows = list(map(Discount, [_REASON_CODES[r] for r in rs.tolist()],
                    [i if i >= 0 else None for i in it.tolist()], ev.tolist(), qt.tolist()))
    return _split_runs(cr[first].tolist(), first, rows)


# ---------------------------------------------------------------------------------------------
# Helpers

_REASON_CODES = [r.value for r in REASON_CODES]  # index -> wire code (Enum access is slow)
_INFLUENCE_BOUND = REASON_CODES.index(Reason.INFLUENCE_BOUND)
# Rank of each reason index by its wire code: discounts are listed by code, not by index.
_REASON_ORDER = np.argsort(np.argsort(np.array(_REASON_CODES))).astype(np.int64)


def _sum_by(index: Int64Array, values: Int64Array, size: int) -> Int64Array:
    """Sum of values per index in [0, size) (exact int64, unlike float bincount weights)."""
    out = np.zeros(size, dtype=np.int64)
    np.add.at(out, index, values)
    return out


def _pack_ranks(*cols: Int64Array) -> Int64Array:
    """One int64 per row that orders rows like the columns lexicographically (dense ranks)."""
    key = np.zeros(len(cols[0]), dtype=np.int64)
    for col in cols:
        values, rank = _factorize(col)
        if len(values) and int(key.max(initial=0)) * len(values) >= 1 << 62:
            raise ValueError("too many distinct keys to pack")  # beyond any realistic week
        key = key * len(values) + rank
    return key


_Row = TypeVar("_Row", ItemShare, TierShare, Discount)


def _split_runs(keys: list[int], first: Int64Array,
                rows: list[_Row]) -> dict[int, tuple[_Row, ...]]:
    """{keys[k]: the rows of run k}, runs of `rows` starting at `first`."""
    bounds = [*first.tolist(), len(rows)]
    return {k: tuple(rows[bounds[i]:bounds[i + 1]]) for i, k in enumerate(keys)}


def _by_creator(eng: Engagement, runs: Int64Array, first: Int64Array,
                rows: list[_Row]) -> dict[int, tuple[_Row, ...]]:
    """Rows grouped per creator id; `runs` holds each run's dense creator index."""
    return _split_runs(eng.creator_ids[runs].tolist(), first, rows)
