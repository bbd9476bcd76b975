"""AnalyticsStore over chdb, the in-process ClickHouse engine, with a persistent data directory.

One owner per data directory: the engine takes an exclusive lock on ``<path>/status`` for as
long as the process has a session open, and a second process fails to open it. So exactly
one process (the analytics sink service) opens a ChdbStore, and every other process queries
through that process. Within one process chdb runs one engine, on one directory: further
stores on the same directory share it, a store on another directory fails until every
session on the first is closed.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, cast

from planetkit.analytics import ddl, jsoncompact
from planetkit.analytics.encoding import chunked, encode_rows, normalize_param, param_text
from planetkit.analytics.sql_guard import ensure_read_only
from planetkit.analytics.store import (
    DEFAULT_MAX_INSERT_ROWS,
    DEFAULT_MAX_RESULT_ROWS,
    AnalyticsStoreError,
    ClosableStore,
    DataDirectoryLockedError,
    QueryFailedError,
    QueryResult,
    RawEventRow,
)


class _Result(Protocol):
    def bytes(self) -> bytes: ...


class _InsertResult(Protocol):
    rows_written: int


class _Inserter(Protocol):
    def append(self, data: bytes) -> None: ...
    def finish(self) -> _InsertResult: ...
    def cancel(self) -> None: ...


class _Session(Protocol):
    """The part of ``chdb.session.Session`` this module uses, typed (chdb's own API is not)."""

    def query(
        self, sql: str, fmt: str = ..., udf_path: str = ..., params: dict[str, str] | None = ...
    ) -> _Result: ...
    def send_insert(self, query: str, fmt: str = ...) -> _Inserter: ...
    def close(self) -> None: ...


def _session_factory() -> Callable[[str], _Session]:
    # Imported late so that processes using a ClickHouse server never load the engine.
    from chdb import session as chdb_session

    return cast("Callable[[str], _Session]", chdb_session.Session)


def _lock_holder(path: str) -> str | None:
    """The status file's text if another process holds the engine lock on ``path``."""
    status = os.path.join(path, "status")
    try:
        fd = os.open(status, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            # The engine holds flock(LOCK_EX) on this file while it runs.
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                with open(status, encoding="utf-8", errors="replace") as text:
                    return text.read().strip() or "unknown holder"
            raise
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _open_failure(path: str, exc: RuntimeError) -> AnalyticsStoreError:
    message = str(exc)
    if "already initialized with path" in message:
        return DataDirectoryLockedError(
            f"this process already runs the embedded engine on another directory, and chdb "
            f"allows one per process; close every store on it before opening {path!r} "
            f"(engine said: {message})"
        )
    holder = _lock_holder(path)
    if holder is not None:
        # The engine's own message here is only "Error initializing EmbeddedServer".
        return DataDirectoryLockedError(
            f"chdb data directory {path!r} is locked by another process "
            f"({' / '.join(holder.splitlines())}); only one process may open it, so query "
            f"through the analytics sink that owns it"
        )
    return AnalyticsStoreError(f"could not open chdb data directory {path!r}: {message}")


class ChdbStore(ClosableStore):
    """The embedded-engine store; the process that constructs it owns the data directory."""

    def __init__(
        self,
        path: str,
        *,
        max_result_rows: int = DEFAULT_MAX_RESULT_ROWS,
        max_insert_rows: int = DEFAULT_MAX_INSERT_ROWS,
    ) -> None:
        # chdb compares engine paths as strings, so spell every directory one way.
        self.path = os.path.realpath(path)
        self._max_insert_rows = max_insert_rows
        os.makedirs(self.path, exist_ok=True)
        open_session = _session_factory()
        self._writer = self._open(open_session)
        try:
            self._reader = self._open(open_session)
            self._configure_reader(max_result_rows)
        except BaseException:
            self._writer.close()
            raise
        # A chdb session runs one statement at a time and refuses a query while a streaming
        # insert is open, so writes are serialized; reads use their own session.
        self._write_lock = threading.Lock()

    def _open(self, open_session: Callable[[str], _Session]) -> _Session:
        try:
            return open_session(self.path)
        except RuntimeError as exc:
            raise _open_failure(self.path, exc) from exc

    def _configure_reader(self, max_result_rows: int) -> None:
        # Settings are per session. readonly=1 comes last because it also freezes the others;
        # it refuses writes, DDL, temporary tables and the file()/url() table functions.
        # session_timezone pins zone-less DateTime values to UTC whatever the host says.
        for statement in (
            "SET session_timezone = 'UTC'",
            "SET output_format_json_quote_64bit_integers = 0",
            "SET output_format_json_quote_decimals = 1",
            "SET output_format_json_quote_denormals = 1",
            "SET output_format_json_named_tuples_as_objects = 0",
            f"SET max_result_rows = {int(max_result_rows)}",
            "SET result_overflow_mode = 'throw'",
            "SET readonly = 1",
        ):
            self._reader.query(statement)

    def migrate(self) -> None:
        """Create the database, table and views if missing; safe to run on every start."""
        self._check_open()
        with self._write_lock:
            for statement in ddl.MIGRATIONS:
                try:
                    self._writer.query(statement)
                except RuntimeError as exc:
                    raise QueryFailedError(f"migration failed: {exc}") from exc

    def insert_events(self, rows: Sequence[RawEventRow], table: str = ddl.EVENTS_RAW) -> None:
        """Insert rows into ``table`` (one of ddl.EVENT_TABLES), one streaming INSERT per
        ``max_insert_rows``; duplicates are harmless."""
        # A row that cannot be stored raises ValueError before its chunk is sent; earlier
        # chunks stay written, which is safe because re-inserting them is idempotent.
        self._check_open()
        statement = ddl.insert_events(table)
        for chunk in chunked(rows, self._max_insert_rows):
            body = encode_rows(chunk)
            with self._write_lock:
                written = self._insert(statement, table, body)
            if written != len(chunk):
                raise QueryFailedError(f"inserted {written} rows of {len(chunk)}")

    def _insert(self, statement: str, table: str, body: bytes) -> int:
        try:
            inserter = self._writer.send_insert(statement, ddl.INSERT_FORMAT)
        except RuntimeError as exc:
            raise QueryFailedError(f"insert into {table} failed: {exc}") from exc
        try:
            inserter.append(body)
            return inserter.finish().rows_written
        except RuntimeError as exc:
            # Nothing of a failed chunk is committed; the engine's reason matters more than
            # a failure to cancel.
            with contextlib.suppress(RuntimeError):
                inserter.cancel()
            raise QueryFailedError(f"insert into {table} failed: {exc}") from exc

    def query(self, sql: str, params: Mapping[str, object] | None = None) -> QueryResult:
        """Run one read-only statement; ValueError for anything but SELECT/WITH/SHOW/DESCRIBE."""
        self._check_open()
        statement = ensure_read_only(sql)
        bound = {name: param_text(normalize_param(v)) for name, v in (params or {}).items()}
        try:
            raw = self._reader.query(statement, "JSONCompact", params=bound).bytes()
        except RuntimeError as exc:
            raise QueryFailedError(str(exc)) from exc
        return jsoncompact.decode(raw)

    def _release(self) -> None:
        # Both sessions; the directory is free once no store in the process uses it.
        try:
            self._reader.close()
        finally:
            self._writer.close()
