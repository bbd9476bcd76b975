"""Merkle commitment to the week's (creator, amount) leaves, with per-creator proofs.

leaf  = SHA-256(0x00 || creator_id as 8-byte big-endian || amount as 8-byte big-endian)
node  = SHA-256(0x01 || left || right)
Leaves are ordered by creator id ascending. At each level an odd last node is promoted
unchanged to the next level. The root of zero leaves is SHA-256(b"") (empty week).
A proof is the list of (sibling hash, sibling is on the left) from the leaf up.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ProofStep:
    """One sibling on the path from a leaf to the root."""

    sibling: bytes
    sibling_on_left: bool


def leaf_hash(creator_id: int, amount_minor: int) -> bytes:
    """Hash of one (creator, amount) leaf."""
    return hashlib.sha256(
        b"\x00" + creator_id.to_bytes(8, "big") + amount_minor.to_bytes(8, "big")
    ).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash of an inner node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _levels(leaves: Sequence[tuple[int, int]]) -> list[list[bytes]]:
    level = [leaf_hash(c, a) for c, a in sorted(leaves)]
    levels = [level]
    while len(level) > 1:
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        levels.append(nxt)
        level = nxt
    return levels


def merkle_root(leaves: Sequence[tuple[int, int]]) -> bytes:
    """Root over (creator_id, amount) leaves; creator ids must be distinct."""
    if len({c for c, _ in leaves}) != len(leaves):
        raise ValueError("duplicate creator in leaves")
    if not leaves:
        return hashlib.sha256(b"").digest()
    return _levels(leaves)[-1][0]


def merkle_proof(leaves: Sequence[tuple[int, int]], creator_id: int) -> tuple[ProofStep, ...]:
    """The proof that creator_id's leaf is under the root."""
    ordered = sorted(leaves)
    index = next(i for i, (c, _) in enumerate(ordered) if c == creator_id)
    steps: list[ProofStep] = []
    for level in _levels(ordered)[:-1]:
        sibling = index ^ 1
        if sibling < len(level):
            steps.append(ProofStep(level[sibling], sibling_on_left=sibling < index))
        index //= 2
    return tuple(steps)


def merkle_proofs(leaves: Sequence[tuple[int, int]]) -> dict[int, tuple[ProofStep, ...]]:
    """Every leaf's proof at once (the tree is built once: per-leaf merkle_proof calls would
    rebuild it for each of a week's creators)."""
    ordered = sorted(leaves)
    levels = _levels(ordered)[:-1] if ordered else []
    out: dict[int, tuple[ProofStep, ...]] = {}
    for start, (creator_id, _) in enumerate(ordered):
        index, steps = start, []
        for level in levels:
            sibling = index ^ 1
            if sibling < len(level):
                steps.append(ProofStep(level[sibling], sibling_on_left=sibling < index))
            index //= 2
        out[creator_id] = tuple(steps)
    return out


def verify_proof(root: bytes, creator_id: int, amount_minor: int,
                 proof: Sequence[ProofStep]) -> bool:
    """Whether (creator_id, amount_minor) is a leaf under root."""
    h = leaf_hash(creator_id, amount_minor)
    for step in proof:
        h = node_hash(step.sibling, h) if step.sibling_on_left else node_hash(h, step.sibling)
    return h == root
