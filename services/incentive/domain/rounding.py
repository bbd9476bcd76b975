"""Largest-remainder (Hamilton) rounding: integer shares that sum exactly to a total."""

from __future__ import annotations

from collections.abc import Sequence


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
