"""Accounts and handles in one embedded RocksDB store per partition (``rocksdict``).

Partition p's store holds the accounts whose user id hashes to p (their identities-topic
events and their KYC fact: both topics are keyed by user id with the same partition count)
and the handles that hash to p (the handles topic), with the next offset of each of the
three partitions, written in the same batch as the state. A restart catches up from there.

Recovery: the social topics are the changelog (social is their single writer, kept
forever) and the KYC topic is kept forever too; a missing, unreadable or foreign-format store
is deleted and rebuilt from offset 0. To force it, stop the service and delete its data dir.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable
from pathlib import Path

from aiokafka.structs import ConsumerRecord
from rocksdict import Options, Rdict, WriteBatch

from planet.exchange.v1.events_pb2 import KycVerified
from planet.social.v1.state_pb2 import AccountState, HandleState
from planetkit.envelope import UndecodableEvent, decode
from planetkit.topics import SOCIAL_HANDLES, SOCIAL_IDENTITIES
from services.social.domain.account import fold
from services.social.domain.handles import fold_handle
from services.social.domain.stored import (
    FORMAT,
    FORMAT_KEY,
    HANDLES,
    IDENTITIES,
    KYC,
    SOURCES,
    account_key,
    applied_key,
    handle_key,
    offset_from_value,
    offset_value,
)

log = logging.getLogger(__name__)


class PartitionStore:
    """The accounts and handles of one partition, and the offsets they reflect."""

    def __init__(self, path: Path, partition: int) -> None:
        self.path = path
        self.partition = partition
        self._db = _open(path)
        self.applied = {s: self._read_applied(s) for s in SOURCES}

    def _read_applied(self, source: str) -> int:
        raw = self._db.get(applied_key(source))
        return 0 if raw is None else offset_from_value(raw)

    def account(self, user_id: str) -> AccountState:
        """The account's state (empty for an account this service never heard of)."""
        raw = self._db.get(account_key(user_id))
        return AccountState() if raw is None else AccountState.FromString(raw)

    def handle(self, handle: str) -> HandleState | None:
        """The handle's record, if it was ever claimed."""
        raw = self._db.get(handle_key(handle))
        return None if raw is None else HandleState.FromString(raw)

    def write(self, accounts: dict[str, AccountState], handles: dict[str, HandleState]) -> None:
        """Store states just appended to the log (ahead of the tail, which skips them later)."""
        batch = WriteBatch(raw_mode=True)
        for user_id, state in accounts.items():
            batch.put(account_key(user_id), state.SerializeToString())
        for name, hstate in handles.items():
            batch.put(handle_key(name), hstate.SerializeToString())
        self._db.write(batch)

    def apply(self, source: str, records: Iterable[ConsumerRecord[bytes, bytes]]) -> int:
        """Fold a fetch of ``source`` and write it with the next offset in one batch.

        Returns how many events changed state. An event at or below the state's version was
        applied already (by the writer ahead of the tail, or before a crash) and is skipped.
        """
        accounts: dict[str, AccountState] = {}
        handles: dict[str, HandleState] = {}
        changed = 0
        last = -1
        for record in records:
            last = record.offset
            try:
                changed += self._fold(source, record, accounts, handles)
            except UndecodableEvent as exc:
                # Only social (and the exchange, for KYC) write these topics: a bug to look
                # at, never silently lost; the record stays in the log.
                log.error("skipping undecodable record", extra={
                    "topic": record.topic, "partition": record.partition,
                    "offset": record.offset, "reason": str(exc)})
        if last < 0:
            return 0
        batch = WriteBatch(raw_mode=True)
        for user_id, state in accounts.items():
            batch.put(account_key(user_id), state.SerializeToString())
        for name, hstate in handles.items():
            batch.put(handle_key(name), hstate.SerializeToString())
        batch.put(applied_key(source), offset_value(last + 1))
        self._db.write(batch)
        self.applied[source] = last + 1
        return changed

    def _fold(self, source: str, record: ConsumerRecord[bytes, bytes],
              accounts: dict[str, AccountState], handles: dict[str, HandleState]) -> int:
        if source == KYC:
            kyc = decode(record.value, KycVerified)
            user_id = kyc.payload.user_id
            state = accounts.get(user_id) or self.account(user_id)
            accounts[user_id] = state
            if state.kyc_verified_at_ms:
                return 0
            state.kyc_verified_at_ms = kyc.payload.verified_at_ms or 1
            return 1
        if source == IDENTITIES:
            event = decode(record.value, *SOCIAL_IDENTITIES.payloads)
            user_id = event.envelope.aggregate_id
            state = accounts.get(user_id) or self.account(user_id)
            accounts[user_id] = state
            if event.envelope.aggregate_version <= state.version:
                return 0
            fold(state, event.payload)
            state.version = event.envelope.aggregate_version
            return 1
        if source == HANDLES:
            hevent = decode(record.value, *SOCIAL_HANDLES.payloads)
            name = hevent.envelope.aggregate_id
            hstate = handles.get(name) or self.handle(name) or HandleState()
            handles[name] = hstate
            if hevent.envelope.aggregate_version <= hstate.version:
                return 0
            fold_handle(hstate, hevent.payload)  # type: ignore[arg-type]
            hstate.version = hevent.envelope.aggregate_version
            return 1
        raise ValueError(f"unknown source {source!r}")

    def reset(self) -> None:
        """Delete the store and start empty (rebuilt from offset 0 by the tail)."""
        self._db.close()
        shutil.rmtree(self.path, ignore_errors=True)
        self._db = _open(self.path)
        self.applied = dict.fromkeys(SOURCES, 0)

    def close(self) -> None:
        """Flush and close."""
        self._db.close()


def _open(path: Path) -> Rdict:
    """Open (or create) a store; delete and recreate one that is unreadable or foreign."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        db = _open_raw(path)
        fmt = db.get(FORMAT_KEY)
        if fmt == FORMAT:
            for source in SOURCES:
                raw = db.get(applied_key(source))
                if raw is not None:
                    offset_from_value(raw)
            return db
        empty = fmt is None and not any(db.get(applied_key(s)) is not None for s in SOURCES)
        if empty:
            db.put(FORMAT_KEY, FORMAT)
            return db
        db.close()
        reason = f"format {fmt!r}, expected {FORMAT!r}"
    except Exception as exc:  # RocksDB reports corruption as a bare Exception
        reason = f"unreadable: {exc}"
    log.warning("rebuilding account store from the topics",
                extra={"path": str(path), "reason": reason})
    shutil.rmtree(path, ignore_errors=True)
    db = _open_raw(path)
    db.put(FORMAT_KEY, FORMAT)
    return db


def _open_raw(path: Path) -> Rdict:
    options = Options(raw_mode=True)
    options.create_if_missing(True)
    return Rdict(str(path), options)


class AccountStores:
    """One store per partition under one directory."""

    def __init__(self, root: Path, partitions: int) -> None:
        self.root = root / "accounts"
        self.partitions = partitions
        self._open = {p: PartitionStore(self.root / f"p{p}", p) for p in range(partitions)}

    def store(self, partition: int) -> PartitionStore:
        """The store of ``partition``."""
        return self._open[partition]

    def close(self) -> None:
        """Close every store."""
        for store in self._open.values():
            store.close()
