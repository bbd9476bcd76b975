"""JSON shapes of the weekly pool: estimates, settled weeks, ledgers, operations.

Money is always an integer number of minor units of ``asset`` (the pool's quote asset, e.g.
USDT with 6 decimals: 1 USDT = 1000000): exact, never a float, never two assets added.
Consumer identities never appear: tiers are buckets of consumers, counted.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, Field

from gateway.schemas import Strict
from planet.incentive.v1 import incentive_service_pb2 as rpc
from planet.incentive.v1 import weekly_pool_pb2 as pool

INT64_MAX = (1 << 63) - 1
WEEK_PATTERN = r"^\d{4}-W\d{2}$"
ASSET_PATTERN = r"^[A-Z0-9]{2,16}$"
MAX_REASON_CHARS = 1_000
MAX_VERSION_CHARS = 64
# A policy is a few dozen integers; this leaves room for long tier lists, not for abuse.
MAX_POLICY_KEYS = 64


# ---- the breakdown ----------------------------------------------------------------------

class ItemAmountOut(BaseModel):
    """What one item earned and why: its dwell and interaction parts."""

    item_id: str
    amount_minor: int
    dwell_minor: int
    interaction_minor: int
    dwell_seconds: int = Field(description="Counted dwell (after the policy's minimum and caps).")
    interaction_milli_points: int = Field(description="Counted interaction points x 1000.")


class TierAmountOut(BaseModel):
    """The part of the amount that came from one consumer value tier (no identities)."""

    tier: str
    amount_minor: int
    consumers: int


class DiscountOut(BaseModel):
    """Engagement that did not count, by reason code (self_engagement, dwell_cap, ...)."""

    reason: str
    item_id: str | None = Field(description="null: at creator level (e.g. the influence bound).")
    events: int
    quantity: int


class BreakdownOut(BaseModel):
    """Explains 100 % of the amount: the items' amounts add up to it; discounts say what
    was left out and why; tiers bucket the consumers' value."""

    items: list[ItemAmountOut]
    tiers: list[TierAmountOut]
    discounts: list[DiscountOut]


class ItemActivityOut(BaseModel):
    """Raw activity of one item in the week (before the policy's rules)."""

    item_id: str
    views: int
    unique_viewers: int
    dwell_seconds: int


class ActivityOut(BaseModel):
    """Raw activity on the creator's items in the week (before the policy's rules)."""

    views: int
    unique_viewers: int
    dwell_seconds: int
    followers_gained: int
    items: list[ItemActivityOut]


def breakdown_out(items: Any, tiers: Any, discounts: Any) -> BreakdownOut:
    """The breakdown of repeated ItemAmount, TierAmount and DiscountLine."""
    return BreakdownOut(
        items=[ItemAmountOut(item_id=i.item_id, amount_minor=i.amount_minor,
                             dwell_minor=i.dwell_minor, interaction_minor=i.interaction_minor,
                             dwell_seconds=i.dwell_seconds,
                             interaction_milli_points=i.interaction_milli_points)
               for i in items],
        tiers=[TierAmountOut(tier=t.tier, amount_minor=t.amount_minor, consumers=t.consumers)
               for t in tiers],
        discounts=[DiscountOut(reason=d.reason, item_id=d.item_id or None, events=d.events,
                               quantity=d.quantity) for d in discounts])


def activity_out(a: pool.WeekActivity) -> ActivityOut:
    """JSON of a week's activity."""
    return ActivityOut(
        views=a.views, unique_viewers=a.unique_viewers, dwell_seconds=a.dwell_seconds,
        followers_gained=a.followers_gained,
        items=[ItemActivityOut(item_id=i.item_id, views=i.views, unique_viewers=i.unique_viewers,
                               dwell_seconds=i.dwell_seconds) for i in a.items])


# ---- creators ---------------------------------------------------------------------------

class CreatorEstimateOut(BaseModel):
    """The running estimate of the creator's current week, from the settlement's own function
    as of ``as_of_ms`` (self-engagement, caps and the influence bound apply as they will)."""

    creator_id: str
    week: str
    as_of_ms: int
    estimated_minor: int
    asset: str
    score: int
    pool_minor: int = Field(description="The week's pool so far (fundings + carried amounts).")
    policy_version: str
    policy_hash: str
    breakdown: BreakdownOut
    activity: ActivityOut
    items_total: int = Field(0, description=(
        "When the creator earned on more items this week than an estimate lists (2 000, the "
        "highest amounts first), how many there are; 0 when the breakdown lists them all. "
        "estimated_minor is always the whole amount; the settled week lists every item."))


def creator_estimate_out(e: pool.CreatorEstimate) -> CreatorEstimateOut:
    """JSON of an estimate (the HTTP answer and every WebSocket message)."""
    return CreatorEstimateOut(
        creator_id=e.creator_id, week=e.week, as_of_ms=e.as_of_ms,
        estimated_minor=e.estimated_minor, asset=e.asset, score=e.score,
        pool_minor=e.pool_minor, policy_version=e.policy_version, policy_hash=e.policy_hash,
        breakdown=breakdown_out(e.items, e.tiers, e.discounts), activity=activity_out(e.activity),
        items_total=e.items_total)


class CreatorWeekSummaryOut(BaseModel):
    """One settled week of a creator, with its payout's state."""

    week: str
    allocated_minor: int
    payable_minor: int
    rollover_out_minor: int
    held_minor: int
    asset: str
    payout_state: str = Field(description=(
        "pending | paid | refused | held | released | forfeited | rolled_over"))
    merkle_root: str


class CreatorWeeksOut(BaseModel):
    """Settled weeks, newest first; pass next_before_week for older ones (null: no more)."""

    weeks: list[CreatorWeekSummaryOut]
    next_before_week: str | None


def creator_weeks_out(page: rpc.CreatorWeeks) -> CreatorWeeksOut:
    """JSON of a page of settled weeks."""
    return CreatorWeeksOut(
        weeks=[CreatorWeekSummaryOut(
            week=w.week, allocated_minor=w.allocated_minor, payable_minor=w.payable_minor,
            rollover_out_minor=w.rollover_out_minor, held_minor=w.held_minor, asset=w.asset,
            payout_state=w.payout_state, merkle_root=w.merkle_root) for w in page.weeks],
        next_before_week=page.next_before_week or None)


class ProofStepOut(BaseModel):
    """One step of the Merkle proof: the sibling hash and its side."""

    sibling: str = Field(description="32 bytes, hex.")
    sibling_is_left: bool


class CreatorWeekOut(BaseModel):
    """One settled week: the amount and its parts, the breakdown explaining all of it, and
    the Merkle proof of the amount against the week's published root."""

    creator_id: str
    creator_int_id: int = Field(description="The model's id of the creator (the proof's leaf).")
    week: str
    status: str = Field(description="paid | rolled_over | held")
    score: int
    allocated_minor: int
    rollover_in_minor: int
    payable_minor: int
    rollover_out_minor: int
    held_minor: int
    asset: str
    policy_version: str
    policy_hash: str
    breakdown: BreakdownOut
    activity: ActivityOut
    proof: list[ProofStepOut]
    merkle_root: str


def creator_week_out(r: pool.CreatorWeekResult) -> CreatorWeekOut:
    """JSON of a creator's settled week."""
    return CreatorWeekOut(
        creator_id=r.creator_id, creator_int_id=r.creator_int_id, week=r.week, status=r.status,
        score=r.score, allocated_minor=r.allocated_minor, rollover_in_minor=r.rollover_in_minor,
        payable_minor=r.payable_minor, rollover_out_minor=r.rollover_out_minor,
        held_minor=r.held_minor, asset=r.asset, policy_version=r.policy_version,
        policy_hash=r.policy_hash, breakdown=breakdown_out(r.items, r.tiers, r.discounts),
        activity=activity_out(r.activity),
        proof=[ProofStepOut(sibling=p.sibling, sibling_is_left=p.sibling_is_left)
               for p in r.proof],
        merkle_root=r.merkle_root)


class ItemLedgerWeekOut(BaseModel):
    """What an item earned in one week, under which policy."""

    week: str
    amount_minor: int
    policy_hash: str


class ItemLedgerOut(BaseModel):
    """Every week an item earned (of any age: post once, earn forever) and its lifetime total."""

    item_id: str
    lifetime_minor: int
    asset: str
    weeks: list[ItemLedgerWeekOut]


class ItemLedgerPageOut(BaseModel):
    """A page of the per-item ledger; pass next_cursor for the next (null on the last)."""

    items: list[ItemLedgerOut]
    next_cursor: str | None


def item_ledger_out(page: rpc.ItemLedgerPage) -> ItemLedgerPageOut:
    """JSON of a ledger page."""
    return ItemLedgerPageOut(
        items=[ItemLedgerOut(item_id=i.item_id, lifetime_minor=i.lifetime_minor, asset=i.asset,
                             weeks=[ItemLedgerWeekOut(week=w.week, amount_minor=w.amount_minor,
                                                      policy_hash=w.policy_hash)
                                    for w in i.weeks]) for i in page.items],
        next_cursor=page.next_cursor or None)


class CenterWeekOut(BaseModel):
    """One week of the creator center."""

    week: str
    views: int
    unique_viewers: int
    dwell_seconds: int
    effective_interaction_milli_points: int
    followers_gained: int
    estimated_minor: int
    settled_minor: int
    settled: bool = Field(description="true once the week is settled (settled_minor final).")


class CenterItemOut(BaseModel):
    """One post in one week of the creator center."""

    item_id: str
    week: str
    views: int
    unique_viewers: int
    dwell_seconds: int
    effective_interaction_milli_points: int
    estimated_minor: int
    settled_minor: int


class CreatorCenterOut(BaseModel):
    """Per week and per post: views, unique viewers, dwell, effective interactions, followers
    gained, estimated and settled earnings."""

    creator_id: str
    asset: str
    weeks: list[CenterWeekOut]
    items: list[CenterItemOut]


def creator_center_out(c: rpc.CreatorCenter) -> CreatorCenterOut:
    """JSON of the creator center."""
    return CreatorCenterOut(
        creator_id=c.creator_id, asset=c.asset,
        weeks=[CenterWeekOut(
            week=w.week, views=w.views, unique_viewers=w.unique_viewers,
            dwell_seconds=w.dwell_seconds,
            effective_interaction_milli_points=w.effective_interaction_milli_points,
            followers_gained=w.followers_gained, estimated_minor=w.estimated_minor,
            settled_minor=w.settled_minor, settled=w.settled) for w in c.weeks],
        items=[CenterItemOut(
            item_id=i.item_id, week=i.week, views=i.views, unique_viewers=i.unique_viewers,
            dwell_seconds=i.dwell_seconds,
            effective_interaction_milli_points=i.effective_interaction_milli_points,
            estimated_minor=i.estimated_minor, settled_minor=i.settled_minor) for i in c.items])


# ---- public -----------------------------------------------------------------------------

class SettledWeekOut(BaseModel):
    """A settled week as published: its root, pool, policy and totals."""

    week: str
    policy_version: str
    policy_hash: str
    pool_minor: int
    asset: str
    rollover_in_minor: int
    payable_minor: int
    rollover_out_minor: int
    held_minor: int
    unallocated_minor: int = Field(description="Carried into the next week's pool.")
    merkle_root: str
    creators_paid: int
    creators: int
    result_sha256: str
    settled_at_ms: int
    facts_counted: int
    facts_late: int


class SettledWeeksOut(BaseModel):
    """Settled weeks, newest first; pass next_before_week for older ones (null: no more)."""

    weeks: list[SettledWeekOut]
    next_before_week: str | None


def settled_week_out(w: pool.WeekSettled) -> SettledWeekOut:
    """JSON of a settled week."""
    return SettledWeekOut(
        week=w.week, policy_version=w.policy_version, policy_hash=w.policy_hash,
        pool_minor=w.pool_minor, asset=w.asset, rollover_in_minor=w.rollover_in_minor,
        payable_minor=w.payable_minor, rollover_out_minor=w.rollover_out_minor,
        held_minor=w.held_minor, unallocated_minor=w.unallocated_minor,
        merkle_root=w.merkle_root, creators_paid=w.creators_paid, creators=w.creators,
        result_sha256=w.result_sha256, settled_at_ms=w.settled_at_ms,
        facts_counted=w.facts_counted, facts_late=w.facts_late)


def settled_weeks_out(page: rpc.SettledWeeks) -> SettledWeeksOut:
    """JSON of a page of settled weeks."""
    return SettledWeeksOut(weeks=[settled_week_out(w) for w in page.weeks],
                           next_before_week=page.next_before_week or None)


# ---- operators --------------------------------------------------------------------------

class FundingBody(Strict):
    """Fund a week's pool with an exact amount (the Idempotency-Key is the funding's id: the
    same key funds once)."""

    week: str = Field(pattern=WEEK_PATTERN, description="ISO week YYYY-Www.")
    amount_minor: int = Field(strict=True, gt=0, le=INT64_MAX,
                              description="Integer minor units of asset; > 0.")
    asset: str = Field(pattern=ASSET_PATTERN, description="The pool's quote asset, e.g. USDT.")


class PoolFundingOut(BaseModel):
    """The week's funded total so far; ``applied`` false: this key had funded already."""

    funding_id: str
    week: str
    funded_minor: int
    asset: str
    applied: bool


def pool_funding_out(funding_id: str, f: rpc.PoolFunding) -> PoolFundingOut:
    """JSON of a funding's answer."""
    return PoolFundingOut(funding_id=funding_id, week=f.week, funded_minor=f.funded_minor,
                          asset=f.asset, applied=f.applied)


class PolicyBody(Strict):
    """A scoring policy taking effect from a future week."""

    version: str = Field(min_length=1, max_length=MAX_VERSION_CHARS,
                         pattern=r"^[A-Za-z0-9._-]+$")
    effective_week: str = Field(pattern=WEEK_PATTERN, description="ISO week YYYY-Www (future).")
    policy: dict[str, Any] = Field(max_length=MAX_POLICY_KEYS, description=(
        "The policy's fields (services/incentive/domain/policy.py ScoringPolicy; "
        "version and effective_from_week are taken from this body); the service checks "
        "them."))


class PolicyPublishedOut(BaseModel):
    """A published policy: its canonical encoding's SHA-256 identifies it."""

    version: str
    effective_week: str
    policy_hash: str
    operator_id: str
    at_ms: int
    policy: dict[str, Any] | None = Field(description="The canonical policy as published.")


def policy_json(policy: dict[str, Any]) -> bytes:
    """The body's policy as compact JSON (the service canonicalizes and hashes it)."""
    return json.dumps(policy, separators=(",", ":"), sort_keys=True).encode()


def _policy(raw: bytes) -> dict[str, Any] | None:
    try:
        decoded = json.loads(raw)
    except ValueError:
        return None
    return decoded if isinstance(decoded, dict) else None


def policy_published_out(p: pool.PolicyPublished) -> PolicyPublishedOut:
    """JSON of a published policy."""
    return PolicyPublishedOut(version=p.version, effective_week=p.effective_week,
                              policy_hash=p.policy_hash, operator_id=p.operator_id,
                              at_ms=p.at_ms, policy=_policy(p.policy_json))


class ShadowBody(Strict):
    """A candidate policy to compare on a past (closed: final) or current (estimate) week."""

    week: str = Field(pattern=WEEK_PATTERN, description="ISO week YYYY-Www.")
    candidate_policy: dict[str, Any] | None = Field(
        default=None, max_length=MAX_POLICY_KEYS,
        description="A whole candidate policy (every ScoringPolicy field, version and "
                    "effective_from_week included); null: the latest published policy.")


class CreatorDifferenceOut(BaseModel):
    """One creator's amount under the current and the candidate policy."""

    creator_id: str
    current_minor: int
    candidate_minor: int
    delta_minor: int


class ShadowComparisonOut(BaseModel):
    """Per-creator differences of a candidate policy; ``moved_minor`` is what changes hands."""

    week: str
    mode: str = Field(description="final (a closed week's cut) | estimate (the week so far)")
    current_policy_hash: str
    candidate_policy_hash: str
    pool_minor: int
    moved_minor: int
    differences: list[CreatorDifferenceOut]


def shadow_out(s: rpc.ShadowComparison) -> ShadowComparisonOut:
    """JSON of a shadow comparison."""
    return ShadowComparisonOut(
        week=s.week, mode=s.mode, current_policy_hash=s.current_policy_hash,
        candidate_policy_hash=s.candidate_policy_hash, pool_minor=s.pool_minor,
        moved_minor=s.moved_minor,
        differences=[CreatorDifferenceOut(creator_id=d.creator_id,
                                          current_minor=d.current_minor,
                                          candidate_minor=d.candidate_minor,
                                          delta_minor=d.delta_minor) for d in s.differences])


class CloseBody(Strict):
    """Why the week should close before its grace period ends."""

    reason: str = Field(min_length=1, max_length=MAX_REASON_CHARS)


class CloseWeekOut(BaseModel):
    """Whether the early close was accepted (only when the week's policy allows it)."""

    week: str
    accepted: bool
    detail: str


def close_week_out(c: rpc.CloseWeekAnswer) -> CloseWeekOut:
    """JSON of an early close's answer."""
    return CloseWeekOut(week=c.week, accepted=c.accepted, detail=c.detail)


Decision = Literal["release", "forfeit"]
DECISIONS: dict[str, pool.HeldDecided.Decision.ValueType] = {
    "release": pool.HeldDecided.DECISION_RELEASE, "forfeit": pool.HeldDecided.DECISION_FORFEIT}


_DECISION_NAMES: dict[int, Decision] = {pool.HeldDecided.DECISION_RELEASE: "release",
                                        pool.HeldDecided.DECISION_FORFEIT: "forfeit"}


class HeldBody(Strict):
    """Release (pay) or forfeit (to the next week's pool) a sanctioned creator's held amount."""

    decision: Decision
    reason: str = Field(min_length=1, max_length=MAX_REASON_CHARS)


class HeldDecidedOut(BaseModel):
    """An operator's decision on a held amount."""

    week: str
    creator_id: str
    decision: Decision | None
    amount_minor: int
    asset: str
    operator_id: str
    reason: str
    at_ms: int
    decision_id: str


def held_decided_out(h: pool.HeldDecided) -> HeldDecidedOut:
    """JSON of a held decision."""
    decision = _DECISION_NAMES.get(h.decision)
    return HeldDecidedOut(week=h.week, creator_id=h.creator_id, decision=decision,
                          amount_minor=h.amount_minor, asset=h.asset,
                          operator_id=h.operator_id, reason=h.reason, at_ms=h.at_ms,
                          decision_id=h.decision_id)


class LateFactsOut(BaseModel):
    """Facts of a closed week found beyond its cut: counted nowhere, with the reason."""

    week: str
    topic: str
    partition: int
    offset: int
    rows: int
    reason: str
    event_ids: list[str]


class LateFactsPageOut(BaseModel):
    """A page of late facts; pass next_cursor for the next (null on the last)."""

    late: list[LateFactsOut]
    next_cursor: str | None


def late_facts_out(page: rpc.LateFactsPage) -> LateFactsPageOut:
    """JSON of a page of late facts."""
    return LateFactsPageOut(
        late=[LateFactsOut(week=f.week, topic=f.topic, partition=f.partition, offset=f.offset,
                           rows=f.rows, reason=f.reason, event_ids=list(f.event_ids))
              for f in page.late],
        next_cursor=page.next_cursor or None)
