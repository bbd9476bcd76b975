"""Opening a per-partition RocksDB store of the social service (``rocksdict``, raw bytes).

As content's post store: a store of another format, or one RocksDB cannot read, is deleted
and recreated empty with its offsets at 0, so its owner rebuilds it from the topics it
materialises (kept forever). Nothing else is needed to recover: delete the directory.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

from rocksdict import Options, Rdict

log = logging.getLogger(__name__)


def open_store(path: Path, fmt: bytes, format_key: bytes = b"~format") -> Rdict:
    """Open (or create) the store at ``path``; recreate it when unreadable or foreign."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        db = _open_raw(path)
        found = db.get(format_key)
        if found == fmt:
            return db
        if found is None and _empty(db):
            db.put(format_key, fmt)
            return db
        db.close()
        reason = f"format {found!r}, expected {fmt!r}"
    except Exception as exc:  # RocksDB reports corruption as a bare Exception
        reason = f"unreadable: {exc}"
    log.warning("recreating store (its owner rebuilds it from the topics)",
                extra={"path": str(path), "reason": reason})
    shutil.rmtree(path, ignore_errors=True)
    db = _open_raw(path)
    db.put(format_key, fmt)
    return db


def _open_raw(path: Path) -> Rdict:
    options = Options(raw_mode=True)
    options.create_if_missing(True)
    return Rdict(str(path), options)


def _empty(db: Rdict) -> bool:
    it = db.iter()
    it.seek_to_first()
    return not it.valid()


def scan(db: Rdict, prefix: bytes, start: bytes, limit: int) -> Iterator[tuple[bytes, bytes]]:
    """Up to ``limit`` (key, value) pairs under ``prefix`` from ``start`` (inclusive), in order."""
    it = db.iter()
    it.seek(start)
    n = 0
    while n < limit and it.valid():
        key = it.key()
        if not key.startswith(prefix):
            return
        yield key, it.value()
        n += 1
        it.next()
