"""The reconciliation's SQL engine: the embedded one (chdb) in a temporary data directory, or a
ClickHouse server (``CLICKHOUSE_URL``, through clickhouse-connect). Same DDL and SQL on both.

Not the analytics store: that one serves analysts through a guard and owns its directory for
its lifetime. This job is privileged and short: it opens its own engine on a fresh directory
(one owner process per directory, so a temporary one never meets another owner), or its own
database on a server, loads the week's raw rows, runs its SQL and drops everything.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, cast
from urllib.parse import urlsplit

# Settings every statement runs with on either backend: a LEFT JOIN's missing side reads as
# the type's default (0, ''), which the SQL relies on.
_SETTINGS = {"join_use_nulls": 0}
# chdb answers in JSON here: 64-bit integers must stay numbers.
_CHDB_SETTINGS = {**_SETTINGS, "output_format_json_quote_64bit_integers": 0}


class SqlEngine(Protocol):
    """What the reconciliation needs from ClickHouse."""

    database: str

    def execute(self, sql: str) -> None:
        """Run a statement that returns nothing (DDL, CREATE TABLE ... AS SELECT)."""

    def insert_tsv(self, table: str, columns: Sequence[str], body: bytes) -> None:
        """Insert TabSeparated rows into ``database.table``."""

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """Run a SELECT; its rows as tuples of ints and strings."""


class _ChdbResult(Protocol):
    def bytes(self) -> bytes: ...


class _ChdbInserter(Protocol):
    def append(self, data: bytes) -> None: ...
    def finish(self) -> object: ...


class _ChdbSession(Protocol):
    def query(self, sql: str, fmt: str = ...) -> _ChdbResult: ...
    def send_insert(self, query: str, fmt: str = ...) -> _ChdbInserter: ...
    def close(self) -> None: ...


class ChdbEngine:
    """chdb on a data directory this process alone uses."""

    def __init__(self, path: str, database: str = "reconcile") -> None:
        from chdb import session as chdb_session  # late: a server run never loads the engine

        self.database = database
        open_session = cast("Callable[[str], _ChdbSession]", chdb_session.Session)
        self._session = open_session(path)
        self._session.query("SET " + ", ".join(f"{k} = {v}" for k, v in _CHDB_SETTINGS.items()))
        self._session.query(f"CREATE DATABASE IF NOT EXISTS {database}")

    def execute(self, sql: str) -> None:
        self._session.query(sql)

    def insert_tsv(self, table: str, columns: Sequence[str], body: bytes) -> None:
        if not body:
            return
        inserter = self._session.send_insert(
            f"INSERT INTO {self.database}.{table} ({', '.join(columns)})", "TabSeparated")
        inserter.append(body)
        inserter.finish()

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        raw = self._session.query(sql, "JSONCompact").bytes()
        if not raw.strip():
            return []
        return [tuple(r) for r in json.loads(raw)["data"]]

    def close(self) -> None:
        self._session.close()


class ServerEngine:
    """A database of its own on a ClickHouse server, dropped on close."""

    def __init__(self, url: str) -> None:
        import clickhouse_connect

        self.database = f"planet_reconcile_{uuid.uuid4().hex[:12]}"
        # Over HTTP no server session (nothing here needs one); a chdb:// DSN (clickhouse-
        # connect's in-process interface, how the tests run this class) has no such notion.
        if urlsplit(url).scheme in ("http", "https"):
            self._client = clickhouse_connect.get_client(
                dsn=url, settings=dict(_SETTINGS), autogenerate_session_id=False)
        else:
            self._client = clickhouse_connect.get_client(dsn=url, settings=dict(_SETTINGS))
        self._client.command(f"CREATE DATABASE {self.database}")

    def execute(self, sql: str) -> None:
        self._client.command(sql)

    def insert_tsv(self, table: str, columns: Sequence[str], body: bytes) -> None:
        if body:
            self._client.raw_insert(f"{self.database}.{table}", list(columns),
                                    insert_block=body, fmt="TabSeparated")

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self._client.query(sql).result_rows]

    def close(self) -> None:
        try:
            self._client.command(f"DROP DATABASE IF EXISTS {self.database}")
        finally:
            self._client.close()


@contextlib.contextmanager
def open_engine(clickhouse_url: str | None = None) -> Iterator[SqlEngine]:
    """The server at ``clickhouse_url`` (default: $CLICKHOUSE_URL) if set, else chdb in a
    temporary directory removed afterwards."""
    url = clickhouse_url if clickhouse_url is not None else os.environ.get("CLICKHOUSE_URL", "")
    if url:
        server = ServerEngine(url)
        try:
            yield server
        finally:
            server.close()
        return
    path = tempfile.mkdtemp(prefix="planet-reconcile-")
    try:
        embedded = ChdbEngine(path)
        try:
            yield embedded
        finally:
            embedded.close()
    finally:
        shutil.rmtree(path, ignore_errors=True)
