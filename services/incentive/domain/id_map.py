"""Envelope ids (strings: user ids, post ids, comment ids) as the model's int64 ids.

The model works on int64 columns; the platform's ids are strings. The mapping must be a pure
function of the string, so that settling the same log anywhere, any number of times, gives the
same ints (and so the same canonical bytes and Merkle root): the id is the first 8 bytes of
BLAKE2b-64 of ``<space>\\0<string>``, big-endian, with the top bit cleared (0 … 2**63 − 1, the
model's id range). Consumers and creators share one space, ``user``: they are the same people,
and the model recognises self-interaction by ``consumer_id == creator_id`` (separate spaces
would have paid a creator for liking their own post). Items have their own space.

Two strings of one kind landing on one int (a 63-bit collision: about 2**-23 for a million ids,
never in practice, but never assumed) would silently merge two people or two items, so an
``IdMap`` remembers which string each int came from and refuses a second one with
``IdCollision`` naming both: the week is not settled until an operator looks (the fix would be
a salt change, a new policy version). Python's ``hash`` is never used: it is salted per process.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from enum import Enum
from types import MappingProxyType

_TOP_BIT_CLEARED = (1 << 63) - 1


class IdKind(Enum):
    """The id spaces of the model's columns."""

    CONSUMER = "consumer"
    CREATOR = "creator"
    ITEM = "item"


# Consumers and creators are users: one space (self-interaction is consumer == creator).
_SPACE = {IdKind.CONSUMER: "user", IdKind.CREATOR: "user", IdKind.ITEM: "item"}


class IdCollision(ValueError):
    """Two different strings of one kind map to one int id."""

    def __init__(self, kind: IdKind, value: int, first: str, second: str) -> None:
        self.kind, self.value, self.first, self.second = kind, value, first, second
        super().__init__(f"{kind.value} ids {first!r} and {second!r} both map to {value}: "
                         "refusing to merge them (settlement needs an operator)")


def int_id(kind: IdKind, text: str, bits: int = 63) -> int:
    """The model's id of ``text`` in ``kind``'s space (``bits`` < 63 only in tests, to make
    collisions reachable)."""
    if not 1 <= bits <= 63:
        raise ValueError(f"bits must be 1 to 63, not {bits}")
    if not text:
        raise ValueError(f"an empty {kind.value} id has no model id")
    digest = hashlib.blake2b(f"{_SPACE[kind]}\0{text}".encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") & _TOP_BIT_CLEARED) >> (63 - bits)


class IdMap:
    """Maps strings to model ids, remembering each int's string to detect collisions and to
    name results (int -> string) after settlement."""

    def __init__(self, bits: int = 63) -> None:
        self._bits = bits
        # One name table per space: consumer and creator share the users' table, so a
        # collision between a consumer and another creator is caught too.
        users: dict[int, str] = {}
        self._names: dict[IdKind, dict[int, str]] = {
            IdKind.CONSUMER: users, IdKind.CREATOR: users, IdKind.ITEM: {}}

    def intern(self, kind: IdKind, text: str) -> int:
        """``text``'s model id; IdCollision when another string of ``kind`` has it."""
        value = int_id(kind, text, self._bits)
        seen = self._names[kind].setdefault(value, text)
        if seen != text:
            raise IdCollision(kind, value, seen, text)
        return value

    def intern_many(self, kind: IdKind, texts: Iterable[str]) -> list[int]:
        """The model ids of ``texts`` in order (``intern`` of each, same ints, same
        IdCollision): one loop with the space's prefix hashed once, for the million ids a
        week interns at once (``intern`` costs ~2 µs an id, most of it per-call overhead)."""
        shift = 63 - self._bits
        names = self._names[kind]
        base = hashlib.blake2b(f"{_SPACE[kind]}\0".encode(), digest_size=8)
        copy, from_bytes, mask = base.copy, int.from_bytes, _TOP_BIT_CLEARED
        out: list[int] = []
        append, remember = out.append, names.setdefault
        for text in texts:
            if not text:
                raise ValueError(f"an empty {kind.value} id has no model id")
            h = copy()
            h.update(text.encode())
            value = (from_bytes(h.digest(), "big") & mask) >> shift
            seen = remember(value, text)
            if seen != text:
                raise IdCollision(kind, value, seen, text)
            append(value)
        return out

    def name(self, kind: IdKind, value: int) -> str:
        """The string ``value`` was interned from (KeyError when it never was)."""
        return self._names[kind][value]

    def names(self, kind: IdKind) -> Mapping[int, str]:
        """Every int of ``kind`` interned so far and its string (read-only; for bulk naming)."""
        return MappingProxyType(self._names[kind])

    def __len__(self) -> int:
        return sum(len(names) for names in self._names.values())
