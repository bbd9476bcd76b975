"""Incentive service settings (env prefix PLANET_INCENTIVE_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from planetkit.runner import RunSettings
from planetkit.service_auth_assertion import ServiceAuthSettings
from planetkit.service_identities import INCENTIVE
from planetkit.settings import KafkaSettings, TopicSettings


class IncentiveSettings(RunSettings):
    """Ports, identity and storage of the incentive service (Faust worker + gRPC API)."""

    model_config = SettingsConfigDict(env_prefix="PLANET_INCENTIVE_", extra="ignore")

    # grpc.health.v1 of planetkit.runner (probes); the API port answers the same status.
    health_port: int = Field(default=50056, ge=0, le=65535)
    # Faust app id = consumer group and prefix of changelog topics; the topic suffix is
    # appended. It keeps the name the state was created under (renaming it loses the tables).
    app_id: str = "planet-scoring-processor"
    # Loopback unless told otherwise: the Helm chart sets 0.0.0.0 for gRPC inside the pod.
    grpc_host: str = "127.0.0.1"
    # 0 picks a free port (tests): the bound port is logged.
    grpc_port: int = Field(default=50052, ge=0, le=65535)
    web_host: str = "127.0.0.1"
    web_port: int = 6067
    data_dir: Path = Path(".local/incentive-processor")
    # "memory://" rebuilds tables from their changelogs at start; "rocksdb://" needs rocksdict.
    store: str = "memory://"
    # How soon a crashed worker leaves the group, so a restarted one gets its partitions back.
    session_timeout_s: float = Field(default=10.0, gt=0)
    # How often readiness (tables recovered and caught up with their sources) is
    # re-evaluated for the health service; every RPC checks it on every call.
    readiness_poll_s: float = Field(default=0.1, gt=0)
    # The pool's quote asset: fees count by their value in it as the exchange reports it
    # (TradeFeeCharged.quote_value); amounts of other assets are never added in. FundPool
    # accepts only this asset.
    quote_asset: str = Field(default="USDT", pattern=r"^[A-Z0-9]{2,12}$")
    # The audience callers address their assertions to.
    identity: str = INCENTIVE
    auth: ServiceAuthSettings = Field(default_factory=ServiceAuthSettings)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    topics: TopicSettings = Field(default_factory=TopicSettings)

    def full_app_id(self) -> str:
        """The app id with the topic suffix, so side-by-side runs never share groups or state."""
        suffix = self.topics.topic_suffix
        return f"{self.app_id}.{suffix}" if suffix else self.app_id
