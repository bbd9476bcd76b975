"""Comparisons: the SQL's stage 1 against the model's, and the records against their invariants.

Every difference is one line naming what differs, where, and both values.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from planet.incentive.v1.weekly_pool_pb2 import CreatorWeekResult, WeekSettled
from services.incentive.domain.breakdown import WeekResult
from services.incentive.domain.engagement import Engagement
from services.incentive.domain.id_map import IdKind, IdMap
from services.incentive.domain.merkle import ProofStep, verify_proof
from services.incentive.domain.policy import ScoringPolicy
from services.incentive.domain.reasons import REASON_CODES, Reason
from services.incentive.reconcile import ids as mid

K = TypeVar("K")
V = TypeVar("V")

Pairs = dict[tuple[str, str], int]  # (consumer, creator) -> counted points
Discounts = dict[tuple[str, str, str], tuple[int, int]]  # (creator, item, reason) -> (ev, qty)
Items = dict[tuple[str, str], tuple[int, int]]  # (creator, item) -> (seconds, milli-points)

# Stage 2's discount: the SQL recomputes stage 1 only.
_STAGE_2 = Reason.INFLUENCE_BOUND.value


@dataclass(frozen=True)
class Stage1:
    """Counted engagement and discounts of one side (SQL or model), by string ids."""

    pairs: Pairs
    discounts: Discounts
    items: Items


def model_stage1(eng: Engagement, ids: IdMap) -> Stage1:
    """The model's Engagement named back with the week's IdMap."""
    cons = [ids.name(IdKind.CONSUMER, int(c)) for c in eng.consumer_ids.tolist()]
    cres = [ids.name(IdKind.CREATOR, int(c)) for c in eng.creator_ids.tolist()]
    items = [ids.name(IdKind.ITEM, int(i)) for i in eng.item_ids.tolist()]
    pairs = {(cons[c], cres[r]): int(p) for c, r, p in zip(
        eng.pair_consumer.tolist(), eng.pair_creator.tolist(), eng.pair_points.tolist(),
        strict=True)}
    cr, it, rs, ev, qt = eng.discounts
    discounts = {(ids.name(IdKind.CREATOR, c), "" if i < 0 else ids.name(IdKind.ITEM, i),
                  REASON_CODES[r].value): (e, q)
                 for c, i, r, e, q in zip(cr.tolist(), it.tolist(), rs.tolist(), ev.tolist(),
                                          qt.tolist(), strict=True)}
    n = len(eng.item_ids)
    seconds = np.zeros(n, dtype=np.int64)
    milli = np.zeros(n, dtype=np.int64)
    np.add.at(seconds, eng.row_item, eng.row_dwell_seconds)
    np.add.at(milli, eng.row_item, eng.row_interaction_milli)
    item_rows = {(cres[int(eng.item_creator[i])], items[i]): (int(seconds[i]), int(milli[i]))
                 for i in np.unique(eng.row_item).tolist()}
    return Stage1(pairs, discounts, item_rows)


def _diff_maps(what: str, sql: Mapping[K, V], model: Mapping[K, V]) -> list[str]:
    out = []
    for key in sorted(set(sql) | set(model), key=repr):
        a, b = sql.get(key), model.get(key)
        if a != b:
            out.append(f"{what} {key!r}: sql={a!r} model={b!r}")
    return out


def compare_stage1(sql: Stage1, model: Stage1) -> list[str]:
    """Per pair points, per (creator, item, reason) discounts, per item counted amounts."""
    model_discounts = {k: v for k, v in model.discounts.items() if k[2] != _STAGE_2}
    return (_diff_maps("stage1 pair points", sql.pairs, model.pairs)
            + _diff_maps("stage1 discount (events, quantity)", sql.discounts, model_discounts)
            + _diff_maps("stage1 item (dwell seconds, interaction milli-points)", sql.items,
                         model.items))


def _leaf(creator: int, amount: int) -> bytes:
    return hashlib.sha256(b"\0" + creator.to_bytes(8, "big") + amount.to_bytes(8, "big")).digest()


def merkle_root_of(leaves: Sequence[tuple[int, int]]) -> str:
    """The documented root over (creator id, amount) leaves (docs/incentives.md), recomputed
    here: sorted by creator id, an odd last node promoted, empty week SHA-256('')."""
    if not leaves:
        return hashlib.sha256(b"").hexdigest()
    level = [_leaf(c, a) for c, a in sorted(leaves)]
    while len(level) > 1:
        nxt = [hashlib.sha256(b"\1" + level[i] + level[i + 1]).digest()
               for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0].hex()


def _proof(result: CreatorWeekResult) -> list[ProofStep] | None:
    try:
        return [ProofStep(bytes.fromhex(s.sibling), s.sibling_is_left) for s in result.proof]
    except ValueError:
        return None


def check_creator(r: CreatorWeekResult, settled: WeekSettled) -> list[str]:
    """One creator record's own invariants and its Merkle proof."""
    who = f"creator {r.creator_id!r}"
    out = []
    if r.creator_int_id != mid.model_id(mid.CREATOR, r.creator_id):
        out.append(f"{who}: creator_int_id {r.creator_int_id} is not the model id of its "
                   f"name ({mid.model_id(mid.CREATOR, r.creator_id)})")
    items_total = sum(i.amount_minor for i in r.items)
    if r.allocated_minor != items_total:
        out.append(f"{who}: allocated {r.allocated_minor} != Σ items {items_total}")
    for i in r.items:
        if i.amount_minor != i.dwell_minor + i.interaction_minor:
            out.append(f"{who} item {i.item_id!r}: amount {i.amount_minor} != dwell "
                       f"{i.dwell_minor} + interaction {i.interaction_minor}")
    tiers_total = sum(t.amount_minor for t in r.tiers)
    if r.allocated_minor != tiers_total:
        out.append(f"{who}: allocated {r.allocated_minor} != Σ tiers {tiers_total}")
    gross = r.allocated_minor + r.rollover_in_minor
    parts = r.payable_minor + r.rollover_out_minor + r.held_minor
    if gross != parts:
        out.append(f"{who}: allocated + rollover_in {gross} != payable + rollover_out + held "
                   f"{parts}")
    if r.merkle_root != settled.merkle_root:
        out.append(f"{who}: merkle_root {r.merkle_root} != the week's {settled.merkle_root}")
    if r.policy_hash != settled.policy_hash:
        out.append(f"{who}: policy_hash {r.policy_hash} != the week's {settled.policy_hash}")
    proof = _proof(r)
    if r.allocated_minor > 0:
        try:
            root = bytes.fromhex(settled.merkle_root)
        except ValueError:
            root = b""
        if proof is None or not verify_proof(root, r.creator_int_id, r.allocated_minor, proof):
            out.append(f"{who}: Merkle proof of amount {r.allocated_minor} does not verify "
                       f"against root {settled.merkle_root}")
    elif r.proof:
        out.append(f"{who}: allocated 0 (no leaf) but carries a proof of {len(r.proof)} steps")
    return out


def check_week(results: Sequence[CreatorWeekResult], settled: WeekSettled,
               policy: ScoringPolicy) -> list[str]:
    """The week's amount invariants over all its creator records."""
    out = []
    seen: dict[str, int] = {}
    for r in results:
        seen[r.creator_id] = seen.get(r.creator_id, 0) + 1
    out += [f"creator {c!r}: {n} results for the week (one expected)"
            for c, n in sorted(seen.items()) if n > 1]
    for r in results:
        out += check_creator(r, settled)
    total = {name: sum(getattr(r, f"{name}_minor") for r in results)
             for name in ("payable", "rollover_out", "held", "rollover_in", "allocated")}
    lhs = total["payable"] + total["rollover_out"] + total["held"] + settled.unallocated_minor
    rhs = settled.pool_minor + settled.rollover_in_minor
    if lhs != rhs:
        out.append(f"week: Σ payable {total['payable']} + Σ rollover_out "
                   f"{total['rollover_out']} + Σ held {total['held']} + unallocated "
                   f"{settled.unallocated_minor} = {lhs} != pool {settled.pool_minor} + "
                   f"rollover_in {settled.rollover_in_minor} = {rhs}")
    if total["allocated"] + settled.unallocated_minor != settled.pool_minor:
        out.append(f"week: Σ allocated {total['allocated']} + unallocated "
                   f"{settled.unallocated_minor} != pool {settled.pool_minor}")
    for name in ("payable", "rollover_out", "held", "rollover_in"):
        stated = getattr(settled, f"{name}_minor")
        if stated != total[name]:
            out.append(f"week: WeekSettled.{name}_minor {stated} != Σ creators {total[name]}")
    if settled.creators != len(results):
        out.append(f"week: WeekSettled.creators {settled.creators} != {len(results)} records")
    paid = sum(1 for r in results if r.payable_minor > 0)
    if settled.creators_paid != paid:
        out.append(f"week: WeekSettled.creators_paid {settled.creators_paid} != {paid}")
    root = merkle_root_of([(r.creator_int_id, r.allocated_minor) for r in results
                           if r.allocated_minor > 0])
    if root != settled.merkle_root:
        out.append(f"week: Merkle root over the records' amounts {root} != WeekSettled's "
                   f"{settled.merkle_root}")
    if (settled.policy_version, settled.policy_hash) != (policy.version, policy.hash):
        out.append(f"week: settled under policy {settled.policy_version} "
                   f"{settled.policy_hash}, the policy in effect is {policy.version} "
                   f"{policy.hash}")
    return out


def check_records_against_sql(results: Sequence[CreatorWeekResult], sql: Stage1) -> list[str]:
    """The records' discounts (stage 1 reasons) and paid items' counted amounts against the
    SQL's."""
    out = []
    recorded: Discounts = {}
    items: Items = {}
    paid: set[str] = set()
    for r in results:
        for d in r.discounts:
            if d.reason != _STAGE_2:
                recorded[(r.creator_id, d.item_id, d.reason)] = (d.events, d.quantity)
        if r.allocated_minor > 0:
            paid.add(r.creator_id)
            for i in r.items:
                items[(r.creator_id, i.item_id)] = (i.dwell_seconds, i.interaction_milli_points)
    for key in sorted(set(recorded) | set(sql.discounts)):
        if recorded.get(key) != sql.discounts.get(key):
            out.append(f"records discount (events, quantity) {key!r}: "
                       f"sql={sql.discounts.get(key)!r} record={recorded.get(key)!r}")
    sql_items = {k: v for k, v in sql.items.items() if k[0] in paid}
    for item in sorted(set(items) | set(sql_items)):
        if items.get(item) != sql_items.get(item):
            out.append(f"records item (dwell seconds, interaction milli-points) {item!r}: "
                       f"sql={sql_items.get(item)!r} record={items.get(item)!r}")
    return out


def check_records_against_model(results: Sequence[CreatorWeekResult], settled: WeekSettled,
                                model: WeekResult, ids: IdMap, result_sha256: str) -> list[str]:
    """The records' amounts against the model settling the same input again."""
    out = []
    fields = ("score", "allocated_minor", "rollover_in_minor", "payable_minor",
              "rollover_out_minor", "held_minor", "status")
    expected = {ids.name(IdKind.CREATOR, c.creator_id): tuple(getattr(c, f) for f in fields)
                for c in model.creators}
    written = {r.creator_id: tuple(getattr(r, f) for f in fields) for r in results}
    for key in sorted(set(expected) | set(written)):
        if expected.get(key) != written.get(key):
            out.append(f"records vs model creator {key!r} {fields}: "
                       f"record={written.get(key)!r} model={expected.get(key)!r}")
    if model.merkle_root != settled.merkle_root:
        out.append(f"records vs model: merkle_root {settled.merkle_root} != model "
                   f"{model.merkle_root}")
    if model.unallocated_minor != settled.unallocated_minor or \
            model.pool_minor != settled.pool_minor:
        out.append(f"records vs model: pool/unallocated {settled.pool_minor}/"
                   f"{settled.unallocated_minor} != model {model.pool_minor}/"
                   f"{model.unallocated_minor}")
    if result_sha256 != settled.result_sha256:
        out.append(f"records vs model: result_sha256 {settled.result_sha256} != model "
                   f"{result_sha256}")
    return out


def check_carried(results: Sequence[CreatorWeekResult], previous: Sequence[CreatorWeekResult],
                  previous_settled: bool, settled: WeekSettled, expected_pool: int) -> list[str]:
    """What the week carried in: each creator's rollover_in is what the previous week's record
    rolled over (its first record per creator), and the pool is the operations' fundings plus
    the previous week's unallocated and forfeits (scoring.pool_book)."""
    out = []
    carried: dict[str, int] = {}
    if previous_settled:
        for r in previous:
            if r.rollover_out_minor > 0:
                carried.setdefault(r.creator_id, r.rollover_out_minor)
    got = {r.creator_id: r.rollover_in_minor for r in results if r.rollover_in_minor}
    for creator in sorted(set(carried) | set(got)):
        if carried.get(creator, 0) != got.get(creator, 0):
            out.append(f"creator {creator!r}: rollover_in {got.get(creator, 0)} != the previous "
                       f"week's rollover_out {carried.get(creator, 0)}")
    if settled.pool_minor != expected_pool:
        out.append(f"week: WeekSettled.pool_minor {settled.pool_minor} != fundings + carried "
                   f"{expected_pool} (operations log)")
    return out
