"""Stage 1: from raw events to counted engagement, recording every discount with its reason.

Columnar int64 numpy throughout (see facts.py for why); every grouping sorts, so the result
does not depend on the order events arrive in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from services.incentive.domain.facts import (
    MS_PER_DAY,
    ONCE_PER_CREATOR,
    ONCE_PER_ITEM,
    TEXT_KINDS,
    EventKind,
    Int64Array,
    WeekFacts,
)
from services.incentive.domain.policy import ScoringPolicy
from services.incentive.domain.reasons import REASON_INDEX, Reason
from services.incentive.domain.weights import tier_of, value_weight

MILLI = 1_000  # interaction points are attributed to items in milli-points


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


class _Discounts:
    """Accumulates discounted rows; aggregated once at the end."""

    def __init__(self) -> None:
        self.parts: list[tuple[Int64Array, Int64Array, int, Int64Array, Int64Array]] = []

    def add(self, creator: Int64Array, item: Int64Array, reason: Reason,
            quantity: Int64Array | None = None, events: Int64Array | None = None) -> None:
        if len(creator) == 0:
            return
        ones = np.ones(len(creator), dtype=np.int64)
        self.parts.append((creator, item, REASON_INDEX[reason],
                           ones if events is None else events,
                           ones if quantity is None else quantity))

    def aggregate(self) -> tuple[Int64Array, Int64Array, Int64Array, Int64Array, Int64Array]:
        if not self.parts:
            e = np.zeros(0, dtype=np.int64)
            return e, e, e, e, e
        cr = np.concatenate([p[0] for p in self.parts])
        it = np.concatenate([p[1] for p in self.parts])
        rs = np.concatenate([np.full(len(p[0]), p[2], dtype=np.int64) for p in self.parts])
        ev = np.concatenate([p[3] for p in self.parts])
        qt = np.concatenate([p[4] for p in self.parts])
        order = np.lexsort((rs, it, cr))
        cr, it, rs, ev, qt = cr[order], it[order], rs[order], ev[order], qt[order]
        start = _group_starts(cr, it, rs)
        return (cr[start], it[start], rs[start], np.add.reduceat(ev, start),
                np.add.reduceat(qt, start))


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


def _lookup(ids_sorted: Int64Array, values: Int64Array, keys: Int64Array,
            missing: int) -> Int64Array:
    """values[id] for each key, `missing` where the id is not in ids_sorted."""
    if len(ids_sorted) == 0:
        return np.full(len(keys), missing, dtype=np.int64)
    pos = np.searchsorted(ids_sorted, keys)
    pos_c = np.minimum(pos, len(ids_sorted) - 1)
    found = ids_sorted[pos_c] == keys
    return np.where(found, values[pos_c], np.int64(missing)).astype(np.int64)


def count_engagement(facts: WeekFacts, policy: ScoringPolicy,
                     as_of_ms: int | None = None) -> Engagement:
    """Dedupe, filter and cap the week's events into counted engagement."""
    ev = facts.events
    disc = _Discounts()
    event_id, consumer, creator, item = ev.event_id, ev.consumer_id, ev.creator_id, ev.item_id
    at, kind, dwell, text = ev.occurred_at_ms, ev.kind, ev.dwell_seconds, ev.text_length

    # Duplicates (same event id): keep the smallest full row, so arrival order cannot matter.
    order = np.argsort(event_id, kind="stable")
    sid = event_id[order]
    dup_mask = np.zeros(len(sid), dtype=bool)
    dup_mask[1:] = sid[1:] == sid[:-1]
    if dup_mask.any():
        in_group = dup_mask.copy()
        in_group[:-1] |= dup_mask[1:]
        rows = order[in_group]
        rows = rows[np.lexsort((text[rows], dwell[rows], kind[rows], at[rows], item[rows],
                                creator[rows], consumer[rows], event_id[rows]))]
        first = np.ones(len(rows), dtype=bool)
        first[1:] = event_id[rows][1:] != event_id[rows][:-1]
        dropped = rows[~first]
        disc.add(creator[dropped], item[dropped], Reason.DUPLICATE_EVENT)
        keep = np.concatenate([order[~in_group], rows[first]])
    else:
        keep = order
    keep = np.sort(keep)

    def take(mask: np.ndarray, reason: Reason | None) -> None:
        nonlocal keep
        if reason is not None:
            gone = keep[~mask]
            disc.add(creator[gone], item[gone], reason)
        keep = keep[mask]

    start, end = facts.week.start_ms, facts.week.end_ms
    t = at[keep]
    take((t >= start) & (t < end), Reason.OUT_OF_WINDOW)
    if as_of_ms is not None:
        take(at[keep] < as_of_ms, None)  # the estimate covers the week so far only
    take(kind[keep] <= int(max(EventKind)), Reason.OUT_OF_WINDOW)
    take(consumer[keep] != creator[keep], Reason.SELF_INTERACTION)

    # Items: removed after a confirmed report stop earning from the removal on.
    items = sorted(facts.items, key=lambda s: s.item_id)
    it_ids = np.array([s.item_id for s in items], dtype=np.int64)
    it_owner = np.array([s.creator_id for s in items], dtype=np.int64)
    it_removed = np.array([s.removed_at_ms if s.removed_at_ms is not None else end + 1
                           for s in items], dtype=np.int64)
    owner = _lookup(it_ids, it_owner, item[keep], -1)
    take((owner == -1) | (owner == creator[keep]), Reason.UNKNOWN_ITEM)
    removed = _lookup(it_ids, it_removed, item[keep], end + 1)
    take(at[keep] < removed, Reason.ITEM_REMOVED)

    # Creators: KYC and an open identity; a sanctioned creator still earns (and is held).
    crs = sorted(facts.creators, key=lambda s: s.creator_id)
    cr_ids = np.array([s.creator_id for s in crs], dtype=np.int64)
    cr_ok = np.array([int(s.eligible) for s in crs], dtype=np.int64)
    take(_lookup(cr_ids, cr_ok, creator[keep], 0) == 1, Reason.CREATOR_INELIGIBLE)

    # Consumers: sanctioned accounts are excluded; weightless ones cannot move the pool.
    cons = sorted(facts.consumers, key=lambda s: s.consumer_id)
    cv_ids = np.array([s.consumer_id for s in cons], dtype=np.int64)
    cv_sanct = np.array([int(s.sanctioned) for s in cons], dtype=np.int64)
    cv_weight = np.array([value_weight(policy, s) for s in cons], dtype=np.int64)
    take(_lookup(cv_ids, cv_sanct, consumer[keep], 0) == 0, Reason.SANCTIONED_ACCOUNT)
    default_w = value_weight(policy, None)
    take(_lookup(cv_ids, cv_weight, consumer[keep], default_w) > 0, Reason.NO_VALUE_WEIGHT)

    # Views below the minimum dwell count for nothing.
    k = kind[keep]
    is_view = k == int(EventKind.VIEW)
    short_view = is_view & (dwell[keep] < policy.min_dwell_seconds)
    gone = keep[short_view]
    disc.add(creator[gone], item[gone], Reason.BELOW_MIN_DWELL, quantity=dwell[gone])
    keep = keep[~short_view]
    k = kind[keep]
    short_text = np.isin(k, [int(x) for x in TEXT_KINDS]) & (text[keep] < policy.min_text_length)
    take(~short_text, Reason.SHORT_TEXT)

    # Dense indices for consumers, creators and items that survived.
    cons_u, c_idx = np.unique(consumer[keep], return_inverse=True)
    cre_u, r_idx = np.unique(creator[keep], return_inverse=True)
    item_u, i_idx = np.unique(item[keep], return_inverse=True)
    c_idx, r_idx, i_idx = (c_idx.astype(np.int64), r_idx.astype(np.int64),
                           i_idx.astype(np.int64))
    n_cons, n_cre, n_item = len(cons_u), len(cre_u), len(item_u)
    if n_cons * max(n_item, n_cre) * 7 >= 1 << 62:
        raise ValueError("week too large for composite int64 keys")
    # An item belongs to one creator; when no status names it, the smallest creator id seen.
    item_creator = np.full(n_item, n_cre, dtype=np.int64)
    np.minimum.at(item_creator, i_idx, r_idx)
    mismatch = item_creator[i_idx] != r_idx
    if mismatch.any():
        gone = keep[mismatch]
        disc.add(creator[gone], item[gone], Reason.UNKNOWN_ITEM)
        keep, c_idx, r_idx, i_idx = (keep[~mismatch], c_idx[~mismatch], r_idx[~mismatch],
                                     i_idx[~mismatch])
    day = (at[keep] - start) // MS_PER_DAY
    k = kind[keep]

    cons_weight = _lookup(cv_ids, cv_weight, cons_u, default_w)
    cons_tier = np.array([tier_of(policy, int(w)) for w in np.unique(cons_weight)],
                         dtype=np.int64)[np.searchsorted(np.unique(cons_weight), cons_weight)] \
        if n_cons else np.zeros(0, dtype=np.int64)

    # Dwell: sum per (consumer, item, day), capped.
    v = k == int(EventKind.VIEW)
    vkey = (c_idx[v] * n_item + i_idx[v]) * 7 + day[v]
    vsec = dwell[keep][v]
    o = np.argsort(vkey, kind="stable")
    vkey, vsec = vkey[o], vsec[o]
    vs = _group_starts(vkey)
    vkey_g = vkey[vs]
    vsum = np.add.reduceat(vsec, vs) if len(vs) else np.zeros(0, dtype=np.int64)
    vcap = np.minimum(vsum, policy.dwell_cap_seconds)
    over = vsum > vcap
    ci_v = vkey_g // 7
    disc.add(cre_u[item_creator[ci_v[over] % n_item]], item_u[ci_v[over] % n_item],
             Reason.DWELL_CAP, quantity=(vsum - vcap)[over])

    # Interactions: once-only kinds deduplicated, earliest (time, event id) kept.
    ia = ~v
    ikeep = keep[ia]
    ik, ic, ii, ir, iday = k[ia], c_idx[ia], i_idx[ia], r_idx[ia], day[ia]
    once_key = np.full(len(ik), -1, dtype=np.int64)
    per_item = np.isin(ik, [int(x) for x in ONCE_PER_ITEM])
    per_cre = np.isin(ik, [int(x) for x in ONCE_PER_CREATOR])
    once_key[per_item] = (ic[per_item] * n_item + ii[per_item]) * 16 + ik[per_item]
    once_key[per_cre] = (ic[per_cre] * n_cre + ir[per_cre]) * 16 + ik[per_cre]
    once = once_key >= 0
    if once.any():
        rows = np.flatnonzero(once)
        rows = rows[np.lexsort((event_id[ikeep[rows]], at[ikeep[rows]], once_key[rows]))]
        first = np.ones(len(rows), dtype=bool)
        first[1:] = once_key[rows][1:] != once_key[rows][:-1]
        repeat = np.zeros(len(ik), dtype=bool)
        repeat[rows[~first]] = True
        gone = ikeep[repeat]
        disc.add(creator[gone], item[gone], Reason.REPEAT_INTERACTION)
        ik, ic, ii, ir, iday = ik[~repeat], ic[~repeat], ii[~repeat], ir[~repeat], iday[~repeat]
    pts_table = np.zeros(int(max(EventKind)) + 1, dtype=np.int64)
    for kk in EventKind:
        if kk is not EventKind.VIEW:
            pts_table[int(kk)] = policy.points_for(kk)
    ipts = pts_table[ik]
    # Raw points per (consumer, item, day) and per (consumer, creator, day).
    ikey = (ic * n_item + ii) * 7 + iday
    o = np.argsort(ikey, kind="stable")
    ikey_s, ipts_s = ikey[o], ipts[o]
    s1 = _group_starts(ikey_s)
    ikey_g = ikey_s[s1]
    iraw = np.add.reduceat(ipts_s, s1) if len(s1) else np.zeros(0, dtype=np.int64)
    g_item = (ikey_g // 7) % n_item if n_item else ikey_g
    g_cons = ikey_g // 7 // max(n_item, 1)
    g_day = ikey_g % 7
    dkey = (g_cons * n_cre + item_creator[g_item]) * 7 + g_day
    o = np.argsort(dkey, kind="stable")
    dkey_s = dkey[o]
    s2 = _group_starts(dkey_s)
    draw = np.add.reduceat(iraw[o], s2) if len(s2) else np.zeros(0, dtype=np.int64)
    deff = np.minimum(draw, policy.interaction_cap_points)
    day_group = np.empty(len(dkey), dtype=np.int64)
    day_group[o] = np.repeat(np.arange(len(s2), dtype=np.int64), np.diff(np.append(s2, len(o))))
    ieff_milli = iraw * deff[day_group] * MILLI // np.maximum(draw[day_group], 1)
    capped = ieff_milli < iraw * MILLI
    disc.add(cre_u[item_creator[g_item[capped]]], item_u[g_item[capped]],
             Reason.INTERACTION_CAP, quantity=(iraw * MILLI - ieff_milli)[capped])

    # Per (consumer, item) rows: dwell and interaction components.
    ci_all = np.concatenate([ci_v, ikey_g // 7])
    dsec_all = np.concatenate([vcap, np.zeros(len(ikey_g), dtype=np.int64)])
    imil_all = np.concatenate([np.zeros(len(ci_v), dtype=np.int64), ieff_milli])
    o = np.argsort(ci_all, kind="stable")
    ci_all, dsec_all, imil_all = ci_all[o], dsec_all[o], imil_all[o]
    s3 = _group_starts(ci_all)
    row_ci = ci_all[s3]
    empty = np.zeros(0, dtype=np.int64)
    row_dsec = np.add.reduceat(dsec_all, s3) if len(s3) else empty
    row_imil = np.add.reduceat(imil_all, s3) if len(s3) else empty
    row_item = row_ci % n_item if n_item else row_ci
    row_cons = row_ci // max(n_item, 1)
    row_cre = item_creator[row_item]
    row_dpts = row_dsec * policy.dwell_points_per_second

    # Per (consumer, creator) pairs: exact points = dwell points + capped interaction points.
    pkey_rows = row_cons * n_cre + row_cre
    # rows are sorted by (consumer, item); pair keys need their own sort.
    pk_all = np.concatenate([pkey_rows, dkey_s[s2] // 7 if len(s2) else empty])
    pv_all = np.concatenate([row_dpts, deff])
    o = np.argsort(pk_all, kind="stable")
    pk_all, pv_all = pk_all[o], pv_all[o]
    s4 = _group_starts(pk_all)
    pair_key = pk_all[s4]
    pair_points = np.add.reduceat(pv_all, s4) if len(s4) else empty
    row_pair = np.searchsorted(pair_key, pkey_rows).astype(np.int64)

    return Engagement(
        consumer_ids=cons_u.astype(np.int64), creator_ids=cre_u.astype(np.int64),
        item_ids=item_u.astype(np.int64),
        item_creator=item_creator, consumer_weight=cons_weight, consumer_tier=cons_tier,
        pair_consumer=(pair_key // max(n_cre, 1)).astype(np.int64),
        pair_creator=(pair_key % max(n_cre, 1)).astype(np.int64),
        pair_points=pair_points.astype(np.int64),
        row_pair=row_pair, row_item=row_item.astype(np.int64),
        row_dwell_seconds=row_dsec.astype(np.int64),
        row_dwell_milli=(row_dpts * MILLI).astype(np.int64),
        row_interaction_milli=row_imil.astype(np.int64),
        discounts=disc.aggregate(),
    )
