"""The analytics schema, identical for the embedded engine and a ClickHouse server.

Two databases with the same tables: ``planet`` for analysts (public values, personal values
pseudonymised) and ``planet_ops`` for operators (public and personal values in clear). Neither
ever holds private content or secrets; docs/data-classification.md says who reads which.
Every name is fully qualified so no statement depends on a current database.
"""

from __future__ import annotations

DATABASE = "planet"
EVENTS_RAW = f"{DATABASE}.events_raw"
EVENTS_RAW_DEDUP = f"{DATABASE}.events_raw_dedup"
OPS_DATABASE = "planet_ops"
OPS_EVENTS_RAW = f"{OPS_DATABASE}.events_raw"
OPS_EVENTS_RAW_DEDUP = f"{OPS_DATABASE}.events_raw_dedup"
# The tables the sink inserts into; insert_events refuses any other name.
EVENT_TABLES: tuple[str, ...] = (EVENTS_RAW, OPS_EVENTS_RAW)

CREATE_DATABASE = f"CREATE DATABASE IF NOT EXISTS {DATABASE}"

# ReplacingMergeTree collapses rows with the same sorting key, so a batch re-inserted after a
# crash (Kafka redelivers from the last committed offset) converges to one row per event.
# The key must be identical for every copy of an event: event_type and event_id are, and so is
# the partition (occurred_at never changes for an event id), which matters because merges
# never cross partitions. ingested_at as the version keeps the latest copy.
# Merges are eventual: count exactly with FINAL, or through the dedup view below.
_CREATE_EVENTS_TABLE = """
CREATE TABLE IF NOT EXISTS {table}
(
    event_id          String,
    event_type        LowCardinality(String),
    schema_version    UInt32,
    source            LowCardinality(String),
    aggregate_id      String,
    aggregate_version UInt64,
    occurred_at       DateTime64(3, 'UTC'),
    kafka_topic       LowCardinality(String),
    kafka_partition   UInt32,
    kafka_offset      UInt64,
    payload_json      String CODEC(ZSTD(3)),
    ingested_at       DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (event_type, event_id)
""".strip()

# A plain view with FINAL works on both backends and spares analysts from remembering FINAL.
# OR REPLACE, not IF NOT EXISTS: a view keeps the column list it was created with, so every
# migrate() re-creates it (atomically) and it follows columns added to the table later.
_CREATE_DEDUP_VIEW = """
CREATE OR REPLACE VIEW {view} AS
SELECT * FROM {table} FINAL
""".strip()

CREATE_EVENTS_RAW = _CREATE_EVENTS_TABLE.format(table=EVENTS_RAW)
CREATE_EVENTS_RAW_DEDUP = _CREATE_DEDUP_VIEW.format(view=EVENTS_RAW_DEDUP, table=EVENTS_RAW)
CREATE_OPS_DATABASE = f"CREATE DATABASE IF NOT EXISTS {OPS_DATABASE}"
CREATE_OPS_EVENTS_RAW = _CREATE_EVENTS_TABLE.format(table=OPS_EVENTS_RAW)
CREATE_OPS_EVENTS_RAW_DEDUP = _CREATE_DEDUP_VIEW.format(
    view=OPS_EVENTS_RAW_DEDUP, table=OPS_EVENTS_RAW
)

MIGRATIONS: tuple[str, ...] = (
    CREATE_DATABASE,
    CREATE_EVENTS_RAW,
    CREATE_EVENTS_RAW_DEDUP,
    CREATE_OPS_DATABASE,
    CREATE_OPS_EVENTS_RAW,
    CREATE_OPS_EVENTS_RAW_DEDUP,
)

# Column order of the JSONCompactEachRow batches both backends send (see encoding.encode_rows).
INSERT_COLUMNS: tuple[str, ...] = (
    "event_id",
    "event_type",
    "schema_version",
    "source",
    "aggregate_id",
    "aggregate_version",
    "occurred_at",
    "kafka_topic",
    "kafka_partition",
    "kafka_offset",
    "payload_json",
    "ingested_at",
)
INSERT_FORMAT = "JSONCompactEachRow"


def insert_events(table: str) -> str:
    """The INSERT statement of one of EVENT_TABLES; ValueError for any other name."""
    if table not in EVENT_TABLES:
        raise ValueError(f"{table!r} is not an events table ({', '.join(EVENT_TABLES)})")
    return f"INSERT INTO {table} ({', '.join(INSERT_COLUMNS)})"


INSERT_EVENTS = insert_events(EVENTS_RAW)
