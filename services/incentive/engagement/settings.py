"""Aggregator settings (env prefix PLANET_AGGREGATOR_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from planetkit.runner import RunSettings
from planetkit.settings import KafkaSettings, TopicSettings


class AggregatorSettings(RunSettings):
    """How the aggregator reads and commits, and where its health service listens."""

    model_config = SettingsConfigDict(env_prefix="PLANET_AGGREGATOR_", extra="ignore")

    health_port: int = Field(default=50054, ge=0, le=65535)
    group_id: str = "engagement-aggregator"
    # Input partitions this instance owns, e.g. "0,1"; empty = all. Static
    # ownership keeps one transactional id per partition set, which is what
    # fences a zombie instance of the same set.
    partitions: str = ""
    max_records: int = Field(default=2000, ge=1)
    fetch_timeout_ms: int = Field(default=200, ge=1)
    dedup_horizon_weeks: int = Field(default=3, ge=1)
    # A new snapshot generation is written once a partition's tail holds as many ids as
    # its snapshot and at least this many: restore reads at most ~2x the live ids.
    snapshot_min_tail_ids: int = Field(default=200_000, ge=1)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    topics: TopicSettings = Field(default_factory=TopicSettings)

    def owned_partitions(self, total: int) -> list[int]:
        """The input partitions this instance processes."""
        if not self.partitions.strip():
            return list(range(total))
        owned = sorted({int(p) for p in self.partitions.split(",") if p.strip()})
        bad = [p for p in owned if not 0 <= p < total]
        if bad:
            raise ValueError(f"partitions {bad} do not exist (topic has {total})")
        return owned

    def group(self) -> str:
        """The consumer group (and transactional id prefix), suffixed like the topics."""
        suffix = self.topics.topic_suffix
        return f"{self.group_id}-{suffix}" if suffix else self.group_id
