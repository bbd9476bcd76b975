"""The model's WeekResult as records: one CreatorWeekResult per creator, the WeekSettled, and
the estimate per creator. Pure: ints are named back with the week's IdMap, so every record
carries the platform's string ids (and the model's ints where a proof needs them)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from planet.incentive.v1.weekly_pool_pb2 import (
    CreatorEstimate,
    CreatorWeekResult,
    WeekSettled,
)
from services.incentive.domain.breakdown import CreatorResult, WeekResult, encode_result
from services.incentive.domain.id_map import IdKind
from services.incentive.domain.merkle import merkle_proofs
from services.incentive.scoring.week_inputs import BuiltWeek


def result_sha256(result: WeekResult) -> str:
    """SHA-256 (hex) of the result's canonical encoding: equal bytes, equal hash."""
    return hashlib.sha256(encode_result(result)).hexdigest()


def _add_lines(record: CreatorWeekResult | CreatorEstimate, c: CreatorResult,
               items: Mapping[int, str]) -> None:
    """``c``'s items, tiers and discount lines added in place to ``record`` (a week has
    ~700 k items: building each message apart and passing a list would copy it once more)."""
    add_item = record.items.add
    for i in c.items:
        add_item(item_id=items[i.item_id], item_int_id=i.item_id, amount_minor=i.amount_minor,
                 dwell_minor=i.dwell_minor, interaction_minor=i.interaction_minor,
                 dwell_seconds=i.dwell_seconds,
                 interaction_milli_points=i.interaction_milli_points)
    add_tier = record.tiers.add
    for t in c.tiers:
        add_tier(tier=t.tier, amount_minor=t.amount_minor, consumers=t.consumers)
    add_discount = record.discounts.add
    for d in c.discounts:
        # An event may name an item nobody published (unknown_item): its int has a name
        # only if some row carried it, which every discounted row did.
        add_discount(reason=d.reason, item_id="" if d.item_id is None else items[d.item_id],
                     events=d.events, quantity=d.quantity)


def creator_results(result: WeekResult, built: BuiltWeek, asset: str) -> list[CreatorWeekResult]:
    """One record per creator of the result, with breakdown, activity and Merkle proof."""
    # The name tables read directly (IdMap.name per id costs an Enum hash in Python).
    creators, items = built.ids.names(IdKind.CREATOR), built.ids.names(IdKind.ITEM)
    proofs = merkle_proofs(result.leaves())
    activity = built.activity
    out = []
    for c in result.creators:
        name = creators[c.creator_id]
        record = CreatorWeekResult(
            week=result.week, creator_id=name, creator_int_id=c.creator_id, status=c.status,
            score=c.score, allocated_minor=c.allocated_minor,
            rollover_in_minor=c.rollover_in_minor, payable_minor=c.payable_minor,
            rollover_out_minor=c.rollover_out_minor, held_minor=c.held_minor, asset=asset,
            merkle_root=result.merkle_root, policy_version=result.policy_version,
            policy_hash=result.policy_hash)
        _add_lines(record, c, items)
        add_step = record.proof.add
        for s in proofs.get(c.creator_id, ()):
            add_step(sibling=s.sibling.hex(), sibling_is_left=s.sibling_on_left)
        act = activity.get(name)
        if act is not None:
            record.activity.CopyFrom(act)
        else:
            record.activity.SetInParent()
        out.append(record)
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
    creators, items = built.ids.names(IdKind.CREATOR), built.ids.names(IdKind.ITEM)
    out = {}
    for c in result.creators:
        name = creators[c.creator_id]
        estimate = out[name] = CreatorEstimate(
            week=result.week, creator_id=name, as_of_ms=as_of_ms,
            estimated_minor=c.allocated_minor, score=c.score, asset=asset,
            pool_minor=result.pool_minor, policy_version=result.policy_version,
            policy_hash=result.policy_hash)
        _add_lines(estimate, c, items)
        act = built.activity.get(name)
        if act is not None:
            estimate.activity.CopyFrom(act)
        else:
            estimate.activity.SetInParent()
    return out
