"""Unit tests of the parts: Merkle proofs (with a standalone verifier), allocation rule,
rounding, policy encoding, eligibility, ledger and shadow policy."""

from __future__ import annotations

import hashlib
import math
from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from incentive_builders import WEEK, consumers_st, events_st, week_facts

from services.incentive.domain.allocation import isqrt_array
from services.incentive.domain.facts import (
    MS_PER_DAY,
    ConsumerValue,
    CreatorStatus,
    EngagementColumns,
    EngagementFact,
    IsoWeek,
    ItemStatus,
    ViewFact,
    WeekFacts,
)
from services.incentive.domain.ledger import ItemLedger, LedgerEntry, post_week
from services.incentive.domain.policy import ScoringPolicy, default_policy
from services.incentive.domain.rounding import largest_remainder
from services.incentive.domain.settlement import score_week, settle
from services.incentive.domain.shadow import shadow_compare

POLICY = default_policy()


def standalone_verify(root_hex: str, creator_id: int, amount: int,
                      proof: list[tuple[str, bool]]) -> bool:
    """What a creator runs: only hashlib and the documented encoding (no project code)."""
    h = hashlib.sha256(b"\x00" + creator_id.to_bytes(8, "big") + amount.to_bytes(8, "big"))
    node = h.digest()
    for sibling_hex, sibling_on_left in proof:
        sibling = bytes.fromhex(sibling_hex)
        pair = sibling + node if sibling_on_left else node + sibling
        node = hashlib.sha256(b"\x01" + pair).digest()
    return node.hex() == root_hex


@settings(max_examples=20, deadline=None)
@given(events=events_st(), consumers=consumers_st(), pool=st.integers(1, 10**9))
def test_every_creator_can_verify_their_amount(
        events: list[EngagementFact], consumers: tuple[ConsumerValue, ...], pool: int) -> None:
    result = settle(week_facts(events, consumers, pool), POLICY)
    for cid, amount in result.leaves():
        proof = [(s.sibling.hex(), s.sibling_on_left) for s in result.proof(cid)]
        assert standalone_verify(result.merkle_root, cid, amount, proof)
        assert not standalone_verify(result.merkle_root, cid, amount + 1, proof)


def reference_split(gs: list[tuple[int, int]], budget: int, sat: int) -> dict[int, int]:
    """The allocation rule by its definition: the `budget` largest quotients g/j >= sat/budget
    win a unit each, ties to the smaller creator id (slow, exact)."""
    cands = [(-Fraction(g, j), cre) for cre, g in gs for j in range(1, budget + 1)
             if Fraction(g, j) >= Fraction(sat, budget)]
    cands.sort()
    won: dict[int, int] = {cre: 0 for cre, _ in gs}
    for _, cre in cands[:budget]:
        won[cre] += 1
    return won


@settings(max_examples=40, deadline=None)
@given(dwell=st.lists(st.integers(5, 600), min_size=1, max_size=6),
       fees=st.integers(0, 12_000))
def test_allocation_matches_its_definition(dwell: list[int], fees: int) -> None:
    policy = POLICY.evolve(version="t", budget_units_per_weight=7, saturation_points=300)
    events: list[EngagementFact] = [
        ViewFact(i + 1, 100, i + 1, (i + 1) * 10, WEEK.start_ms, d) for i, d in enumerate(dwell)]
    creators = tuple(CreatorStatus(i + 1, True, True) for i in range(len(dwell)))
    facts = WeekFacts(WEEK, 1000, EngagementColumns.from_facts(events),
                      (ConsumerValue(100, fees, True),), creators)
    scored = score_week(facts, policy)
    budget = (1 + min(100, fees // 1000)) * 7
    gs = [(i + 1, math.isqrt(d * policy.concavity_scale)) for i, d in enumerate(dwell)]
    want = reference_split(gs, budget, math.isqrt(300 * policy.concavity_scale))
    got = {c: scored.creator_scores.get(c, 0) for c, _ in gs}
    assert got == want


@given(st.lists(st.integers(0, 2**62 - 1), max_size=50))
def test_isqrt_is_exact(values: list[int]) -> None:
    got = isqrt_array(np.array(values, dtype=np.int64)).tolist()
    assert got == [math.isqrt(v) for v in values]


@given(total=st.integers(0, 10**12), weights=st.lists(st.integers(0, 10**9), min_size=1,
                                                      max_size=30))
def test_largest_remainder_is_exact_and_within_quota(total: int, weights: list[int]) -> None:
    if sum(weights) == 0:
        return
    shares = largest_remainder(total, list(enumerate(weights)))
    assert sum(shares.values()) == total
    for k, w in enumerate(weights):
        quota = Fraction(total * w, sum(weights))
        assert math.floor(quota) <= shares[k] <= math.ceil(quota)


def test_policy_encoding_round_trips_and_hash_names_the_policy() -> None:
    again = ScoringPolicy.from_canonical(POLICY.canonical_bytes())
    assert again == POLICY and again.hash == POLICY.hash
    assert POLICY.evolve(version="2", min_dwell_seconds=6).hash != POLICY.hash
    assert settle(week_facts([], ()), POLICY).policy_hash == POLICY.hash


def test_iso_week_from_timestamps() -> None:
    assert str(IsoWeek.containing(IsoWeek(2026, 1).start_ms)) == "2026-W01"
    assert IsoWeek.containing(IsoWeek(2026, 1).start_ms - 1) == IsoWeek(2025, 52)
    assert IsoWeek.parse("2026-W10").end_ms - IsoWeek.parse("2026-W10").start_ms == 7 * MS_PER_DAY


def test_removed_item_stops_earning_from_its_removal_and_sanctioned_creator_is_held() -> None:
    removal = WEEK.start_ms + 3 * MS_PER_DAY
    events: list[EngagementFact] = [
        ViewFact(1, 100, 1, 10, removal - 1, 60), ViewFact(2, 100, 1, 10, removal, 60),
        ViewFact(3, 100, 2, 20, removal, 60)]
    facts = WeekFacts(WEEK, 1000, EngagementColumns.from_facts(events),
                      (ConsumerValue(100, 0, True),),
                      (CreatorStatus(1, True, True), CreatorStatus(2, True, True, True)),
                      (ItemStatus(10, 1, removal),))
    result = settle(facts, POLICY)
    one, two = result.creator(1), result.creator(2)
    assert one is not None and two is not None
    assert one.items[0].dwell_seconds == 60
    assert any(d.reason == "item_removed" for d in one.discounts)
    assert two.status == "held" and two.held_minor == two.allocated_minor > 0


def test_an_old_item_revived_this_week_earns_and_its_ledger_grows() -> None:
    old = ItemLedger(10, 1, (LedgerEntry("2024-W03", 700, "h0"),))
    facts = week_facts([ViewFact(1, 100, 1, 10, WEEK.start_ms + 5, 120)],
                       (ConsumerValue(100, 0, True),), pool=5_000)
    result = settle(facts, POLICY)
    ledgers = post_week({10: old}, result)
    assert ledgers[10].entries[-1] == LedgerEntry(str(WEEK), 5_000, POLICY.hash)
    assert ledgers[10].lifetime_minor == 5_700
    try:
        post_week(ledgers, result)
    except ValueError:
        pass
    else:
        raise AssertionError("a week must not be appended twice")


@settings(max_examples=15, deadline=None)
@given(events=events_st(), consumers=consumers_st(), pool=st.integers(1, 10**8))
def test_shadow_policy_reports_per_creator_differences(
        events: list[EngagementFact], consumers: tuple[ConsumerValue, ...], pool: int) -> None:
    facts = week_facts(events, consumers, pool)
    same = shadow_compare(facts, POLICY, POLICY.evolve(version="1b"))
    assert same.diffs == ()
    candidate = POLICY.evolve(version="2", effective_from_week="2027-W01",
                              dwell_points_per_second=3, min_dwell_seconds=30)
    report = shadow_compare(facts, POLICY, candidate)
    assert sum(d.delta_minor for d in report.diffs) == 0 or any(
        r.total_score == 0 for r in (settle(facts, POLICY),
                                     settle(facts, candidate, check_effective=False)))
    cur, cand = settle(facts, POLICY).amounts(), settle(
        facts, candidate, check_effective=False).amounts()
    for d in report.diffs:
        assert (d.current_minor, d.candidate_minor) == (cur.get(d.creator_id, 0),
                                                         cand.get(d.creator_id, 0))
