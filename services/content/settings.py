"""Content service configuration (env prefix PLANET_CONTENT_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from planetkit.runner import RunSettings
from planetkit.service_auth_assertion import ServiceAuthSettings
from planetkit.service_identities import CONTENT, SOCIAL
from planetkit.settings import KafkaSettings, TopicSettings


class ContentSettings(RunSettings):
    """Where the service listens, where its stores live, and how it joins its peers."""

    model_config = SettingsConfigDict(env_prefix="PLANET_CONTENT_", extra="ignore")

    # The runner's health server (liveness/readiness); the gRPC port serves the same states.
    health_port: int = Field(default=50061, ge=0, le=65535)
    # Loopback unless told otherwise: the Helm chart sets 0.0.0.0 inside the pod.
    grpc_host: str = "127.0.0.1"
    # 0 picks a free port (tests); the bound port is reported by the running service.
    grpc_port: int = Field(default=50051, ge=0, le=65535)
    # host:port the other replicas dial to reach this one (forwarded reads and publishes).
    # Empty: grpc_host:bound port, or this host's address when grpc_host is 0.0.0.0.
    advertised_addr: str = ""
    # One RocksDB store per owned partition of the posts topic lives under here. Empty: a
    # temporary directory removed at stop, so every start rebuilds from the topic (tests).
    data_dir: Path | None = None
    # Replicas of one deployment share a consumer group (suffixed like the topics).
    group_id: str = "content"
    # A replica that stops heartbeating loses its partitions to the others after this long.
    session_timeout_ms: int = Field(default=10_000, ge=1_000)
    max_records: int = Field(default=5_000, ge=1)
    publish_timeout_s: float = Field(default=10.0, gt=0)
    forward_timeout_s: float = Field(default=5.0, gt=0)
    shutdown_grace_s: float = Field(default=5.0, ge=0)
    # The social service, asked whether a creator may publish (an open, non-suspended
    # identity); a publish waits at most this long for it, then answers UNAVAILABLE.
    social_addr: str = "127.0.0.1:50058"
    social_identity: str = SOCIAL
    publisher_check_timeout_s: float = Field(default=2.0, gt=0)
    # The exchange's web app: "trade this" and copy-trade links point into it (with the
    # post and creator as attribution parameters; services/content/domain/components.py).
    exchange_url: str = "https://www.exchange.example"
    # The audience callers (and the other replicas) address their assertions to.
    identity: str = CONTENT
    auth: ServiceAuthSettings = Field(default_factory=ServiceAuthSettings)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    topics: TopicSettings = Field(default_factory=TopicSettings)

    def group(self) -> str:
        """The consumer group, suffixed like the topics so test stacks never meet."""
        suffix = self.topics.topic_suffix
        return f"{self.group_id}-{suffix}" if suffix else self.group_id
