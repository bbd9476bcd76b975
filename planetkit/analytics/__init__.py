"""The analytics store: raw events for analysts, in ClickHouse (embedded chdb or a server)."""

from planetkit.analytics.factory import open_store
from planetkit.analytics.store import (
    AnalyticsStore,
    AnalyticsStoreError,
    DataDirectoryLockedError,
    QueryFailedError,
    QueryResult,
    RawEventRow,
)

__all__ = [
    "AnalyticsStore",
    "AnalyticsStoreError",
    "DataDirectoryLockedError",
    "QueryFailedError",
    "QueryResult",
    "RawEventRow",
    "open_store",
]
