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
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Protocol, cast

from services.analytics.adapters import ddl, jsoncompact
from services.analytics.adapters.encoding import chunked, encode_rows, normalize_param, param_text
from services.analytics.adapters.store_base import ClosableStore
from services.analytics.domain.sql_guard import CURRENT_DATABASE, SETTINGS_REFUSAL, Audience, guard
from services.analytics.domain.store import (
    DEFAULT_MAX_INSERT_ROWS,
    DEFAULT_MAX_RESULT_ROWS,
    AnalyticsStoreError,
    DataDirectoryLockedError,
    QueryFailedError,
    QueryLimitError,
    QueryLimits,
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


# ClickHouse error codes of a query stopped at a limit: TOO_MANY_ROWS, TIMEOUT_EXCEEDED,
# TOO_SLOW, MEMORY_LIMIT_EXCEEDED, TOO_MANY_BYTES, TOO_MANY_ROWS_OR_BYTES.
LIMIT_ERROR_CODES = frozenset({158, 159, 160, 241, 307, 396})
_READONLY = 164


def error_code(message: str) -> int | None:
    """The ClickHouse error code an engine message starts with ("Code: 159. ..."), if any."""
    head, _, _ = message.partition(".")
    prefix = "Code: "
    start = head.find(prefix)
    digits = head[start + len(prefix):] if start >= 0 else ""
    return int(digits) if digits.isdigit() else None


def query_failure(exc: Exception) -> QueryFailedError:
    """The store error for an engine error: a limit, or any other failure."""
    message = str(exc)
    if error_code(message) in LIMIT_ERROR_CODES:
        return QueryLimitError(f"the query was stopped at a limit: {message}")
    return QueryFailedError(message)


def _setting_literal(value: object) -> str:
    # Values are the service's own (numbers and a few fixed words), never an analyst's.
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return str(value)


def _bound(params: Mapping[str, object] | None) -> dict[str, str]:
    """Query parameters as the engine's text forms."""
    return {name: param_text(normalize_param(v)) for name, v in (params or {}).items()}


class _SessionParser:
    """sql_guard's engine-side parse, on the query's own session (nothing is executed)."""

    def __init__(self, session: _Session) -> None:
        self._session = session

    def canonical(self, sql: str) -> str:
        # The text is a bound value: it cannot end the string and become SQL.
        try:
            raw = self._session.query(
                "SELECT formatQuerySingleLine({q:String})", "JSONCompact",
                params={"q": param_text(sql)},
            ).bytes()
        except RuntimeError as exc:
            raise ValueError(f"the query does not parse: {exc}") from exc
        value = jsoncompact.decode(raw).rows[0][0]
        if not isinstance(value, str):
            raise ValueError("the query does not parse")
        return value

    def ast_dump(self, canonical: str, params: Mapping[str, object]) -> str:
        try:
            raw = self._session.query("EXPLAIN AST " + canonical, "TSVRaw",
                                      params={k: str(v) for k, v in params.items()}).bytes()
        except RuntimeError as exc:
            if error_code(str(exc)) == _READONLY:
                # The query's own SETTINGS clause, refused by the read-only session.
                raise ValueError(SETTINGS_REFUSAL) from exc
            raise ValueError(f"the query does not parse: {exc}") from exc
        return raw.decode("utf-8", errors="replace")


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
        # Each query opens a session of its own (see query()); opening one on a running
        # engine costs under a millisecond.
        self._open_session = open_session
        self.default_limits = QueryLimits(max_result_rows=max_result_rows)
        # A chdb session runs one statement at a time and refuses a query while a streaming
        # insert is open, so writes are serialized; reads never touch the writer session.
        self._write_lock = threading.Lock()

    def _open(self, open_session: Callable[[str], _Session]) -> _Session:
        try:
            return open_session(self.path)
        except RuntimeError as exc:
            raise _open_failure(self.path, exc) from exc

    @contextlib.contextmanager
    def _reader(self, limits: QueryLimits | None) -> Iterator[_Session]:
        """A read-only session of its own, closed after one use.

        A chdb session keeps the output of a statement that failed midway and hands it to the
        next statement on that session: a shared reader once gave one analyst's partial rows
        to the next. So every parse and every query opens its own (under a millisecond on a
        running engine). ``limits`` None: a parse session, whose EXPLAIN output must not be
        cut by a query's result limits.
        """
        reader = self._open(self._open_session)
        try:
            try:
                self._configure_reader(reader, limits)
            except RuntimeError as exc:
                raise QueryFailedError(f"could not prepare the query session: {exc}") from exc
            yield reader
        finally:
            reader.close()

    @staticmethod
    def _configure_reader(reader: _Session, limits: QueryLimits | None) -> None:
        # Settings are per session, and this session serves one query. The service's limits
        # are set first and readonly=1 last: it freezes them all, so even a query the guard
        # wrongly let through could not lift a limit (stricter than readonly=2, which the
        # service would need only to set limits per query on a shared session). readonly=1
        # also refuses writes, DDL and temporary tables. It does NOT stop INTO OUTFILE or the
        # scalar file() on the embedded engine: sql_guard refuses those.
        # session_timezone pins zone-less DateTime values to UTC whatever the host says.
        settings: dict[str, object] = {
            "session_timezone": "UTC",
            "output_format_json_quote_64bit_integers": 0,
            "output_format_json_quote_decimals": 1,
            "output_format_json_quote_denormals": 1,
            "output_format_json_named_tuples_as_objects": 0,
            "allow_introspection_functions": 0,
            "allow_ddl": 0,
            **(limits.settings() if limits is not None else {}),
        }
        assignments = ", ".join(f"{name} = {_setting_literal(v)}" for name, v in settings.items())
        reader.query(f"SET {assignments}")
        # Unqualified table names resolve here, a database every audience may read.
        reader.query(f"USE {CURRENT_DATABASE}")
        reader.query("SET readonly = 1")

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

    def check(
        self,
        sql: str,
        params: Mapping[str, object] | None = None,
        *,
        audience: Audience = Audience.ANALYST,
    ) -> str:
        """The engine's canonical text of ``sql`` if the audience may run it; else ValueError."""
        return self._check(sql, _bound(params), audience)

    def _check(self, sql: str, bound: dict[str, str], audience: Audience) -> str:
        self._check_open()
        with self._reader(None) as parser:
            return guard(sql, audience, _SessionParser(parser), bound)

    def query(
        self,
        sql: str,
        params: Mapping[str, object] | None = None,
        *,
        audience: Audience = Audience.ANALYST,
        limits: QueryLimits | None = None,
    ) -> QueryResult:
        """Run one SELECT/DESCRIBE the audience may read (see sql_guard), within ``limits``."""
        # What was checked is what runs: the engine's canonical text, not the caller's.
        bound = _bound(params)
        statement = self._check(sql, bound, audience)
        with self._reader(limits or self.default_limits) as reader:
            try:
                raw = reader.query(statement, "JSONCompact", params=bound).bytes()
            except RuntimeError as exc:
                raise query_failure(exc) from exc
        return jsoncompact.decode(raw)

    def _release(self) -> None:
        # Queries close their own sessions; the directory is free once no store in the
        # process uses it.
        self._writer.close()
