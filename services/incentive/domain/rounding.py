"""Largest-remainder (Hamilton) rounding: integer shares that sum exactly to a total."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from services.incentive.domain.facts import Int64Array

_INT64_LIMIT = 1 << 63


def largest_remainder(total: int, weights: Sequence[tuple[int, int]]) -> dict[int, int]:
    """Split `total` over (key, weight) pairs in proportion, summing exactly to `total`.

    Each key first gets floor(total * weight / W); the units left go one each to the largest
    remainders, ties to the smaller key. Keys must be distinct; with W = 0 nobody gets anything
    (and total must be 0).
    """
    if total < 0 or any(w < 0 for _, w in weights):
        raise ValueError("total and weights must be non-negative")
    denom = sum(w for _, w in weights)
    if denom == 0:
        if total:
            raise ValueError("cannot split a positive total over zero weight")
        return {k: 0 for k, _ in weights}
    shares: dict[int, int] = {}
    remainders: list[tuple[int, int]] = []
    for key, w in weights:
        q, r = divmod(total * w, denom)
        shares[key] = q
        remainders.append((-r, key))
    left = total - sum(shares.values())
    remainders.sort()
    for _, key in remainders[:left]:
        shares[key] += 1
    return shares


def largest_remainder_runs(totals: Sequence[int], weights: Int64Array,
                           first: Int64Array) -> list[int]:
    """largest_remainder for many splits at once; shares aligned with `weights`.

    Split k hands out totals[k] over weights[first[k]:first[k + 1]] (the last run ends at the
    end), whose keys ascend in that order, so remainder ties go to the earlier entry. Runs must
    be non-empty. Vectorised in int64 when total * weight sum fits (always, for money in minor
    units); otherwise each split is done by largest_remainder in Python integers.
    """
    n = len(weights)
    if len(totals) == 0:
        return [0] * n
    ends = np.append(first[1:], n)
    if min(totals) < 0 or (n and int(weights.min()) < 0):
        raise ValueError("total and weights must be non-negative")
    top_weight = int(weights.max()) if n else 0
    if (max(totals) * top_weight >= _INT64_LIMIT  # total * weight
            or top_weight * int((ends - first).max()) >= _INT64_LIMIT):  # weight sums
        return _runs_in_python(totals, weights, first, ends)
    total = np.array(totals, dtype=np.int64)
    run = np.repeat(np.arange(len(first), dtype=np.int64), ends - first)
    denom = np.add.reduceat(weights, first)
    if bool(((denom == 0) & (total > 0)).any()):
        raise ValueError("cannot split a positive total over zero weight")
    safe = np.maximum(denom, 1)[run]
    quota = total[run] * weights
    share, remainder = quota // safe, quota % safe
    left = total - np.add.reduceat(share, first)
    shares: list[int] = (share + _top_per_run(remainder, run, first, left)).tolist()
    return shares


def _top_per_run(values: Int64Array, run: Int64Array, first: Int64Array,
                 want: Int64Array) -> Int64Array:
    """1 for the `want[k]` largest values of each run k (ties: earlier entry), else 0.

    By a threshold per run instead of a sort: t* is the largest t with at least want[k]
    values >= t, found by binary search on all runs at once; values above t* are taken, and
    the rest of want[k] from values equal to t*, in run order.
    """
    lo = np.zeros(len(first), dtype=np.int64)  # want <= run size: every value is >= 0
    hi = np.maximum.reduceat(values, first)
    while True:
        open_ = (lo < hi) & (want > 0)
        if not open_.any():
            break
        mid = np.where(open_, lo + (hi - lo + 1) // 2, lo)
        enough = np.add.reduceat(values >= mid[run], first) >= want
        lo = np.where(enough, mid, lo)
        hi = np.where(enough, hi, mid - 1)
    threshold = lo[run]
    above = values > threshold
    at = values == threshold
    ties_left = (want - np.add.reduceat(above, first))[run]
    before = np.cumsum(at) - at  # ties of earlier entries, counted within the run
    before -= before[first][run]
    take: Int64Array = ((above | (at & (before < ties_left))) & (want[run] > 0)).astype(np.int64)
    return take


def _runs_in_python(totals: Sequence[int], weights: Int64Array, first: Int64Array,
                    ends: Int64Array) -> list[int]:
    """The same splits one by one in Python integers."""
    w = weights.tolist()
    out: list[int] = []
    for total, a, b in zip(totals, first.tolist(), ends.tolist(), strict=True):
        split = largest_remainder(total, list(enumerate(w[a:b])))
        out.extend(split[i] for i in range(b - a))
    return out
