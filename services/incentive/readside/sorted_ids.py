"""A sorted set of ids kept in bounded table values, paged in id order.

A creator's items that ever earned were one JSON list rewritten whole on every new item: a
creator with 254 000 items in a week (the settle bench's heaviest) made that O(items²) bytes
written and one value of megabytes. Here the ids are chunks of at most ``2 * CHUNK`` ids
(``<key>|<n>``), and ``<key>`` holds the directory: each chunk's number and its lowest id, in
order (one short entry per chunk). An insert rewrites one chunk and, when it splits, the
directory. A directory written by the old layout (a plain list of ids) is read as one chunk
and rewritten in this layout on the next insert.
"""

from __future__ import annotations

from bisect import bisect_right, insort

from services.incentive.readside.codec import ReadTable, Table, read_json, write_json
from services.incentive.readside.keys import key

CHUNK = 1_000


def _directory(table: ReadTable, name: str) -> tuple[list[list[object]], list[str] | None]:
    """The directory ([lowest id, chunk number] per chunk, ascending), and the ids of an
    old-layout value (None when it is in this layout)."""
    raw = read_json(table, name)
    if not raw:
        return [], None
    if all(isinstance(v, str) for v in raw):
        return [], sorted(raw)
    return raw, None


def _chunk_key(name: str, number: object) -> str:
    return key(name, str(number))


def add(table: Table, name: str, value: str) -> bool:
    """Insert ``value``; False when it is there already."""
    directory, legacy = _directory(table, name)
    if legacy is not None:
        # The old layout: its ids become chunks first.
        for n, lo in enumerate(range(0, len(legacy), CHUNK)):
            write_json(table, _chunk_key(name, n), legacy[lo:lo + CHUNK])
            directory.append([legacy[lo], n])
    if not directory:
        write_json(table, _chunk_key(name, 0), [value])
        write_json(table, name, [[value, 0]])
        return True
    lows = [str(d[0]) for d in directory]
    at = max(0, bisect_right(lows, value) - 1)
    number = directory[at][1]
    ids: list[str] = read_json(table, _chunk_key(name, number)) or []
    if value in ids:
        if legacy is not None:
            write_json(table, name, directory)
        return False
    insort(ids, value)
    directory[at][0] = ids[0]
    if len(ids) > 2 * CHUNK:
        fresh = 1 + max(int(str(d[1])) for d in directory)
        write_json(table, _chunk_key(name, fresh), ids[CHUNK:])
        directory.insert(at + 1, [ids[CHUNK], fresh])
        ids = ids[:CHUNK]
    write_json(table, _chunk_key(name, number), ids)
    write_json(table, name, directory)
    return True


def page(table: ReadTable, name: str, after: str, limit: int) -> tuple[list[str], bool]:
    """Up to ``limit`` ids above ``after`` (empty = from the lowest), and whether more follow."""
    directory, legacy = _directory(table, name)
    if legacy is not None:
        rest = [v for v in legacy if not after or v > after]
        return rest[:limit], len(rest) > limit
    lows = [str(d[0]) for d in directory]
    start = max(0, bisect_right(lows, after) - 1) if after else 0
    out: list[str] = []
    for _, number in directory[start:]:
        ids: list[str] = read_json(table, _chunk_key(name, number)) or []
        for v in ids:
            if after and v <= after:
                continue
            if len(out) == limit:
                return out, True
            out.append(v)
    return out, False
