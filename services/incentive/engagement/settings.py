"""Aggregator settings (env prefix PLANET_AGGREGATOR_)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class AggregatorSettings(BaseSettings):
    """How the aggregator reads and commits."""

    model_config = SettingsConfigDict(env_prefix="PLANET_AGGREGATOR_", extra="ignore")

    group_id: str = "engagement-aggregator"
    # Input partitions this instance owns, e.g. "0,1"; empty = all. Static
    # ownership keeps one transactional id per partition set, which is what
    # fences a zombie instance of the same set.
    partitions: str = ""
    max_records: int = 2000
    fetch_timeout_ms: int = 200
    dedup_horizon_weeks: int = 3

    def owned_partitions(self, total: int) -> list[int]:
        """The input partitions this instance processes."""
        if not self.partitions.strip():
            return list(range(total))
        owned = sorted({int(p) for p in self.partitions.split(",") if p.strip()})
        bad = [p for p in owned if not 0 <= p < total]
        if bad:
            raise ValueError(f"partitions {bad} do not exist (topic has {total})")
        return owned
