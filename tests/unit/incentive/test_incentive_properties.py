"""Property-based proofs of the settlement's promises (hypothesis)."""

from __future__ import annotations

import math
import random
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from incentive_builders import (
    CONSUMERS,
    CREATORS,
    WEEK,
    consumers_st,
    events_st,
    item_of,
    week_facts,
)

from services.incentive.domain.breakdown import Discount, WeekResult, encode_result
from services.incentive.domain.facts import (
    MS_PER_DAY,
    ConsumerValue,
    CreatorStatus,
    EngagementFact,
    EventKind,
    InteractionFact,
    Rollover,
    ViewFact,
)
from services.incentive.domain.policy import default_policy
from services.incentive.domain.settlement import Scored, score_week, settle
from services.incentive.domain.weights import max_split_weight, value_weight

POLICY = default_policy()
FAST = settings(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def units_from(scored: Scored, consumer_ids: set[int], creator: int | None) -> int:
    """Score units that the given consumers gave `creator` (or every creator)."""
    eng, alloc = scored.engagement, scored.allocation
    cons = eng.consumer_ids[eng.pair_consumer].tolist()
    cres = eng.creator_ids[eng.pair_creator].tolist()
    return sum(u for c, r, u in zip(cons, cres, alloc.units.tolist(), strict=True)
               if c in consumer_ids and (creator is None or r == creator))


@FAST
@given(events=events_st(), consumers=consumers_st(), pool=st.integers(0, 10**9),
       rolled=st.integers(0, 500))
def test_sum_equals_pool_and_breakdown_explains_every_unit(
        events: list[EngagementFact], consumers: tuple[ConsumerValue, ...], pool: int,
        rolled: int) -> None:
    creators = tuple(CreatorStatus(c, True, c != 4, sanctioned=c == 3) for c in CREATORS)
    facts = week_facts(events, consumers, pool, creators, (Rollover(2, rolled),))
    result = settle(facts, POLICY)
    allocated = sum(c.allocated_minor for c in result.creators)
    assert allocated + result.unallocated_minor == pool
    assert result.unallocated_minor in (0, pool)
    # With an empty pool nothing is unallocated whatever the scores, so only a funded pool
    # tells "no one scored" (all of it unallocated) apart from "someone did" (none of it).
    if pool:
        assert (result.unallocated_minor == pool) == (result.total_score == 0)
    for c in result.creators:
        if c.allocated_minor:
            assert sum(i.amount_minor for i in c.items) == c.allocated_minor
            assert all(i.amount_minor == i.dwell_minor + i.interaction_minor for i in c.items)
            assert sum(t.amount_minor for t in c.tiers) == c.allocated_minor
        gross = c.allocated_minor + c.rollover_in_minor
        assert gross == c.payable_minor + c.rollover_out_minor + c.held_minor
        assert c.payable_minor == 0 or c.payable_minor >= POLICY.min_payout_minor
        assert (c.status == "held") == (c.creator_id == 3 and gross > 0) or gross == 0
        assert c.creator_id != 4 or c.allocated_minor == 0  # closed identity earns nothing


@FAST
@given(events=events_st(), consumers=consumers_st(), seed=st.integers(0, 2**32),
       dups=st.lists(st.integers(0, 10**6), max_size=10))
def test_order_and_duplicates_do_not_matter(
        events: list[EngagementFact], consumers: tuple[ConsumerValue, ...], seed: int,
        dups: list[int]) -> None:
    base = settle(week_facts(events, consumers), POLICY)
    shuffled = list(events)
    random.Random(seed).shuffle(shuffled)
    assert encode_result(settle(week_facts(shuffled, consumers), POLICY)) == encode_result(base)
    if not events:
        return
    redelivered = shuffled + [events[d % len(events)] for d in dups]
    random.Random(seed + 1).shuffle(redelivered)
    again = settle(week_facts(redelivered, consumers), POLICY)
    assert strip_duplicates(again) == strip_duplicates(base)


def strip_duplicates(result: WeekResult) -> bytes:
    """The encoded result without the duplicate counters (the only thing redelivery changes)."""
    from dataclasses import replace

    def keep(d: Discount) -> bool:
        return d.reason != "duplicate_event"

    creators = tuple(replace(c, discounts=tuple(filter(keep, c.discounts)))
                     for c in result.creators
                     if c.allocated_minor or c.rollover_in_minor or any(map(keep, c.discounts)))
    return encode_result(replace(result, creators=creators))


@FAST
@given(events=events_st(), consumers=consumers_st(), pool=st.integers(1, 10**7),
       who=st.sampled_from(CONSUMERS), creator=st.sampled_from(CREATORS),
       k=st.integers(0, 2), day=st.integers(0, 6), seconds=st.integers(5, 900),
       kind=st.sampled_from([EventKind.VIEW, EventKind.COMMENT, EventKind.SHARE,
                             EventKind.TIP, EventKind.QA, EventKind.REPLY]))
def test_extra_genuine_engagement_never_lowers_that_creator(
        events: list[EngagementFact], consumers: tuple[ConsumerValue, ...], pool: int,
        who: int, creator: int, k: int, day: int, seconds: int, kind: EventKind) -> None:
    at = WEEK.start_ms + day * MS_PER_DAY + 5
    extra: EngagementFact = (
        ViewFact(10**6, who, creator, item_of(creator, k), at, seconds)
        if kind is EventKind.VIEW
        else InteractionFact(10**6, who, creator, item_of(creator, k), at, kind, 40))
    before = settle(week_facts(events, consumers, pool), POLICY).amounts().get(creator, 0)
    after = settle(week_facts([*events, extra], consumers, pool), POLICY).amounts()
    assert after.get(creator, 0) >= before


@FAST
@given(background=events_st(consumers=(100, 101, 102), max_size=25),
       consumers=consumers_st(ids=(100, 101, 102)),
       mine=events_st(consumers=(200,), creators=(1,), max_size=25, first_id=5000),
       fees=st.integers(0, 3_000_000), k=st.integers(2, 5), seed=st.integers(0, 2**32),
       pool=st.integers(1, 10**8))
def test_splitting_a_consumer_gains_no_more_than_the_allowance(
        background: list[EngagementFact], consumers: tuple[ConsumerValue, ...],
        mine: list[EngagementFact], fees: int, k: int, seed: int, pool: int) -> None:
    rnd = random.Random(seed)
    whole = (*consumers, ConsumerValue(200, fees, True))
    cuts = sorted(rnd.randint(0, fees) for _ in range(k - 1))
    shares = [b - a for a, b in zip([0, *cuts], [*cuts, fees], strict=True)]
    split_ids = [300 + i for i in range(k)]
    split = (*consumers, *(ConsumerValue(i, f, True) for i, f in zip(split_ids, shares,
                                                                      strict=True)))
    moved = [replace_consumer(e, rnd.choice(split_ids)) for e in mine]
    w = value_weight(POLICY, whole[-1])
    allowance = max_split_weight(POLICY, k, fees)
    s_whole = score_week(week_facts([*background, *mine], whole, pool), POLICY)
    s_split = score_week(week_facts([*background, *moved], split, pool), POLICY)
    u_whole = units_from(s_whole, {200}, 1)
    u_split = units_from(s_split, set(split_ids), 1)
    # Influence: k accounts never hold more than the allowance's budget ...
    assert u_split <= allowance * POLICY.budget_units_per_weight
    # ... and give creator 1 at most allowance/weight times what the one account gave.
    assert u_split * w <= allowance * (u_whole + 1)
    # In money: the same ratio, up to rounding of the pool split.
    a_whole = settle(week_facts([*background, *mine], whole, pool), POLICY).amounts().get(1, 0)
    a_split = settle(week_facts([*background, *moved], split, pool), POLICY).amounts().get(1, 0)
    total = max(s_whole.creator_scores.values(), default=0) and sum(
        s_whole.creator_scores.values())
    slack = 1 + (math.ceil(Fraction(pool, total + 1)) if total else pool)
    assert a_split * w <= allowance * (a_whole + slack) + w


def replace_consumer(e: EngagementFact, consumer: int) -> EngagementFact:
    from dataclasses import replace

    return replace(e, consumer_id=consumer)


RING = (500, 501, 502, 503, 504)


@FAST
@given(honest=events_st(max_size=30), consumers=consumers_st(),
       ring_fees=st.lists(st.integers(0, 3_000), min_size=len(RING), max_size=len(RING)),
       ring_views=st.integers(1, 6), seconds=st.integers(5, 900), pool=st.integers(1, 10**8))
def test_a_ring_of_low_value_accounts_gains_no_more_than_its_weight(
        honest: list[EngagementFact], consumers: tuple[ConsumerValue, ...],
        ring_fees: list[int], ring_views: int, seconds: int, pool: int) -> None:
    ring_events: list[EngagementFact] = []
    eid = 10**6
    for a in RING:
        for b in RING:
            if a == b:
                continue
            for d in range(ring_views):
                at = WEEK.start_ms + (d % 7) * MS_PER_DAY + d
                eid += 3
                ring_events += [
                    ViewFact(eid, a, b, item_of(b, d % 3), at, seconds),
                    InteractionFact(eid + 1, a, b, item_of(b, d % 3), at, EventKind.COMMENT, 60),
                    InteractionFact(eid + 2, a, b, item_of(b, d % 3), at, EventKind.SHARE),
                ]
    ring_values = tuple(ConsumerValue(a, f, True) for a, f in zip(RING, ring_fees, strict=True))
    creators = tuple(CreatorStatus(c, True, True) for c in (*CREATORS, *RING))
    honest_only = score_week(week_facts(honest, consumers, pool, creators), POLICY)
    honest_total = sum(honest_only.creator_scores.values())
    result = settle(week_facts([*honest, *ring_events], (*consumers, *ring_values), pool,
                               creators), POLICY)
    ring_amount = sum(result.amounts().get(a, 0) for a in RING)
    ring_budget = sum(value_weight(POLICY, v) for v in ring_values) * \
        POLICY.budget_units_per_weight
    bound = math.ceil(Fraction(pool * ring_budget, ring_budget + honest_total))
    assert ring_amount <= bound + len(RING)


@FAST
@given(events=events_st(), consumers=consumers_st(), cut_day=st.integers(0, 7))
def test_estimate_is_the_final_of_the_week_so_far(
        events: list[EngagementFact], consumers: tuple[ConsumerValue, ...],
        cut_day: int) -> None:
    as_of = WEEK.start_ms + cut_day * MS_PER_DAY
    estimate = settle(week_facts(events, consumers), POLICY, as_of_ms=as_of)
    so_far = [e for e in events if e.occurred_at_ms < as_of]
    final = settle(week_facts(so_far, consumers), POLICY)
    assert estimate.mode == "estimate" and final.mode == "final"
    assert estimate.amounts() == final.amounts()
    assert estimate.merkle_root == final.merkle_root
