"""Social service configuration (env prefix PLANET_SOCIAL_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from planetkit.runner import RunSettings
from planetkit.service_auth_assertion import ServiceAuthSettings
from planetkit.service_identities import SOCIAL
from planetkit.settings import KafkaSettings, TopicSettings


class SocialSettings(RunSettings):
    """Where the service listens and where its stores live."""

    model_config = SettingsConfigDict(env_prefix="PLANET_SOCIAL_", extra="ignore")

    health_port: int = Field(default=50062, ge=0, le=65535)
    grpc_host: str = "127.0.0.1"
    # 0 picks a free port (tests).
    grpc_port: int = Field(default=50058, ge=0, le=65535)
    # One RocksDB store per partition under here. Empty: a temporary directory removed at
    # stop, so every start rebuilds from the topics (tests).
    data_dir: Path | None = None
    # The producer's transactional id (suffixed like the topics): a second instance with the
    # same id fences the first, so only one instance ever writes.
    transactional_id: str = "social"
    # How long a released handle stays reserved for its previous holder.
    handle_reservation_days: int = Field(default=30, ge=0, le=3650)
    max_records: int = Field(default=5_000, ge=1)
    publish_timeout_s: float = Field(default=10.0, gt=0)
    shutdown_grace_s: float = Field(default=5.0, ge=0)
    identity: str = SOCIAL
    auth: ServiceAuthSettings = Field(default_factory=ServiceAuthSettings)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    topics: TopicSettings = Field(default_factory=TopicSettings)

    def transactional(self) -> str:
        """The transactional id, suffixed so test stacks never fence each other."""
        suffix = self.topics.topic_suffix
        return f"{self.transactional_id}-{suffix}" if suffix else self.transactional_id
