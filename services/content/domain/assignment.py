"""Which replica owns which partition of the posts topic, and how replicas tell each other.

Each replica joins the consumer group with a claim (its gRPC address and, per partition it
holds a store of, the offset that store has applied). The group leader assigns partitions
with :func:`assign` and writes the resulting owner map (partition -> address) into every
member's assignment, as Kafka Streams does for its interactive queries: every replica
learns the whole map in the same rebalance that moves the partitions, so the map and the
ownership it describes can never disagree for a generation, and no other topic or
registry has to be kept in step.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

_VERSION = 1


@dataclass(frozen=True)
class Claim:
    """What a member tells the leader when it joins."""

    addr: str
    # partition -> next offset its local store would read (0 or absent: no store).
    stored: dict[int, int] = field(default_factory=dict)


def encode_claim(claim: Claim) -> bytes:
    """A claim as member metadata user data."""
    return json.dumps(
        {"v": _VERSION, "addr": claim.addr, "stored": {str(p): o for p, o in claim.stored.items()}}
    ).encode()


def decode_claim(data: bytes) -> Claim:
    """A member's claim; an unreadable one counts as an address-less member with no stores."""
    try:
        raw = json.loads(data)
        stored = {int(p): int(o) for p, o in raw.get("stored", {}).items()}
        return Claim(str(raw["addr"]), stored)
    except (ValueError, KeyError, TypeError, AttributeError):
        return Claim("")


def encode_owners(owners: dict[int, str]) -> bytes:
    """The owner map as assignment user data."""
    return json.dumps({"v": _VERSION, "owners": {str(p): a for p, a in owners.items()}}).encode()


def decode_owners(data: bytes) -> dict[int, str]:
    """The owner map an assignment carries; empty when there is none or it is unreadable."""
    try:
        raw = json.loads(data)
        return {int(p): str(a) for p, a in raw["owners"].items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        return {}


def assign(partitions: list[int], claims: dict[str, Claim]) -> dict[str, list[int]]:
    """Balanced ownership (counts differ by at most one) that moves as little state as it can.

    Each partition goes, where balance allows, to the member whose store has applied the
    most of it, so a restarted replica gets its own partitions back and catches up only
    from its stored offset; the rest go to the least loaded members. Deterministic in its
    inputs (ties broken by member id), so a re-run leader assigns the same way.
    """
    members = sorted(claims)
    if not members:
        return {}
    base, extra = divmod(len(partitions), len(members))
    counts = {m: 0 for m in members}
    above_base = extra  # how many members may still take base + 1
    owned: dict[int, str] = {}

    def can_take(member: str) -> bool:
        return counts[member] < base or (counts[member] == base and above_base > 0)

    def take(member: str, partition: int) -> None:
        nonlocal above_base
        if counts[member] == base:
            above_base -= 1
        counts[member] += 1
        owned[partition] = member

    wanted = set(partitions)
    preferences = sorted(
        (-offset, p, m)
        for m in members
        for p, offset in claims[m].stored.items()
        if p in wanted and offset > 0
    )
    for _, p, m in preferences:
        if p not in owned and can_take(m):
            take(m, p)
    for p in sorted(wanted - owned.keys()):
        member = min((m for m in members if can_take(m)), key=lambda m: (counts[m], m))
        take(member, p)
    result: dict[str, list[int]] = {m: [] for m in members}
    for p, m in owned.items():
        result[m].append(p)
    return {m: sorted(ps) for m, ps in result.items()}
