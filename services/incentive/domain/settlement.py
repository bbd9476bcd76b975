"""settle(): the one function behind the running estimate and the final weekly result."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from services.incentive.domain.allocation import Allocation, allocate_budgets
from services.incentive.domain.breakdown import (
    CreatorResult,
    Discount,
    ItemShare,
    TierShare,
    WeekResult,
)
from services.incentive.domain.engagement import Engagement, count_engagement
from services.incentive.domain.facts import IsoWeek, WeekFacts
from services.incentive.domain.merkle import merkle_root
from services.incentive.domain.policy import ScoringPolicy
from services.incentive.domain.reasons import REASON_CODES, Reason
from services.incentive.domain.rounding import largest_remainder
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
    scores = np.zeros(len(eng.creator_ids), dtype=np.int64)
    np.add.at(scores, eng.pair_creator, alloc.units)
    return Scored(eng, alloc, {int(c): int(s) for c, s in
                               zip(eng.creator_ids.tolist(), scores.tolist(), strict=True)
                               if s > 0})


def settle(facts: WeekFacts, policy: ScoringPolicy, *, as_of_ms: int | None = None,
           check_effective: bool = True) -> WeekResult:
    """Split the week's pool; as_of_ms=None is the final result, else the estimate so far."""
    scored = score_week(facts, policy, as_of_ms=as_of_ms, check_effective=check_effective)
    return settle_scored(facts, policy, scored, as_of_ms=as_of_ms)


def settle_scored(facts: WeekFacts, policy: ScoringPolicy, scored: Scored, *,
                  as_of_ms: int | None = None) -> WeekResult:
    """Stage 3: money. Largest remainder over creators, items and tiers; rollovers; Merkle."""
    eng, alloc = scored.engagement, scored.allocation
    total_score = sum(scored.creator_scores.values())
    pool = facts.pool_minor
    allocated = largest_remainder(pool, sorted(scored.creator_scores.items())) \
        if total_score else {}
    unallocated = pool - sum(allocated.values())

    items_of, counted_of, tiers_of = _item_and_tier_weights(eng, alloc, policy)
    discounts_of = _discounts(eng, alloc)
    sanctioned = {c.creator_id for c in facts.creators if c.sanctioned}
    rollover_in = {r.creator_id: r.amount_minor for r in facts.rollovers}

    creator_ids = sorted(set(allocated) | set(rollover_in) | set(discounts_of))
    creators = []
    for cid in creator_ids:
        amount = allocated.get(cid, 0)
        item_parts = items_of.get(cid, {})
        split = largest_remainder(amount, sorted(item_parts.items())) if amount else {}
        items = tuple(
            ItemShare(item_id=key, amount_minor=split.get(2 * key, 0) + split.get(2 * key + 1, 0),
                      dwell_minor=split.get(2 * key, 0),
                      interaction_minor=split.get(2 * key + 1, 0),
                      dwell_seconds=secs, interaction_milli_points=milli)
            for key, (secs, milli) in sorted(counted_of.get(cid, {}).items())
        ) if amount else ()
        tier_w = tiers_of.get(cid, {})
        tsplit = largest_remainder(amount, sorted((t, w) for t, (w, _) in tier_w.items())) \
            if amount else {}
        tiers = tuple(TierShare(tier_label(policy, t), tsplit.get(t, 0), n)
                      for t, (_, n) in sorted(tier_w.items())) if amount else ()
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
            items=items, tiers=tiers, discounts=tuple(discounts_of.get(cid, ())),
        ))
    result = WeekResult(
        week=str(facts.week), mode="final" if as_of_ms is None else "estimate",
        as_of_ms=as_of_ms, policy_version=policy.version, policy_hash=policy.hash,
        pool_minor=pool, unallocated_minor=unallocated, total_score=total_score,
        merkle_root="", creators=tuple(creators),
    )
    root = merkle_root(result.leaves()).hex()
    return WeekResult(**{**result.__dict__, "merkle_root": root})


def _item_and_tier_weights(
    eng: Engagement, alloc: Allocation, policy: ScoringPolicy
) -> tuple[dict[int, dict[int, int]], dict[int, dict[int, tuple[int, int]]],
           dict[int, dict[int, tuple[int, int]]]]:
    """Per creator: item-component weights (key 2*item + 0 dwell / 1 interaction), counted
    (seconds, milli-points) per item, and per tier (units, consumers)."""
    units = alloc.units[eng.row_pair]
    comp_total = np.zeros(len(eng.pair_points), dtype=np.int64)
    np.add.at(comp_total, eng.row_pair, eng.row_dwell_milli + eng.row_interaction_milli)
    denom = np.maximum(comp_total[eng.row_pair], 1)
    # A consumer's units for a creator are attributed to items in proportion to counted points.
    w_dwell = units * eng.row_dwell_milli // denom
    w_inter = units * eng.row_interaction_milli // denom
    n_item = len(eng.item_ids)
    per_item = np.zeros((4, n_item), dtype=np.int64)
    for row, col in enumerate((w_dwell, w_inter, eng.row_dwell_seconds,
                               eng.row_interaction_milli)):
        np.add.at(per_item[row], eng.row_item, col)
    raw_dwell = np.zeros(n_item, dtype=np.int64)
    raw_inter = np.zeros(n_item, dtype=np.int64)
    np.add.at(raw_dwell, eng.row_item, eng.row_dwell_milli)
    np.add.at(raw_inter, eng.row_item, eng.row_interaction_milli)
    weights: dict[int, dict[int, int]] = defaultdict(dict)
    raw: dict[int, dict[int, int]] = defaultdict(dict)
    counted: dict[int, dict[int, tuple[int, int]]] = defaultdict(dict)
    cre = eng.creator_ids[eng.item_creator].tolist()
    for c, item, wd, wi, secs, milli, rd, ri in zip(
        cre, eng.item_ids.tolist(), *(per_item[r].tolist() for r in range(4)),
        raw_dwell.tolist(), raw_inter.tolist(), strict=True,
    ):
        weights[c][2 * item] = wd
        weights[c][2 * item + 1] = wi
        raw[c][2 * item] = rd
        raw[c][2 * item + 1] = ri
        counted[c][item] = (secs, milli)
    for c, w in weights.items():
        if sum(w.values()) == 0:  # all floors were zero: fall back to the counted points
            weights[c] = raw[c]
    n_tiers = len(policy.tier_lower_bounds)
    cell = eng.pair_creator * n_tiers + eng.consumer_tier[eng.pair_consumer]
    tier_units = np.zeros(len(eng.creator_ids) * n_tiers, dtype=np.int64)
    tier_people = np.zeros(len(eng.creator_ids) * n_tiers, dtype=np.int64)
    np.add.at(tier_units, cell, alloc.units)
    np.add.at(tier_people, cell, (alloc.units > 0).astype(np.int64))
    tiers: dict[int, dict[int, tuple[int, int]]] = defaultdict(dict)
    for idx in np.flatnonzero(tier_units).tolist():
        c = int(eng.creator_ids[idx // n_tiers])
        tiers[c][idx % n_tiers] = (int(tier_units[idx]), int(tier_people[idx]))
    return weights, counted, tiers


def _discounts(eng: Engagement, alloc: Allocation) -> dict[int, list[Discount]]:
    """Discounts per creator, ordered by (item, reason); influence bound at creator level."""
    out: dict[int, list[Discount]] = defaultdict(list)
    cr, it, rs, ev, qt = (a.tolist() for a in eng.discounts)
    for c, i, r, e, q in zip(cr, it, rs, ev, qt, strict=True):
        out[c].append(Discount(REASON_CODES[r].value, i if i >= 0 else None, e, q))
    lost = alloc.unbounded_units - alloc.units
    bound = lost > 0
    if bound.any():
        by_cre = np.zeros(len(eng.creator_ids), dtype=np.int64)
        people = np.zeros(len(eng.creator_ids), dtype=np.int64)
        np.add.at(by_cre, eng.pair_creator[bound], lost[bound])
        np.add.at(people, eng.pair_creator[bound], 1)
        for idx in np.flatnonzero(by_cre).tolist():
            out[int(eng.creator_ids[idx])].append(
                Discount(Reason.INFLUENCE_BOUND.value, None, int(people[idx]),
                         int(by_cre[idx])))
    for c in out:
        out[c].sort(key=lambda d: (d.item_id if d.item_id is not None else -1, d.reason))
    return out
