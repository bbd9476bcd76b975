"""The model's WeekResult as records: one CreatorWeekResult per creator, the WeekSettled, and
the estimate per creator. Pure: ints are named back with the week's IdMap, so every record
carries the platform's string ids (and the model's ints where a proof needs them)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

from planet.incentive.v1.weekly_pool_pb2 import (
    CreatorEstimate,
    CreatorWeekResult,
    WeekSettled,
)
from services.incentive.domain.breakdown import CreatorResult, WeekResult, encode_result
from services.incentive.domain.id_map import IdKind
from services.incentive.domain.merkle import merkle_proofs
from services.incentive.scoring.week_inputs import BuiltWeek

# Entries of each per-item list (items, discounts, activity.items) one record carries: ~300
# KiB at most, well inside a Kafka request and a table changelog value. A creator with more
# items in a week (the bench's heaviest creator has 254 000: one 15 MB record) gets parts.
PART_ITEMS = 2_000
# Items an estimate lists (the highest amounts): the estimate topic is compacted, one record
# per creator, so it cannot be split into parts that compaction would keep apart.
ESTIMATE_ITEMS = 2_000


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


def result_parts(record: CreatorWeekResult) -> list[CreatorWeekResult]:
    """The records of one creator's result: itself when it fits, else part 1 (every field,
    the first slice of the per-item lists) and parts 2.. (the next slices)."""
    lists = (record.items, record.discounts, record.activity.items)
    longest = max(len(entries) for entries in lists)
    if longest <= PART_ITEMS:
        return [record]
    parts = -(-longest // PART_ITEMS)
    first = CreatorWeekResult()
    first.CopyFrom(record)
    first.part, first.parts = 1, parts
    for entries in (first.items, first.discounts, first.activity.items):
        del entries[PART_ITEMS:]
    out = [first]
    for n in range(2, parts + 1):
        lo, hi = (n - 1) * PART_ITEMS, n * PART_ITEMS
        part = CreatorWeekResult(
            week=record.week, creator_id=record.creator_id,
            creator_int_id=record.creator_int_id, asset=record.asset,
            merkle_root=record.merkle_root, policy_version=record.policy_version,
            policy_hash=record.policy_hash, part=n, parts=parts,
            items=record.items[lo:hi], discounts=record.discounts[lo:hi])
        part.activity.items.extend(record.activity.items[lo:hi])
        out.append(part)
    return out


def join_parts(records: Iterable[CreatorWeekResult]) -> tuple[list[CreatorWeekResult],
                                                               list[str]]:
    """Whole results from records in log order (parts joined in part order; the first record
    of a (week, creator, part) wins, as for a result written once), and what is wrong: a
    result missing parts is left out and named."""
    firsts: dict[tuple[str, str], CreatorWeekResult] = {}
    rest: dict[tuple[str, str], dict[int, CreatorWeekResult]] = {}
    for r in records:
        who = (r.week, r.creator_id)
        if r.part <= 1:
            firsts.setdefault(who, r)
        else:
            rest.setdefault(who, {}).setdefault(r.part, r)
    out, problems = [], []
    for who, first in firsts.items():
        if first.parts <= 1:
            out.append(first)
            continue
        got = rest.get(who, {})
        missing = [n for n in range(2, first.parts + 1) if n not in got]
        if missing:
            problems.append(f"creator {who[1]} week {who[0]}: parts {missing} of "
                            f"{first.parts} missing")
            continue
        whole = CreatorWeekResult()
        whole.CopyFrom(first)
        whole.part = whole.parts = 0
        for n in range(2, first.parts + 1):
            whole.items.extend(got[n].items)
            whole.discounts.extend(got[n].discounts)
            whole.activity.items.extend(got[n].activity.items)
        out.append(whole)
    problems += [f"creator {who[1]} week {who[0]}: parts without their part 1"
                 for who in rest if who not in firsts]
    return out, problems


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
        if len(estimate.items) > ESTIMATE_ITEMS:
            _keep_top_items(estimate)
    return out


def _keep_top_items(estimate: CreatorEstimate) -> None:
    """Only the ESTIMATE_ITEMS items of the highest amounts (then item id), their activity
    and their discount lines (the creator-level ones stay); ``items_total`` says how many."""
    estimate.items_total = len(estimate.items)
    top = sorted(estimate.items, key=lambda i: (-i.amount_minor, i.item_id))[:ESTIMATE_ITEMS]
    kept = {i.item_id for i in top}
    top.sort(key=lambda i: i.item_int_id)  # the model's order, as in a settlement
    activity = [a for a in estimate.activity.items if a.item_id in kept]
    discounts = [d for d in estimate.discounts if not d.item_id or d.item_id in kept]
    del estimate.items[:]
    estimate.items.extend(top)
    del estimate.activity.items[:]
    estimate.activity.items.extend(activity)
    del estimate.discounts[:]
    estimate.discounts.extend(discounts)
