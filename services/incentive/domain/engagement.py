"""Stage 1: from raw events to counted engagement, recording every discount with its reason.

Columnar int64 numpy throughout (see facts.py for why); every grouping sorts, so the result
does not depend on the order events arrive in.

How it stays fast at ten million events (each step is O(E) or one int64 sort):
- ids are replaced by dense ranks first (`_factorize`), so every composite key (consumer, item,
  day), (consumer, creator), (creator, item, reason) packs into one int64 and each grouping is
  one argsort of one column; ranks ascend with ids, so rank order is id order;
- facts about a consumer, creator or item (status tables) are looked up once per distinct id,
  then gathered per event by rank, instead of a binary search per event;
- the filters give each event the code of the first rule it fails in one pass over the columns
  (`_first_failed_rule`) instead of shrinking the event set rule by rule;
- sums inside a group do not depend on the order of its rows, and where order does decide
  (duplicates, once-only interactions) the tie-break is a total order, so the sorts need not
  be stable (numpy's stable argsort is several times slower).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from services.incentive.domain.facts import (
    MS_PER_DAY,
    ONCE_PER_CREATOR,
    ONCE_PER_ITEM,
    TEXT_KINDS,
    ConsumerValue,
    EngagementColumns,
    EventKind,
    Int64Array,
    WeekFacts,
)
from services.incentive.domain.policy import ScoringPolicy
from services.incentive.domain.reasons import REASON_INDEX, Reason
from services.incentive.domain.weights import value_weight

MILLI = 1_000  # interaction points are attributed to items in milli-points
BoolArray = npt.NDArray[np.bool_]

_PASS = -1  # filter code of an event that passed every rule
_SILENT = 127  # filter code of an event dropped without a discount (after the estimate's cut)
_REASON_SLOTS = 16  # reason indices (< 16) in the low digits of a packed discount key
# Ids spanning at most this many values per id (plus a floor) are ranked through a lookup
# table, O(ids + span), instead of a sort: database sequence ids look like this.
_TABLE_SPAN_PER_ID = 2
_TABLE_SPAN_FLOOR = 1 << 20


def _empty() -> Int64Array:
    return np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class Engagement:
    """Counted engagement of the week, keyed by dense indices, plus discounts."""

    consumer_ids: Int64Array  # dense consumer index -> id (ascending)
    creator_ids: Int64Array  # dense creator index -> id (ascending)
    item_ids: Int64Array  # dense item index -> id (ascending)
    item_creator: Int64Array  # dense item index -> dense creator index
    consumer_weight: Int64Array  # per dense consumer index
    consumer_tier: Int64Array
    # Per (consumer, creator) pair, sorted by (consumer, creator).
    pair_consumer: Int64Array
    pair_creator: Int64Array
    pair_points: Int64Array  # exact counted points (dwell + capped interactions)
    # Per (consumer, item) row, sorted by (consumer, item); `row_pair` points into the pairs.
    row_pair: Int64Array
    row_item: Int64Array
    row_dwell_seconds: Int64Array
    row_dwell_milli: Int64Array
    row_interaction_milli: Int64Array
    # Discounts: creator id, item id (-1 = creator level), reason index, events, quantity.
    discounts: tuple[Int64Array, Int64Array, Int64Array, Int64Array, Int64Array]


# ---------------------------------------------------------------------------------------------
# Small columnar helpers


def _group_starts(*sorted_cols: Int64Array) -> Int64Array:
    """Indices where a run of equal keys begins, for columns already sorted together."""
    n = len(sorted_cols[0])
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    change = np.zeros(n, dtype=bool)
    change[0] = True
    for col in sorted_cols:
        change[1:] |= col[1:] != col[:-1]
    return np.flatnonzero(change).astype(np.int64)


def _run_sums(values: Int64Array, starts: Int64Array) -> Int64Array:
    """Sum of each run of `values` beginning at `starts` (np.add.reduceat, empty-safe)."""
    return np.add.reduceat(values, starts).astype(np.int64) if len(starts) else _empty()


def _run_of_row(starts: Int64Array, n: int) -> Int64Array:
    """For each of n sorted rows, the index of the run it belongs to."""
    return np.repeat(np.arange(len(starts), dtype=np.int64), np.diff(np.append(starts, n)))


def _lookup(ids_sorted: Int64Array, values: Int64Array, keys: Int64Array,
            missing: int) -> Int64Array:
    """values[id] for each key, `missing` where the id is not in ids_sorted."""
    if len(ids_sorted) == 0:
        return np.full(len(keys), missing, dtype=np.int64)
    pos = np.searchsorted(ids_sorted, keys)
    pos_c = np.minimum(pos, len(ids_sorted) - 1)
    found = ids_sorted[pos_c] == keys
    return np.where(found, values[pos_c], np.int64(missing)).astype(np.int64)


def _factorize(ids: Int64Array) -> tuple[Int64Array, Int64Array]:
    """(distinct ids ascending, rank of each id among them), like np.unique(return_inverse).

    np.unique uses a stable sort; ranks need none. Compact ids go through a presence table.
    """
    n = len(ids)
    if n == 0:
        return _empty(), _empty()
    lo = int(ids.min())
    span = int(ids.max()) - lo + 1
    if span <= _TABLE_SPAN_PER_ID * n + _TABLE_SPAN_FLOOR:
        offset = ids - lo
        present = np.zeros(span, dtype=bool)
        present[offset] = True
        rank_of_offset = np.cumsum(present, dtype=np.int64) - 1
        return np.flatnonzero(present).astype(np.int64) + lo, rank_of_offset[offset]
    order = np.argsort(ids)
    sorted_ids = ids[order]
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(sorted_ids[1:], sorted_ids[:-1], out=new[1:])
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.cumsum(new, dtype=np.int64) - 1
    return sorted_ids[new], rank


def _subset_ranks(rank: Int64Array, n_ranks: int) -> tuple[Int64Array, Int64Array]:
    """Re-rank a subset: (old ranks present, ascending; new dense rank of each entry)."""
    present = np.zeros(n_ranks, dtype=bool)
    present[rank] = True
    new_rank = np.cumsum(present, dtype=np.int64) - 1
    return np.flatnonzero(present).astype(np.int64), new_rank[rank]


def _kind_in(kind: Int64Array, kinds: Collection[EventKind]) -> BoolArray:
    """kind is one of `kinds` (a handful of equality tests beat np.isin here)."""
    out = np.zeros(len(kind), dtype=bool)
    for k in kinds:
        out |= kind == int(k)
    return out


# ---------------------------------------------------------------------------------------------
# Discounts


class _Discounts:
    """Accumulates discounted events by creator and item rank; summed once at the end."""

    def __init__(self, creator_ids: Int64Array, item_ids: Int64Array) -> None:
        self.creator_ids = creator_ids  # rank -> id, ascending
        self.item_ids = item_ids
        self.parts: list[tuple[Int64Array, Int64Array, Int64Array, Int64Array, Int64Array]] = []

    def add(self, creator: Int64Array, item: Int64Array, reason: Reason | Int64Array,
            quantity: Int64Array | None = None, events: Int64Array | None = None) -> None:
        """Record events by creator and item rank; one reason for all, or one per event."""
        n = len(creator)
        if n == 0:
            return
        ones = np.ones(n, dtype=np.int64)
        reasons = (np.full(n, REASON_INDEX[reason], dtype=np.int64)
                   if isinstance(reason, Reason) else reason)
        self.parts.append((creator, item, reasons, ones if events is None else events,
                           ones if quantity is None else quantity))

    def aggregate(self) -> tuple[Int64Array, Int64Array, Int64Array, Int64Array, Int64Array]:
        """(creator id, item id, reason, events, quantity) per distinct triple, sorted by it."""
        if not self.parts:
            return _empty(), _empty(), _empty(), _empty(), _empty()
        cr, it, rs, ev, qt = (np.concatenate([p[i] for p in self.parts]) for i in range(5))
        n_items = len(self.item_ids)
        if len(self.creator_ids) * n_items * _REASON_SLOTS < 1 << 63:
            key = (cr * n_items + it) * _REASON_SLOTS + rs  # one int64: ranks keep id order
            order = np.argsort(key)
            start = _group_starts(key[order])
        else:  # (never at realistic sizes)
            order = np.lexsort((rs, it, cr))
            start = _group_starts(cr[order], it[order], rs[order])
        first = order[start]
        return (self.creator_ids[cr[first]], self.item_ids[it[first]], rs[first],
                _run_sums(ev[order], start), _run_sums(qt[order], start))


# ---------------------------------------------------------------------------------------------
# Facts about consumers, creators and items, per distinct id seen in the events


def _value_weights(policy: ScoringPolicy, consumers: tuple[ConsumerValue, ...]) -> Int64Array:
    """weights.value_weight of each consumer, vectorised (1 M consumers a week)."""
    n = len(consumers)
    try:
        fees = np.fromiter((c.trailing_fees_minor for c in consumers), dtype=np.int64, count=n)
        fee_weight = np.minimum(np.maximum(fees, 0) // policy.fee_per_weight_minor,
                                policy.max_fee_weight)
    except OverflowError:  # fees beyond int64: exact Python ints, one by one
        return np.array([value_weight(policy, c) for c in consumers], dtype=np.int64)
    kyc = np.fromiter((bool(c.kyc_verified) for c in consumers), dtype=bool, count=n)
    sanctioned = np.fromiter((bool(c.sanctioned) for c in consumers), dtype=bool, count=n)
    weight = np.where(kyc, policy.verified_base_weight + fee_weight, policy.unverified_weight)
    return np.where(sanctioned, 0, weight).astype(np.int64)


def _consumer_facts(facts: WeekFacts, policy: ScoringPolicy,
                    ids: Int64Array) -> tuple[Int64Array, Int64Array]:
    """(sanctioned 0/1, value weight) of each of the sorted `ids`; unknown: (0, no weight)."""
    cons = facts.consumers
    cv_ids = np.fromiter((c.consumer_id for c in cons), dtype=np.int64, count=len(cons))
    cv_sanct = np.fromiter((bool(c.sanctioned) for c in cons), dtype=np.int64, count=len(cons))
    cv_weight = _value_weights(policy, cons)
    order = np.argsort(cv_ids)
    cv_ids = cv_ids[order]
    return (_lookup(cv_ids, cv_sanct[order], ids, 0),
            _lookup(cv_ids, cv_weight[order], ids, value_weight(policy, None)))


def _creator_eligible(facts: WeekFacts, ids: Int64Array) -> Int64Array:
    """1 for each of the sorted `ids` that has KYC and an open identity, else 0."""
    crs = sorted(facts.creators, key=lambda s: s.creator_id)
    cr_ids = np.array([s.creator_id for s in crs], dtype=np.int64)
    cr_ok = np.array([int(s.eligible) for s in crs], dtype=np.int64)
    return _lookup(cr_ids, cr_ok, ids, 0)


def _item_facts(facts: WeekFacts, ids: Int64Array) -> tuple[Int64Array, Int64Array]:
    """(owner creator id or -1, removal time or after the week) of each of the sorted `ids`."""
    end = facts.week.end_ms
    items = sorted(facts.items, key=lambda s: s.item_id)
    it_ids = np.array([s.item_id for s in items], dtype=np.int64)
    it_owner = np.array([s.creator_id for s in items], dtype=np.int64)
    it_removed = np.array([s.removed_at_ms if s.removed_at_ms is not None else end + 1
                           for s in items], dtype=np.int64)
    return _lookup(it_ids, it_owner, ids, -1), _lookup(it_ids, it_removed, ids, end + 1)


# ---------------------------------------------------------------------------------------------
# Filters


def _redelivered(ev: EngagementColumns) -> BoolArray:
    """Rows to drop as duplicates: per event id every row but the smallest full row, so
    arrival order cannot matter."""
    _, rank = _factorize(ev.event_id)
    repeated = np.bincount(rank)[rank] > 1
    dropped = np.zeros(len(rank), dtype=bool)
    rows = np.flatnonzero(repeated)
    if len(rows):  # few rows: a full-row lexsort is cheap here
        cols = (ev.text_length, ev.dwell_seconds, ev.kind, ev.occurred_at_ms, ev.item_id,
                ev.creator_id, ev.consumer_id, ev.event_id)
        rows = rows[np.lexsort(tuple(c[rows] for c in cols))]
        eid = ev.event_id[rows]
        later = np.zeros(len(rows), dtype=bool)
        later[1:] = eid[1:] == eid[:-1]
        dropped[rows[later]] = True
    return dropped


def _first_failed_rule(rules: list[tuple[int, Callable[[], BoolArray]]], n: int) -> npt.NDArray[
        np.int8]:
    """Per event, the code of the first rule (in priority order) it fails, else _PASS.

    Every rule is evaluated over all events; writing them last to first leaves the first.
    """
    codes = np.full(n, _PASS, dtype=np.int8)
    for code, fails in reversed(rules):
        codes[fails()] = code
    return codes


@dataclass(frozen=True)
class _Ranked:
    """The week's events with consumer, creator and item ids replaced by ranks."""

    consumer_ids: Int64Array  # rank -> id, ascending, over all events
    creator_ids: Int64Array
    item_ids: Int64Array
    consumer: Int64Array  # per event
    creator: Int64Array
    item: Int64Array


def _rank_events(ev: EngagementColumns) -> _Ranked:
    cons_u, cons = _factorize(ev.consumer_id)
    cre_u, cre = _factorize(ev.creator_id)
    item_u, item = _factorize(ev.item_id)
    return _Ranked(cons_u, cre_u, item_u, cons, cre, item)


def _filter_events(facts: WeekFacts, policy: ScoringPolicy, as_of_ms: int | None,
                   rk: _Ranked, disc: _Discounts) -> tuple[Int64Array, Int64Array]:
    """Rows of the events that count (ascending), and value weight per consumer rank.

    Rules in order; an event is discounted for the first rule it fails (docs/incentives.md).
    """
    ev = facts.events
    at, kind, dwell = ev.occurred_at_ms, ev.kind, ev.dwell_seconds
    start, end = facts.week.start_ms, facts.week.end_ms
    sanctioned, weight = _consumer_facts(facts, policy, rk.consumer_ids)
    eligible = _creator_eligible(facts, rk.creator_ids)
    owner, removed_at = _item_facts(facts, rk.item_ids)
    dup = _redelivered(ev)

    def unknown_item() -> BoolArray:
        own = owner[rk.item]
        return (own != -1) & (own != ev.creator_id)

    rules: list[tuple[int, Callable[[], BoolArray]]] = [
        (REASON_INDEX[Reason.DUPLICATE_EVENT], lambda: dup),
        (REASON_INDEX[Reason.OUT_OF_WINDOW], lambda: (at < start) | (at >= end)),
    ]
    if as_of_ms is not None:  # the estimate covers the week so far only
        rules.append((_SILENT, lambda: at >= as_of_ms))
    rules += [
        (REASON_INDEX[Reason.OUT_OF_WINDOW], lambda: kind > int(max(EventKind))),
        (REASON_INDEX[Reason.SELF_INTERACTION], lambda: ev.consumer_id == ev.creator_id),
        # Items: removed after a confirmed report stop earning from the removal on.
        (REASON_INDEX[Reason.UNKNOWN_ITEM], unknown_item),
        (REASON_INDEX[Reason.ITEM_REMOVED], lambda: at >= removed_at[rk.item]),
        # Creators: KYC and an open identity; a sanctioned creator still earns (and is held).
        (REASON_INDEX[Reason.CREATOR_INELIGIBLE], lambda: eligible[rk.creator] != 1),
        # Consumers: sanctioned accounts are excluded; weightless ones cannot move the pool.
        (REASON_INDEX[Reason.SANCTIONED_ACCOUNT], lambda: sanctioned[rk.consumer] != 0),
        (REASON_INDEX[Reason.NO_VALUE_WEIGHT], lambda: weight[rk.consumer] <= 0),
        # Views below the minimum dwell count for nothing; nor do too-short texts.
        (REASON_INDEX[Reason.BELOW_MIN_DWELL],
         lambda: (kind == int(EventKind.VIEW)) & (dwell < policy.min_dwell_seconds)),
        (REASON_INDEX[Reason.SHORT_TEXT],
         lambda: _kind_in(kind, TEXT_KINDS) & (ev.text_length < policy.min_text_length)),
    ]
    codes = _first_failed_rule(rules, len(ev))
    gone = np.flatnonzero((codes != _PASS) & (codes != _SILENT))
    reason = codes[gone].astype(np.int64)
    below_min = reason == REASON_INDEX[Reason.BELOW_MIN_DWELL]  # quantity: its seconds
    disc.add(rk.creator[gone], rk.item[gone], reason,
             quantity=np.where(below_min, dwell[gone], 1).astype(np.int64))
    return np.flatnonzero(codes == _PASS).astype(np.int64), weight


# ---------------------------------------------------------------------------------------------
# Counting


@dataclass(frozen=True)
class _Counted:
    """Events that count, by dense index (arrays per event) and their dense id tables."""

    consumer_ids: Int64Array
    creator_ids: Int64Array
    item_ids: Int64Array
    consumer_rank: Int64Array  # dense consumer index -> rank in _Ranked
    creator_rank: Int64Array  # dense creator index -> rank in _Ranked (for discounts)
    item_rank: Int64Array
    item_creator: Int64Array
    rows: Int64Array  # event row
    consumer: Int64Array  # dense indices per event
    creator: Int64Array
    item: Int64Array


def _dense(rk: _Ranked, rows: Int64Array, disc: _Discounts) -> _Counted:
    """Dense indices over the counted events; an item belongs to one creator."""
    cons_rank, c_idx = _subset_ranks(rk.consumer[rows], len(rk.consumer_ids))
    cre_rank, r_idx = _subset_ranks(rk.creator[rows], len(rk.creator_ids))
    item_rank, i_idx = _subset_ranks(rk.item[rows], len(rk.item_ids))
    n_cons, n_cre, n_item = len(cons_rank), len(cre_rank), len(item_rank)
    if n_cons * max(n_item, n_cre) * 7 >= 1 << 62:
        raise ValueError("week too large for composite int64 keys")
    # An item belongs to one creator; when no status names it, the smallest creator id seen.
    item_creator = np.full(n_item, n_cre, dtype=np.int64)
    np.minimum.at(item_creator, i_idx, r_idx)
    mismatch = item_creator[i_idx] != r_idx
    if mismatch.any():
        gone = rows[mismatch]
        disc.add(rk.creator[gone], rk.item[gone], Reason.UNKNOWN_ITEM)
        ok = ~mismatch
        rows, c_idx, r_idx, i_idx = rows[ok], c_idx[ok], r_idx[ok], i_idx[ok]
    return _Counted(rk.consumer_ids[cons_rank], rk.creator_ids[cre_rank],
                    rk.item_ids[item_rank], cons_rank, cre_rank, item_rank, item_creator,
                    rows, c_idx, r_idx, i_idx)


def _repeats(ev: EngagementColumns, ct: _Counted, rk: _Ranked, disc: _Discounts) -> BoolArray:
    """Once-only interactions after the first: one like per (consumer, item), one follow per
    (consumer, creator) a week; the earliest by (time, event id) counts."""
    kind = ev.kind[ct.rows]
    n_item, n_cre = len(ct.item_ids), len(ct.creator_ids)
    once_key = np.full(len(kind), -1, dtype=np.int64)
    per_item = _kind_in(kind, ONCE_PER_ITEM)
    per_cre = _kind_in(kind, ONCE_PER_CREATOR)
    once_key[per_item] = (ct.consumer[per_item] * n_item + ct.item[per_item]) * 16 + kind[per_item]
    once_key[per_cre] = (ct.consumer[per_cre] * n_cre + ct.creator[per_cre]) * 16 + kind[per_cre]
    repeat = np.zeros(len(kind), dtype=bool)
    once = np.flatnonzero(once_key >= 0)
    if not len(once):
        return repeat
    once = once[np.argsort(once_key[once])]
    starts = _group_starts(once_key[once])
    group = _run_of_row(starts, len(once))
    # The earliest time in each group, then the smallest event id at that time (ids are
    # unique after deduplication, so exactly one event per group is first).
    at = ev.occurred_at_ms[ct.rows[once]]
    earliest = at == np.minimum.reduceat(at, starts)[group]
    eid = np.where(earliest, ev.event_id[ct.rows[once]], np.iinfo(np.int64).max)
    first = earliest & (eid == np.minimum.reduceat(eid, starts)[group])
    repeat[once[~first]] = True
    gone = ct.rows[repeat]
    disc.add(rk.creator[gone], rk.item[gone], Reason.REPEAT_INTERACTION)
    return repeat


@dataclass(frozen=True)
class _Groups:
    """Counted events summed per (consumer, item, day), sorted by that key."""

    consumer_item: Int64Array  # consumer * n_item + item
    day: Int64Array
    dwell_seconds: Int64Array  # raw sum of view seconds
    interaction_points: Int64Array  # raw sum of interaction points


def _day_groups(ev: EngagementColumns, ct: _Counted, keep: BoolArray, start_ms: int,
                policy: ScoringPolicy) -> _Groups:
    """One sort of the counted events by (consumer, item, day) and the sums per group."""
    rows = ct.rows[keep]
    n_item = len(ct.item_ids)
    day = (ev.occurred_at_ms[rows] - start_ms) // MS_PER_DAY
    key = (ct.consumer[keep] * n_item + ct.item[keep]) * 7 + day
    order = np.argsort(key)
    key = key[order]
    rows = rows[order]
    starts = _group_starts(key)
    kind = ev.kind[rows]
    pts_table = np.zeros(int(max(EventKind)) + 1, dtype=np.int64)
    for kk in EventKind:
        if kk is not EventKind.VIEW:
            pts_table[int(kk)] = policy.points_for(kk)
    is_view = kind == int(EventKind.VIEW)
    seconds = np.where(is_view, ev.dwell_seconds[rows], 0)
    points = np.where(is_view, 0, pts_table[kind])
    group_key = key[starts]
    return _Groups(group_key // 7, group_key % 7, _run_sums(seconds, starts),
                   _run_sums(points, starts))


def count_engagement(facts: WeekFacts, policy: ScoringPolicy,
                     as_of_ms: int | None = None) -> Engagement:
    """Dedupe, filter and cap the week's events into counted engagement."""
    ev = facts.events
    rk = _rank_events(ev)
    disc = _Discounts(rk.creator_ids, rk.item_ids)
    rows, weight_of_rank = _filter_events(facts, policy, as_of_ms, rk, disc)
    ct = _dense(rk, rows, disc)
    n_cons, n_cre, n_item = len(ct.consumer_ids), len(ct.creator_ids), len(ct.item_ids)

    cons_weight = weight_of_rank[ct.consumer_rank]
    # weights.tier_of, vectorised: the last tier whose lower bound the weight reaches.
    bounds = np.array(policy.tier_lower_bounds, dtype=np.int64)
    cons_tier = np.maximum(np.searchsorted(bounds, cons_weight, side="right") - 1, 0)

    grp = _day_groups(ev, ct, ~_repeats(ev, ct, rk, disc), facts.week.start_ms, policy)
    g_item = grp.consumer_item % n_item if n_item else grp.consumer_item
    g_cre = ct.item_creator[g_item]

    # Dwell: seconds per (consumer, item, day) are capped.
    seconds = np.minimum(grp.dwell_seconds, policy.dwell_cap_seconds)
    over = grp.dwell_seconds > seconds
    disc.add(ct.creator_rank[g_cre[over]], ct.item_rank[g_item[over]], Reason.DWELL_CAP,
             quantity=(grp.dwell_seconds - seconds)[over])

    # Rows per (consumer, item): groups are sorted by it, days innermost.
    row_start = _group_starts(grp.consumer_item)
    row_of_group = _run_of_row(row_start, len(grp.day))
    row_ci = grp.consumer_item[row_start]
    row_item = row_ci % n_item if n_item else row_ci
    row_cons = row_ci // max(n_item, 1)
    row_dsec = _run_sums(seconds, row_start)
    row_dpts = row_dsec * policy.dwell_points_per_second

    # Pairs per (consumer, creator).
    pair_key, row_pair = _factorize(row_cons * n_cre + ct.item_creator[row_item])
    n_pairs = len(pair_key)

    # Interactions: points per (consumer, creator, UTC day) are capped; an item keeps its share.
    day_key = row_pair[row_of_group] * 7 + grp.day
    day_raw = np.zeros(n_pairs * 7, dtype=np.int64)
    np.add.at(day_raw, day_key, grp.interaction_points)
    day_eff = np.minimum(day_raw, policy.interaction_cap_points)
    iraw = grp.interaction_points
    ieff_milli = iraw * day_eff[day_key] * MILLI // np.maximum(day_raw[day_key], 1)
    capped = ieff_milli < iraw * MILLI
    disc.add(ct.creator_rank[g_cre[capped]], ct.item_rank[g_item[capped]],
             Reason.INTERACTION_CAP, quantity=(iraw * MILLI - ieff_milli)[capped])
    row_imil = _run_sums(ieff_milli, row_start)

    # Per (consumer, creator) pairs: exact points = dwell points + capped interaction points.
    pair_points = day_eff.reshape(n_pairs, 7).sum(axis=1)
    np.add.at(pair_points, row_pair, row_dpts)

    return Engagement(
        consumer_ids=ct.consumer_ids, creator_ids=ct.creator_ids, item_ids=ct.item_ids,
        item_creator=ct.item_creator, consumer_weight=cons_weight, consumer_tier=cons_tier,
        pair_consumer=(pair_key // max(n_cre, 1)).astype(np.int64),
        pair_creator=(pair_key % max(n_cre, 1)).astype(np.int64),
        pair_points=pair_points.astype(np.int64),
        row_pair=row_pair, row_item=row_item.astype(np.int64),
        row_dwell_seconds=row_dsec.astype(np.int64),
        row_dwell_milli=(row_dpts * MILLI).astype(np.int64),
        row_interaction_milli=row_imil.astype(np.int64),
        discounts=disc.aggregate(),
    )
