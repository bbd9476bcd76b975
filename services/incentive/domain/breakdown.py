"""The settlement's result values: per creator, per item, per tier bucket, per discount."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from services.incentive.domain.gc_pause import paused_gc
from services.incentive.domain.merkle import ProofStep, merkle_proof


@dataclass(frozen=True)
class Discount:
    """Engagement that did not count in full, and why.

    `quantity` unit by reason: dwell seconds for below_min_dwell and dwell_cap; milli-points for
    interaction_cap; score units for influence_bound; otherwise the number of events.
    `events` counts events (consumers, for influence_bound). item_id None = creator level.
    """

    reason: str
    item_id: int | None
    events: int
    quantity: int


@dataclass(frozen=True)
class ItemShare:
    """What one item earned this week, split into its dwell and interaction parts."""

    item_id: int
    amount_minor: int
    dwell_minor: int
    interaction_minor: int
    dwell_seconds: int  # counted (after minimum and caps)
    interaction_milli_points: int  # counted (after caps)


@dataclass(frozen=True)
class TierShare:
    """What consumers of one value-weight bucket gave this creator (no identities)."""

    tier: str
    amount_minor: int
    consumers: int


@dataclass(frozen=True)
class CreatorResult:
    """One creator's week. allocated = sum(items) = sum(tiers); gross = allocated + rollover_in
    = payable + rollover_out + held."""

    creator_id: int
    status: str  # 'paid' | 'rolled_over' | 'held' (sanctioned: kept, not lost)
    score: int
    allocated_minor: int
    rollover_in_minor: int
    payable_minor: int
    rollover_out_minor: int
    held_minor: int
    items: tuple[ItemShare, ...]
    tiers: tuple[TierShare, ...]
    discounts: tuple[Discount, ...]


@dataclass(frozen=True)
class WeekResult:
    """The week's split under one policy; sum of allocated_minor == pool - unallocated."""

    week: str
    mode: str  # 'estimate' | 'final'
    as_of_ms: int | None
    policy_version: str
    policy_hash: str
    pool_minor: int
    unallocated_minor: int  # the whole pool when nobody engaged; carried to next week's pool
    total_score: int
    merkle_root: str  # hex
    creators: tuple[CreatorResult, ...]

    def creator(self, creator_id: int) -> CreatorResult | None:
        """The creator's result, if they appear this week."""
        for c in self.creators:
            if c.creator_id == creator_id:
                return c
        return None

    def amounts(self) -> dict[int, int]:
        """creator id -> allocated amount, for every creator in the result."""
        return {c.creator_id: c.allocated_minor for c in self.creators}

    def leaves(self) -> list[tuple[int, int]]:
        """The Merkle leaves: (creator id, allocated amount) for every allocated creator."""
        return [(c.creator_id, c.allocated_minor) for c in self.creators if c.allocated_minor]

    def proof(self, creator_id: int) -> tuple[ProofStep, ...]:
        """Merkle proof of one creator's leaf."""
        return merkle_proof(self.leaves(), creator_id)


def _creator_dict(c: CreatorResult) -> dict[str, Any]:
    return {
        "creator_id": c.creator_id, "status": c.status, "score": c.score,
        "allocated_minor": c.allocated_minor, "rollover_in_minor": c.rollover_in_minor,
        "payable_minor": c.payable_minor, "rollover_out_minor": c.rollover_out_minor,
        "held_minor": c.held_minor,
        "items": [[i.item_id, i.amount_minor, i.dwell_minor, i.interaction_minor,
                   i.dwell_seconds, i.interaction_milli_points] for i in c.items],
        "tiers": [[t.tier, t.amount_minor, t.consumers] for t in c.tiers],
        "discounts": [[d.reason, d.item_id, d.events, d.quantity] for d in c.discounts],
    }


def encode_result(result: WeekResult) -> bytes:
    """Canonical bytes of a result: sorted-key compact UTF-8 JSON, creators by id, lists in
    the documented column order (items: id, amount, dwell, interaction, seconds, milli-points;
    tiers: label, amount, consumers; discounts: reason, item, events, quantity)."""
    with paused_gc():  # about a million lists: see gc_pause
        return _encode(result)


def _encode(result: WeekResult) -> bytes:
    doc = {
        "week": result.week, "mode": result.mode, "as_of_ms": result.as_of_ms,
        "policy_version": result.policy_version, "policy_hash": result.policy_hash,
        "pool_minor": result.pool_minor, "unallocated_minor": result.unallocated_minor,
        "total_score": result.total_score, "merkle_root": result.merkle_root,
        "creators": [_creator_dict(c) for c in result.creators],
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
