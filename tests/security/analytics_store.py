"""One real embedded engine per test module (chdb runs one data directory per process)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.analytics.adapters.chdb_store import ChdbStore


def engine_rows(store: ChdbStore, sql: str) -> list[list[object]]:
    """Rows of ``sql`` run by the test itself on the store's engine (not through the guard)."""
    from chdb import session as chdb_session

    with chdb_session.Session(store.path) as raw:  # type: ignore[no-untyped-call]
        data = json.loads(raw.query(sql, "JSONCompact").bytes())["data"]
    return [list(row) for row in data]


def module_store() -> Any:
    """A module-scoped fixture: a migrated store on a fresh directory, shared by one module's
    tests (assign it to the fixture's name in the test module)."""

    @pytest.fixture(scope="module")
    def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChdbStore]:
        path: Path = tmp_path_factory.mktemp("chdb")
        with ChdbStore(str(path)) as opened:
            opened.migrate()
            yield opened

    return store
