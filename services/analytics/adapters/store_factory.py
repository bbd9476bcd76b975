"""Choose the analytics backend from configuration."""

from __future__ import annotations

from services.analytics.domain.store import AnalyticsStore


def open_store(clickhouse_url: str | None, chdb_path: str) -> AnalyticsStore:
    """A ServerStore if ``clickhouse_url`` is non-empty, else a ChdbStore on ``chdb_path``."""
    # Imported per branch so a server deployment never loads the embedded engine and vice versa.
    if clickhouse_url:
        from services.analytics.adapters.server_store import ServerStore

        return ServerStore.from_url(clickhouse_url)
    from services.analytics.adapters.chdb_store import ChdbStore

    # Only one process may hold chdb_path (see chdb_store): call this in the analytics sink only.
    return ChdbStore(chdb_path)
