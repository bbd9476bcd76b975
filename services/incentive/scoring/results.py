"""The model's WeekResult as records: one CreatorWeekResult per creator, the WeekSettled, and
the estimate per creator. Pure: ints are named back with the week's IdMap, so every record
carries the platform's string ids (and the model's ints where a proof needs them)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from planet.incentive.v1.weekly_pool_pb2 import (
    CreatorEstimate,
    CreatorWeekResult,
    DiscountLine,
    ItemAmount,
    ProofStep,
    TierAmount,
    WeekActivity,
    WeekSettled,
)
from services.incentive.domain.breakdown import CreatorResult, WeekResult, encode_result
from services.incentive.domain.id_map import IdKind, IdMap
from services.incentive.domain.merkle import merkle_proofs
from services.incentive.scoring.week_inputs import BuiltWeek


def result_sha256(result: WeekResult) -> str:
    """SHA-256 (hex) of the result's canonical encoding: equal bytes, equal hash."""
    return hashlib.sha256(encode_result(result)).hexdigest()


def _items(c: CreatorResult, ids: IdMap) -> Iterable[ItemAmount]:
    for i in c.items:
        yield ItemAmount(item_id=ids.name(IdKind.ITEM, i.item_id), item_int_id=i.item_id,
                         amount_minor=i.amount_minor, dwell_minor=i.dwell_minor,
                         interaction_minor=i.interaction_minor, dwell_seconds=i.dwell_seconds,
                         interaction_milli_points=i.interaction_milli_points)


def _tiers(c: CreatorResult) -> Iterable[TierAmount]:
    for t in c.tiers:
        yield TierAmount(tier=t.tier, amount_minor=t.amount_minor, consumers=t.consumers)


def _discounts(c: CreatorResult, ids: IdMap) -> Iterable[DiscountLine]:
    for d in c.discounts:
        # An event may name an item nobody published (unknown_item): its int has a name
        # only if some row carried it, which every discounted row did.
        item = "" if d.item_id is None else ids.name(IdKind.ITEM, d.item_id)
        yield DiscountLine(reason=d.reason, item_id=item, events=d.events, quantity=d.quantity)


def creator_results(result: WeekResult, built: BuiltWeek, asset: str) -> list[CreatorWeekResult]:
    """One record per creator of the result, with breakdown, activity and Merkle proof."""
    ids = built.ids
    proofs = merkle_proofs(result.leaves())
    out = []
    for c in result.creators:
        name = ids.name(IdKind.CREATOR, c.creator_id)
        proof = proofs.get(c.creator_id, ())
        out.append(CreatorWeekResult(
            week=result.week, creator_id=name, creator_int_id=c.creator_id, status=c.status,
            score=c.score, allocated_minor=c.allocated_minor,
            rollover_in_minor=c.rollover_in_minor, payable_minor=c.payable_minor,
            rollover_out_minor=c.rollover_out_minor, held_minor=c.held_minor, asset=asset,
            items=list(_items(c, ids)), tiers=list(_tiers(c)),
            discounts=list(_discounts(c, ids)),
            proof=[ProofStep(sibling=s.sibling.hex(), sibling_is_left=s.sibling_on_left)
                   for s in proof],
            merkle_root=result.merkle_root, policy_version=result.policy_version,
            policy_hash=result.policy_hash,
            activity=built.activity.get(name, WeekActivity())))
    return out


def week_settled(result: WeekResult, asset: str, *, settled_at_ms: int,
                 facts_counted: int, facts_late: int) -> WeekSettled:
    """The week's summary record (the public face of a settlement)."""
    cs = result.creators
    return WeekSettled(
        week=result.week, policy_version=result.policy_version, policy_hash=result.policy_hash,
        pool_minor=result.pool_minor, asset=asset,
        rollover_in_minor=sum(c.rollover_in_minor for c in cs),
        payable_minor=sum(c.payable_minor for c in cs),
        rollover_out_minor=sum(c.rollover_out_minor for c in cs),
        held_minor=sum(c.held_minor for c in cs),
        unallocated_minor=result.unallocated_minor, merkle_root=result.merkle_root,
        creators_paid=sum(1 for c in cs if c.payable_minor > 0), creators=len(cs),
        result_sha256=result_sha256(result), settled_at_ms=settled_at_ms,
        facts_counted=facts_counted, facts_late=facts_late)


def estimates(result: WeekResult, built: BuiltWeek, asset: str,
              as_of_ms: int) -> dict[str, CreatorEstimate]:
    """creator id -> their estimate (the same breakdown as a settlement's)."""
    ids = built.ids
    out = {}
    for c in result.creators:
        name = ids.name(IdKind.CREATOR, c.creator_id)
        out[name] = CreatorEstimate(
            week=result.week, creator_id=name, as_of_ms=as_of_ms,
            estimated_minor=c.allocated_minor, score=c.score, asset=asset,
            pool_minor=result.pool_minor, items=list(_items(c, ids)), tiers=list(_tiers(c)),
            discounts=list(_discounts(c, ids)), policy_version=result.policy_version,
            policy_hash=result.policy_hash, activity=built.activity.get(name, WeekActivity()))
    return out
