"""Stage 1: from raw events to counted engagement, recording every discount with its reason.

Columnar int64 numpy throughout (see facts.py for why); every grouping sorts, so the result
does not depend on the order events arrive in.

A week is about ten million events, so every step is a pass over columns or one sort, never
Python per event (docs/incentives.md, "Speed"):
- ids become dense ranks first (`_factorize`: a presence table for compact ids, else a sort),
  so composite keys fit one int64, and facts about a consumer, creator or item are looked up
  once per distinct id and gathered per event by rank;
- each event gets the code of the first filter rule it fails in one pass over the columns
  (`_first_failed_rule`) rather than the event set shrinking rule by rule;
- sorting is `_sort_order`, a stable argsort built from numpy's much faster sort of values;
- big temporaries are avoided where easy (bool tables, in-place passes): at this size fresh
  memory is a cost of its own, as the kernel zeroes every new page.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from services.incentive.domain.facts import (
    INT64_MIN,
    MAX_ID,
    MS_PER_DAY,
    ONCE_PER_CREATOR,
    ONCE_PER_ITEM,
    TEXT_KINDS,
    ConsumerValue,
    EngagementColumns,
    EventKind,
    Int64Array,
    UnrepresentableInput,
    WeekFacts,
    check_int,
)
from services.incentive.domain.policy import ScoringPolicy
from services.incentive.domain.reasons import REASON_INDEX, Reason
from services.incentive.domain.weights import value_weight

MILLI = 1_000  # interaction points are attributed to items in milli-points
BoolArray = npt.NDArray[np.bool_]

_PASS = -1  # filter code of an event that passed every rule
_SILENT = 127  # filter code of an event dropped without a discount (after the estimate's cut)
_REASON_SLOTS = 16  # reason indices are below 16
_KIND_SLOTS = 16  # once-only event kinds are below 16
# Ids spanning at most this many values per id (plus a floor) are ranked through a lookup
# table, O(ids + span), instead of a sort: database sequence ids look like this.
_TABLE_SPAN_PER_ID = 2
_TABLE_SPAN_FLOOR = 1 << 20
_CHUNK = 1 << 20  # rows per slice where a check need not hold a temporary per event


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
    return np.flatnonzero(change).astype(np.int64, copy=False)


def _run_sums(values: Int64Array, starts: Int64Array) -> Int64Array:
    """Sum of each run of `values` beginning at `starts` (np.add.reduceat, empty-safe)."""
    return np.add.reduceat(values, starts).astype(np.int64, copy=False) if len(starts) else _empty()


def _run_of_row(starts: Int64Array, n: int) -> Int64Array:
    """For each of n sorted rows, the index of the run it belongs to."""
    return np.repeat(np.arange(len(starts), dtype=np.int64), np.diff(np.append(starts, n)))


def _sort_order(digits: Sequence[tuple[Int64Array, int]]) -> Int64Array:
    """Stable argsort of rows by digits (most significant first); a digit is (values in
    [0, bound), bound).

    np.sort of int64 values is several times faster than np.argsort, so each pass packs
    (digit, row position) into one int64 and sorts values; passes run least significant digit
    first, as in a radix sort (each is stable: positions break ties). Adjacent digits share a
    pass while their bounds times the row count fit 63 bits; a digit that cannot fit alone
    falls back to np.argsort.
    """
    n = len(digits[0][0])
    shift = max(n - 1, 1).bit_length()
    passes: list[tuple[Int64Array, int]] = []
    for values, bound in reversed(digits):
        if passes and (passes[-1][1] * bound) << shift < 1 << 63:
            low, low_bound = passes.pop()
            passes.append((values * low_bound + low, low_bound * bound))
        else:
            passes.append((values, bound))
    position = np.arange(n, dtype=np.int64)
    order: Int64Array | None = None
    for values, bound in passes:
        if bound << shift < 1 << 63:
            # In place: these arrays are as long as the events, and fresh memory is costly.
            packed = values << shift if order is None else values[order]
            if order is not None:
                packed <<= shift
            packed |= position
            packed.sort()
            packed &= (1 << shift) - 1
            step = packed
        else:
            v = values if order is None else values[order]
            step = np.argsort(v, kind="stable").astype(np.int64, copy=False)
        order = step if order is None else order[step]
    assert order is not None
    return order


def _ranks_of_sorted(keys: Int64Array, order: Int64Array) -> tuple[Int64Array, Int64Array]:
    """(distinct keys ascending, rank of each row) given a sort order of the keys."""
    sorted_keys = keys[order]
    starts = _group_starts(sorted_keys)
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = _run_of_row(starts, len(keys))
    return sorted_keys[starts], rank


def _lookup(ids_sorted: Int64Array, values: Int64Array, keys: Int64Array,
            missing: int) -> Int64Array:
    """values[id] for each key, `missing` where the id is not in ids_sorted."""
    if len(ids_sorted) == 0:
        return np.full(len(keys), missing, dtype=np.int64)
    pos = np.searchsorted(ids_sorted, keys)
    pos_c = np.minimum(pos, len(ids_sorted) - 1)
    found = ids_sorted[pos_c] == keys
    return np.where(found, values[pos_c], np.int64(missing)).astype(np.int64, copy=False)


def _factorize(ids: Int64Array) -> tuple[Int64Array, Int64Array]:
    """(distinct ids ascending, rank of each id among them), like np.unique(return_inverse).

    Compact ids go through a presence table; others are sorted (see _id_order).
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
        return np.flatnonzero(present).astype(np.int64, copy=False) + lo, rank_of_offset[offset]
    order, sorted_ids = _id_order(ids, lo, span)
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(sorted_ids[1:], sorted_ids[:-1], out=new[1:])
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.cumsum(new, dtype=np.int64) - 1
    return sorted_ids[new], rank


def _id_order(ids: Int64Array, lo: int, span: int) -> tuple[Int64Array, Int64Array]:
    """(an order sorting `ids` ascending, equal ids in any order; the ids in that order), for
    ids from lo spanning `span` values.

    Hashed ids (domain/id_map.py) spread over 63 bits: a row position and the whole id do not
    fit one int64, and two packed sorts (high then low 32 bits, via _sort_order) cost twice
    one. So one packed value sort orders the rows by the id's top bits that fit beside the
    position; only distinct ids sharing those bits (about one pair in a million hashed ids,
    more for ids bunched at the ends of a wide span) can be left out of order, and the rows of
    those top-bit values are then sorted again by the whole id.
    """
    n = len(ids)
    shift = max(n - 1, 1).bit_length()
    drop = max(0, (span - 1).bit_length() - (63 - shift))  # low id bits that do not fit
    # The offset from lo is exact in uint64 (the span may exceed 2**63); < 2**(63-shift) after
    # the drop, so it fits an int64 beside the position.
    packed = ids.view(np.uint64) - np.uint64(lo & 0xFFFF_FFFF_FFFF_FFFF)
    packed >>= np.uint64(drop)
    key = packed.view(np.int64)
    key <<= shift
    key |= np.arange(n, dtype=np.int64)
    key.sort()
    key &= (1 << shift) - 1
    order = key
    sorted_ids = ids[order]
    if drop and bool((sorted_ids[1:] < sorted_ids[:-1]).any()):
        _reorder_ties(ids, lo, drop, order, sorted_ids)
    return order, sorted_ids


def _ascending(ids: Int64Array) -> Int64Array:
    """An order sorting distinct ids (facts about consumers, creators, items: WeekFacts checks
    them distinct, so any sorting order is the order); np.argsort of a million hashed ids costs
    several times _id_order's packed value sort, and Python's sort of the facts more."""
    if not len(ids):
        return _empty()
    lo = int(ids.min())
    return _id_order(ids, lo, int(ids.max()) - lo + 1)[0]


def _reorder_ties(ids: Int64Array, lo: int, drop: int, order: Int64Array,
                  sorted_ids: Int64Array) -> None:
    """Sort by the whole id (in place) the rows whose top bits (the id offset from lo, shifted
    right by `drop`) they share with a row left out of order. Such rows are adjacent, and top
    bits ascend, so sorting them all together by id leaves each top-bit value in its place."""
    top = (sorted_ids.view(np.uint64) - np.uint64(lo & 0xFFFF_FFFF_FFFF_FFFF)) >> np.uint64(drop)
    bad_top = np.unique(top[1:][sorted_ids[1:] < sorted_ids[:-1]])
    # top ascends, so each bad value's rows are one slice, found by binary search (np.isin
    # would compare every row with each of the ~90 bad values of 10 M hashed event ids).
    first = np.searchsorted(top, bad_top, side="left")
    size = np.searchsorted(top, bad_top, side="right") - first
    rows = (np.repeat(first - (np.cumsum(size) - size), size)
            + np.arange(int(size.sum()), dtype=np.int64))
    sub = sorted_ids[rows]
    # The two packed sorts of the high then the low 32 bits (two's complement keeps the order
    # once the high half is offset to be non-negative).
    step = _sort_order((((sub >> 32) + (1 << 31), 1 << 32), (sub & 0xFFFFFFFF, 1 << 32)))
    order[rows] = order[rows[step]]
    sorted_ids[rows] = sub[step]


def _subset_ranks(rank: Int64Array, n_ranks: int) -> tuple[Int64Array, Int64Array]:
    """Re-rank a subset: (old ranks present, ascending; new dense rank of each entry)."""
    present = np.zeros(n_ranks, dtype=bool)
    present[rank] = True
    new_rank = np.cumsum(present, dtype=np.int64) - 1
    return np.flatnonzero(present).astype(np.int64, copy=False), new_rank[rank]


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
            quantity: Int64Array | None = None) -> None:
        """Record events by creator and item rank; one reason for all, or one per event."""
        n = len(creator)
        if n == 0:
            return
        ones = np.ones(n, dtype=np.int64)
        reasons = (np.full(n, REASON_INDEX[reason], dtype=np.int64)
                   if isinstance(reason, Reason) else reason)
        self.parts.append((creator, item, reasons, ones, ones if quantity is None else quantity))

    def aggregate(self) -> tuple[Int64Array, Int64Array, Int64Array, Int64Array, Int64Array]:
        """(creator id, item id, reason, events, quantity) per distinct triple, sorted by it."""
        if not self.parts:
            return _empty(), _empty(), _empty(), _empty(), _empty()
        cr, it, rs, ev, qt = (np.concatenate([p[i] for p in self.parts]) for i in range(5))
        # Ranks ascend with ids, so sorting by rank digits sorts by (creator, item, reason).
        order = _sort_order(((cr, len(self.creator_ids)), (it, len(self.item_ids)),
                             (rs, _REASON_SLOTS)))
        start = _group_starts(cr[order], it[order], rs[order])
        first = order[start]
        return (self.creator_ids[cr[first]], self.item_ids[it[first]], rs[first],
                _run_sums(ev[order], start), _run_sums(qt[order], start))


# ---------------------------------------------------------------------------------------------
# Facts about consumers, creators and items, per distinct id seen in the events


def _consumer_facts(facts: WeekFacts, policy: ScoringPolicy,
                    ids: Int64Array) -> tuple[Int64Array, Int64Array]:
    """(sanctioned 0/1, value weight) of each of the sorted `ids`; unknown: (0, no weight)."""
    cons = facts.consumers
    # A million consumer values a week: one list comprehension per attribute is the fastest
    # way out of Python objects.
    cv_ids = np.array([c.consumer_id for c in cons], dtype=np.int64)
    sanctioned = np.array([c.sanctioned for c in cons], dtype=bool)
    kyc = np.array([c.kyc_verified for c in cons], dtype=bool)
    fees = [c.trailing_fees_minor for c in cons]
    order = _ascending(cv_ids)
    cv_ids = cv_ids[order]
    weight = _value_weights(policy, cons, fees, kyc, sanctioned)[order]
    return (_lookup(cv_ids, sanctioned[order].astype(np.int64, copy=False), ids, 0),
            _lookup(cv_ids, weight, ids, value_weight(policy, None)))


def _value_weights(policy: ScoringPolicy, cons: Sequence[ConsumerValue], fees: list[int],
                   kyc: BoolArray, sanctioned: BoolArray) -> Int64Array:
    """weights.value_weight of each consumer, vectorised."""
    try:
        fee_weight = np.minimum(np.maximum(np.array(fees, dtype=np.int64), 0)
                                // policy.fee_per_weight_minor, policy.max_fee_weight)
    except OverflowError:  # fees beyond int64: exact Python ints, one by one
        return np.array([value_weight(policy, c) for c in cons], dtype=np.int64)
    weight = np.where(kyc, policy.verified_base_weight + fee_weight, policy.unverified_weight)
    return np.where(sanctioned, 0, weight).astype(np.int64, copy=False)


def _creator_eligible(facts: WeekFacts, ids: Int64Array) -> Int64Array:
    """1 for each of the sorted `ids` that has KYC and an open identity, else 0."""
    crs = facts.creators
    cr_ids = np.array([s.creator_id for s in crs], dtype=np.int64)
    order = _ascending(cr_ids)
    cr_ok = np.array([s.eligible for s in crs], dtype=np.int64)[order]
    return _lookup(cr_ids[order], cr_ok, ids, 0)


def _item_facts(facts: WeekFacts, ids: Int64Array) -> tuple[Int64Array, Int64Array]:
    """(owner creator id or -1, removal time or after the week) of each of the sorted `ids`."""
    end = facts.week.end_ms
    items = facts.items
    it_ids = np.array([s.item_id for s in items], dtype=np.int64)
    order = _ascending(it_ids)
    it_owner = np.array([s.creator_id for s in items], dtype=np.int64)[order]
    it_removed = np.array([s.removed_at_ms if s.removed_at_ms is not None else end + 1
                           for s in items], dtype=np.int64)[order]
    it_ids = it_ids[order]
    return _lookup(it_ids, it_owner, ids, -1), _lookup(it_ids, it_removed, ids, end + 1)


# ---------------------------------------------------------------------------------------------
# Filters


def _repeated(ids: Int64Array) -> BoolArray:
    """Rows whose id occurs more than once."""
    if not len(ids):
        return np.zeros(0, dtype=bool)
    lo = int(ids.min())
    span = int(ids.max()) - lo + 1
    if span <= _TABLE_SPAN_PER_ID * len(ids) + _TABLE_SPAN_FLOOR:
        offset = ids - lo  # compact ids: count them in a table
        return np.asarray((np.bincount(offset) > 1)[offset])
    # Others: equal ids are adjacent once sorted; no ranks needed (hashed event ids).
    order, sorted_ids = _id_order(ids, lo, span)
    same = sorted_ids[1:] == sorted_ids[:-1]
    out = np.zeros(len(ids), dtype=bool)
    out[order[1:][same]] = True
    out[order[:-1][same]] = True
    return out


def _redelivered(ev: EngagementColumns) -> BoolArray:
    """Rows to drop as duplicates: per event id every row but the smallest full row, so
    arrival order cannot matter."""
    repeated = _repeated(ev.event_id)
    dropped = np.zeros(len(repeated), dtype=bool)
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
    """Rank the consumer, creator and item ids of all events (discounts need them all)."""
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
    # Per distinct id, whether a rule fails for it: bool tables gathered per event are 8x
    # smaller than int64 lookups (these arrays are as long as the events).
    sanctioned, weight = _consumer_facts(facts, policy, rk.consumer_ids)
    is_sanctioned, weightless = sanctioned != 0, weight <= 0
    ineligible = _creator_eligible(facts, rk.creator_ids) != 1
    owner, removed_at = _item_facts(facts, rk.item_ids)
    _check_item_owners(ev, rk, owner)
    # Only items with a known owner or a removal in the week can fail the item rules (an
    # event after the week failed an earlier rule), so look at their events only.
    with_status = np.flatnonzero(((owner != -1) | (removed_at <= end))[rk.item])
    dup = _redelivered(ev)

    def on_status_rows(fails: Callable[[Int64Array], BoolArray]) -> BoolArray:
        out = np.zeros(len(ev), dtype=bool)
        out[with_status] = fails(with_status)
        return out

    def unknown_item(r: Int64Array) -> BoolArray:
        own = owner[rk.item[r]]
        fails: BoolArray = (own != -1) & (own != ev.creator_id[r])
        return fails

    def removed(r: Int64Array) -> BoolArray:
        return at[r] >= removed_at[rk.item[r]]

    rules: list[tuple[int, Callable[[], BoolArray]]] = [
        (REASON_INDEX[Reason.DUPLICATE_EVENT], lambda: dup),
        (REASON_INDEX[Reason.OUT_OF_WINDOW], lambda: (at < start) | (at >= end)),
    ]
    if as_of_ms is not None:  # the estimate covers the week so far only
        rules.append((_SILENT, lambda: at >= as_of_ms))
    # Kinds are in EventKind (checked by EngagementColumns), so every event has its points.
    rules += [
        (REASON_INDEX[Reason.SELF_INTERACTION], lambda: ev.consumer_id == ev.creator_id),
        # Items: removed after a confirmed report stop earning from the removal on.
        (REASON_INDEX[Reason.UNKNOWN_ITEM], lambda: on_status_rows(unknown_item)),
        (REASON_INDEX[Reason.ITEM_REMOVED], lambda: on_status_rows(removed)),
        # Creators: KYC and an open identity; a sanctioned creator still earns (and is held).
        (REASON_INDEX[Reason.CREATOR_INELIGIBLE], lambda: ineligible[rk.creator]),
        # Consumers: sanctioned accounts are excluded; weightless ones cannot move the pool.
        (REASON_INDEX[Reason.SANCTIONED_ACCOUNT], lambda: is_sanctioned[rk.consumer]),
        (REASON_INDEX[Reason.NO_VALUE_WEIGHT], lambda: weightless[rk.consumer]),
        # Views below the minimum dwell count for nothing; nor do too-short texts.
        (REASON_INDEX[Reason.BELOW_MIN_DWELL],
         lambda: (kind == int(EventKind.VIEW)) & (dwell < policy.min_dwell_seconds)),
        (REASON_INDEX[Reason.SHORT_TEXT],
         lambda: _kind_in(kind, TEXT_KINDS) & (ev.text_length < policy.min_text_length)),
    ]
    codes = _first_failed_rule(rules, len(ev))
    gone = np.flatnonzero((codes != _PASS) & (codes != _SILENT))
    reason = codes[gone].astype(np.int64, copy=False)
    below_min = reason == REASON_INDEX[Reason.BELOW_MIN_DWELL]  # quantity: its seconds
    disc.add(rk.creator[gone], rk.item[gone], reason,
             quantity=np.where(below_min, dwell[gone], 1).astype(np.int64, copy=False))
    return np.flatnonzero(codes == _PASS).astype(np.int64, copy=False), weight


# ---------------------------------------------------------------------------------------------
# Counting


def _check_item_owners(ev: EngagementColumns, rk: _Ranked, owner: Int64Array) -> None:
    """Refuse a week in which the events of an item without an ItemStatus name more than one
    creator: nothing says whose the item is. (It used to go to the smallest creator id seen,
    so one mis-tagged 5 s view could take a popular item, and the pool, from its owner.) With
    a status, events naming another creator are discounted as unknown_item instead.

    All rows count, dropped ones too: the facts contradict each other either way. Two passes
    over the events: store any one creator of each item, then compare every event with it.
    """
    if not len(ev):
        return
    some_creator = np.empty(len(rk.item_ids), dtype=np.int64)
    some_creator[rk.item] = rk.creator  # which of an item's creators lands here is immaterial
    # Compared a slice at a time: a gather over all events would add their size to the peak.
    if not any((some_creator[rk.item[i:i + _CHUNK]] != rk.creator[i:i + _CHUNK]).any()
               for i in range(0, len(ev), _CHUNK)):
        return
    conflict = some_creator[rk.item] != rk.creator
    items = np.unique(rk.item[conflict])
    items = items[owner[items] == -1]
    if len(items):
        item = int(items[0])
        creators = np.unique(rk.creator[rk.item == item])
        raise UnrepresentableInput(
            f"events.creator_id of item {int(rk.item_ids[item])}",
            rk.creator_ids[creators].tolist(), "one creator per item",
            f"{len(items)} item(s) without an ItemStatus are named by several creators; "
            "give each an ItemStatus naming its owner")


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


def _dense(rk: _Ranked, rows: Int64Array) -> _Counted:
    """Dense indices over the counted events; an item belongs to one creator."""
    cons_rank, c_idx = _subset_ranks(rk.consumer[rows], len(rk.consumer_ids))
    cre_rank, r_idx = _subset_ranks(rk.creator[rows], len(rk.creator_ids))
    item_rank, i_idx = _subset_ranks(rk.item[rows], len(rk.item_ids))
    n_cons, n_cre, n_item = len(cons_rank), len(cre_rank), len(item_rank)
    if n_cons * max(n_item, n_cre) * 7 >= 1 << 62:
        raise UnrepresentableInput("events: counted consumers x items x 7 days",
                                   n_cons * max(n_item, n_cre) * 7, "[0, 2**62)",
                                   "composite int64 keys")
    # An item belongs to one creator: the counted events of an item all name its owner (the
    # status's, others failed unknown_item; without a status, _check_item_owners made sure).
    item_creator = np.full(n_item, n_cre, dtype=np.int64)
    item_creator[i_idx] = r_idx
    return _Counted(rk.consumer_ids[cons_rank], rk.creator_ids[cre_rank],
                    rk.item_ids[item_rank], cons_rank, cre_rank, item_rank, item_creator,
                    rows, c_idx, r_idx, i_idx)


def _repeats(ev: EngagementColumns, ct: _Counted, rk: _Ranked, disc: _Discounts) -> BoolArray:
    """Once-only interactions after the first: one like per (consumer, item), one follow per
    (consumer, creator) a week; the earliest by (time, event id) counts."""
    kind = ev.kind[ct.rows]
    repeat = np.zeros(len(kind), dtype=bool)
    per_cre = _kind_in(kind, ONCE_PER_CREATOR)
    per_item = _kind_in(kind, ONCE_PER_ITEM) & ~per_cre
    for rows, target, n_target in ((np.flatnonzero(per_item), ct.item, len(ct.item_ids)),
                                   (np.flatnonzero(per_cre), ct.creator, len(ct.creator_ids))):
        if not len(rows):
            continue
        rows = rows[_sort_order(((ct.consumer[rows], len(ct.consumer_ids)),
                                 (target[rows], n_target), (kind[rows], _KIND_SLOTS)))]
        starts = _group_starts(ct.consumer[rows], target[rows], kind[rows])
        group = _run_of_row(starts, len(rows))
        # The earliest time in each group, then the smallest event id at that time (ids are
        # unique after deduplication, so exactly one event per group is first).
        at = ev.occurred_at_ms[ct.rows[rows]]
        earliest = at == np.minimum.reduceat(at, starts)[group]
        eid = np.where(earliest, ev.event_id[ct.rows[rows]], np.iinfo(np.int64).max)
        first = earliest & (eid == np.minimum.reduceat(eid, starts)[group])
        repeat[rows[~first]] = True
    gone = ct.rows[repeat]
    disc.add(rk.creator[gone], rk.item[gone], Reason.REPEAT_INTERACTION)
    return repeat


@dataclass(frozen=True)
class _Groups:
    """Counted events summed per (consumer, item, UTC day), sorted by that key."""

    consumer: Int64Array
    item: Int64Array
    day: Int64Array
    dwell_seconds: Int64Array  # raw sum of view seconds
    interaction_points: Int64Array  # raw sum of interaction points


def _day_groups(ev: EngagementColumns, ct: _Counted, keep: BoolArray, start_ms: int,
                policy: ScoringPolicy) -> _Groups:
    """One sort of the counted events by (consumer, item, day) and the sums per group."""
    rows = ct.rows[keep]
    cons, item = ct.consumer[keep], ct.item[keep]
    day = (ev.occurred_at_ms[rows] - start_ms) // MS_PER_DAY
    kind = ev.kind[rows]
    is_view = kind == int(EventKind.VIEW)
    seconds = np.where(is_view, ev.dwell_seconds[rows], 0)
    points = _interaction_points(policy)[kind]  # 0 for views
    n_item = len(ct.item_ids)
    order = _sort_order(((cons, len(ct.consumer_ids)), (item * 7 + day, n_item * 7)))
    key = ((cons * n_item + item) * 7 + day)[order]  # fits: checked in _dense
    starts = _group_starts(key)
    key = key[starts]
    return _Groups(key // 7 // max(n_item, 1), key // 7 % max(n_item, 1), key % 7,
                   _run_sums(seconds[order], starts), _run_sums(points[order], starts))


def _interaction_points(policy: ScoringPolicy) -> Int64Array:
    """Policy points per event kind (0 for views)."""
    table = np.zeros(int(max(EventKind)) + 1, dtype=np.int64)
    for kind in EventKind:
        if kind is not EventKind.VIEW:
            table[int(kind)] = policy.points_for(kind)
    return table


@dataclass(frozen=True)
class _Rows:
    """Counted engagement per (consumer, item) row and per (consumer, creator) pair."""

    row_pair: Int64Array
    row_item: Int64Array
    row_dwell_seconds: Int64Array
    row_dwell_points: Int64Array
    row_interaction_milli: Int64Array
    pair_consumer: Int64Array
    pair_creator: Int64Array
    pair_points: Int64Array


def _rows_and_pairs(grp: _Groups, ct: _Counted, policy: ScoringPolicy,
                    disc: _Discounts) -> _Rows:
    """Apply the caps: dwell per (consumer, item, day), interactions per (consumer, creator,
    day), and sum what counts per (consumer, item) row and (consumer, creator) pair."""
    g_cre = ct.item_creator[grp.item]
    # Dwell: seconds per (consumer, item, day) are capped.
    seconds = np.minimum(grp.dwell_seconds, policy.dwell_cap_seconds)
    over = grp.dwell_seconds > seconds
    disc.add(ct.creator_rank[g_cre[over]], ct.item_rank[grp.item[over]], Reason.DWELL_CAP,
             quantity=(grp.dwell_seconds - seconds)[over])

    # Rows per (consumer, item): groups are sorted by it, days innermost.
    row_start = _group_starts(grp.consumer, grp.item)
    row_of_group = _run_of_row(row_start, len(grp.day))
    row_cons, row_item = grp.consumer[row_start], grp.item[row_start]
    row_cre = ct.item_creator[row_item]
    row_dsec = _run_sums(seconds, row_start)
    row_dpts = row_dsec * policy.dwell_points_per_second

    # Pairs per (consumer, creator).
    n_cons, n_cre = len(ct.consumer_ids), len(ct.creator_ids)
    pair_key, row_pair = _ranks_of_sorted(
        row_cons * n_cre + row_cre, _sort_order(((row_cons, n_cons), (row_cre, n_cre))))
    n_pairs = len(pair_key)

    # Interactions: points per (consumer, creator, UTC day) are capped; each item keeps its
    # share of the capped points, in milli-points.
    day_key = row_pair[row_of_group] * 7 + grp.day
    day_raw = np.zeros(n_pairs * 7, dtype=np.int64)
    np.add.at(day_raw, day_key, grp.interaction_points)
    day_eff = np.minimum(day_raw, policy.interaction_cap_points)
    iraw = grp.interaction_points
    ieff_milli = iraw * day_eff[day_key] * MILLI // np.maximum(day_raw[day_key], 1)
    capped = ieff_milli < iraw * MILLI
    disc.add(ct.creator_rank[g_cre[capped]], ct.item_rank[grp.item[capped]],
             Reason.INTERACTION_CAP, quantity=(iraw * MILLI - ieff_milli)[capped])

    # Per (consumer, creator) pairs: exact points = dwell points + capped interaction points.
    pair_points = day_eff.reshape(n_pairs, 7).sum(axis=1)
    np.add.at(pair_points, row_pair, row_dpts)
    return _Rows(row_pair, row_item, row_dsec, row_dpts, _run_sums(ieff_milli, row_start),
                 pair_key // max(n_cre, 1), pair_key % max(n_cre, 1), pair_points)


def count_engagement(facts: WeekFacts, policy: ScoringPolicy,
                     as_of_ms: int | None = None) -> Engagement:
    """Dedupe, filter and cap the week's events into counted engagement."""
    if as_of_ms is not None:  # compared with int64 times; also written into the result
        check_int("as_of_ms", as_of_ms, INT64_MIN, MAX_ID)
    ev = facts.events
    rk = _rank_events(ev)
    disc = _Discounts(rk.creator_ids, rk.item_ids)
    rows, weight_of_rank = _filter_events(facts, policy, as_of_ms, rk, disc)
    ct = _dense(rk, rows)
    cons_weight = weight_of_rank[ct.consumer_rank]
    # Each consumer's tier: the last one whose lower bound their weight reaches.
    bounds = np.array(policy.tier_lower_bounds, dtype=np.int64)
    cons_tier = np.maximum(np.searchsorted(bounds, cons_weight, side="right") - 1, 0)
    grp = _day_groups(ev, ct, ~_repeats(ev, ct, rk, disc), facts.week.start_ms, policy)
    out = _rows_and_pairs(grp, ct, policy, disc)
    return Engagement(
        consumer_ids=ct.consumer_ids, creator_ids=ct.creator_ids, item_ids=ct.item_ids,
        item_creator=ct.item_creator, consumer_weight=cons_weight,
        consumer_tier=cons_tier.astype(np.int64, copy=False),
        pair_consumer=out.pair_consumer, pair_creator=out.pair_creator,
        pair_points=out.pair_points, row_pair=out.row_pair, row_item=out.row_item,
        row_dwell_seconds=out.row_dwell_seconds,
        row_dwell_milli=out.row_dwell_points * MILLI,
        row_interaction_milli=out.row_interaction_milli,
        discounts=disc.aggregate(),
    )
