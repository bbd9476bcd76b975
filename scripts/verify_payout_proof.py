#!/usr/bin/env python3
"""Verify a creator's weekly pool amount against the week's published Merkle root.

Standalone: Python's standard library only, nothing of Planet's code, so a creator (or anyone
they show it to) can check a payout without trusting the service that computed it.

    curl -s -H "Authorization: Bearer $TOKEN" \\
        http://127.0.0.1:8080/v1/creators/$ME/pool/weeks/2026-W48 > week.json
    curl -s -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/v1/pool/weeks > public.json
    python3 scripts/verify_payout_proof.py week.json public.json

It checks that (1) the leaf id is the creator's own id under Planet's published mapping
(BLAKE2b-64 of ``user\\0<creator id>``, top bit cleared), (2) the proof leads from the leaf
(creator id, allocated amount) to the root, and (3) that root is the one published for the
week in the public list (when given). Exit 0 and one line when all hold; 1 naming the first
that does not; 2 for unreadable input. The hashing is docs/incentives.md, "Merkle commitment".
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any


def user_int_id(user_id: str) -> int:
    """Planet's model id of a user (services/incentive/domain/id_map.py, documented)."""
    digest = hashlib.blake2b(f"user\0{user_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") & ((1 << 63) - 1)


def root_from_proof(leaf_id: int, amount: int, proof: list[dict[str, Any]]) -> str:
    """The root a proof leads to from the (leaf id, amount) leaf."""
    h = hashlib.sha256(b"\0" + leaf_id.to_bytes(8, "big") + amount.to_bytes(8, "big")).digest()
    for step in proof:
        sibling = bytes.fromhex(step["sibling"])
        if len(sibling) != 32:
            raise ValueError("a proof step's sibling is not 32 bytes")
        pair = sibling + h if step["sibling_is_left"] else h + sibling
        h = hashlib.sha256(b"\1" + pair).digest()
    return h.hex()


def verify(week: dict[str, Any], public: dict[str, Any] | None) -> str | None:
    """None when the week verifies, else what fails."""
    creator, leaf = str(week["creator_id"]), int(week["creator_int_id"])
    if user_int_id(creator) != leaf:
        return f"leaf id {leaf} is not creator {creator!r}'s id {user_int_id(creator)}"
    amount = int(week["allocated_minor"])
    if amount <= 0:
        return f"nothing allocated to {creator} in {week['week']}: no leaf to prove"
    root = root_from_proof(leaf, amount, list(week["proof"]))
    if root != week["merkle_root"]:
        return f"the proof leads to {root}, not to the week's root {week['merkle_root']}"
    if public is not None:
        published = {w["week"]: w["merkle_root"] for w in public["weeks"]}
        if published.get(week["week"]) != root:
            return (f"the root published for {week['week']} is "
                    f"{published.get(week['week'])!r}, not {root}")
    return None


def main(argv: list[str]) -> int:
    """Verify the files named on the command line."""
    if len(argv) not in (2, 3):
        print("usage: verify_payout_proof.py WEEK.json [PUBLIC_WEEKS.json]", file=sys.stderr)
        return 2
    try:
        week = json.loads(Path(argv[1]).read_text())
        public = json.loads(Path(argv[2]).read_text()) if len(argv) == 3 else None
        problem = verify(week, public)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"verify_payout_proof: unreadable input: {exc}", file=sys.stderr)
        return 2
    if problem is not None:
        print(f"NOT VERIFIED: {problem}")
        return 1
    print(f"verified: {week['creator_id']} {week['allocated_minor']} {week['asset']} minor units "
          f"in {week['week']} under root {week['merkle_root']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
