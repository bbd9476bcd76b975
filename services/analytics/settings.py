"""Analytics sink configuration (env prefix PLANET_ANALYTICS_)."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from planetkit.runner import RunSettings
from planetkit.service_auth_assertion import ServiceAuthSettings
from planetkit.service_identities import ANALYTICS
from planetkit.settings import KafkaSettings, TopicSettings
from services.analytics.domain.pseudonyms import MIN_KEY_BYTES
from services.analytics.domain.store import QueryLimits


class AnalyticsSettings(RunSettings):
    """Where the sink listens, which store it owns, and how much it reads and returns."""

    model_config = SettingsConfigDict(
        env_prefix="PLANET_ANALYTICS_", extra="ignore", populate_by_name=True
    )

    # grpc.health.v1 of planetkit.runner (probes): SERVING once the store is open and
    # migrated and the sink's consumer has its assignment. The gRPC port answers the same.
    health_port: int = Field(default=50057, ge=0, le=65535)
    # Loopback unless told otherwise: the Helm chart sets 0.0.0.0 inside the pod.
    grpc_host: str = "127.0.0.1"
    # 0 picks a free port (tests); the bound port is logged by the running service.
    grpc_port: int = Field(default=50053, ge=0, le=65535)
    chdb_path: str = ".local/chdb"
    # Set (as PLANET_ANALYTICS_CLICKHOUSE_URL or the conventional CLICKHOUSE_URL) to use a
    # ClickHouse server instead of the embedded engine.
    clickhouse_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("PLANET_ANALYTICS_CLICKHOUSE_URL", "CLICKHOUSE_URL"),
    )
    group_id: str = "analytics-sink"
    # PLANET_ANALYTICS_PSEUDONYM_KEY, required: the HMAC key of the pseudonyms analysts see
    # (docs/data-classification.md). Whoever holds it can re-identify them; keep it secret and
    # stable (a new key gives every person a new pseudonym). Generate with
    # `python -c 'import secrets; print(secrets.token_urlsafe(48))'`.
    pseudonym_key: SecretStr = Field(min_length=MIN_KEY_BYTES)
    # Records per fetch, and so per INSERT and per offset commit.
    max_batch: int = Field(default=5_000, gt=0)
    poll_timeout_ms: int = Field(default=500, gt=0)
    max_query_bytes: int = Field(default=16 * 1024, gt=0)
    max_result_rows: int = Field(default=10_000, gt=0)
    # Below gRPC's default 4 MiB receive limit, so any client can take the answer.
    max_response_bytes: int = Field(default=3 * 1024 * 1024, gt=0)
    # From SIGTERM: in-flight queries and the fetch in hand finish, then Kafka and the store
    # close; past it the runner cancels and exits 1.
    shutdown_grace_s: float = Field(default=5.0, ge=0)
    # Per analyst query (the engine stops it at the first one passed; the caller's gRPC
    # deadline lowers the time limit further). See services.analytics.domain.store.QueryLimits.
    query_timeout_s: float = Field(default=30.0, gt=0)
    query_max_memory_bytes: int = Field(default=1024**3, gt=0)
    query_max_rows_to_read: int = Field(default=1_000_000_000, gt=0)
    query_max_bytes_to_read: int = Field(default=100 * 1024**3, gt=0)
    query_max_result_rows: int = Field(default=1_000_000, gt=0)
    query_max_result_bytes: int = Field(default=256 * 1024**2, gt=0)
    # Analyst queries running at once, beside the sink's writer thread.
    query_workers: int = Field(default=4, gt=0)
    # How long a query waits for its audit record to be acknowledged before it is refused.
    audit_timeout_s: float = Field(default=5.0, gt=0)
    # The audience callers address their assertions to.
    identity: str = ANALYTICS
    auth: ServiceAuthSettings = Field(default_factory=ServiceAuthSettings)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    topics: TopicSettings = Field(default_factory=TopicSettings)


def query_limits(settings: AnalyticsSettings) -> QueryLimits:
    """The limits every analyst query runs under."""
    return QueryLimits(
        max_execution_time_s=settings.query_timeout_s,
        max_memory_bytes=settings.query_max_memory_bytes,
        max_rows_to_read=settings.query_max_rows_to_read,
        max_bytes_to_read=settings.query_max_bytes_to_read,
        max_result_rows=settings.query_max_result_rows,
        max_result_bytes=settings.query_max_result_bytes,
    )
