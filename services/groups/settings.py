"""Groups service configuration (env prefix PLANET_GROUPS_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from planetkit.runner import RunSettings
from planetkit.service_auth_assertion import ServiceAuthSettings
from planetkit.service_identities import GROUPS, SOCIAL
from planetkit.settings import KafkaSettings, TopicSettings


class GroupsSettings(RunSettings):
    """Where the service listens, where its stores live, whom it asks about creators."""

    model_config = SettingsConfigDict(env_prefix="PLANET_GROUPS_", extra="ignore")

    health_port: int = Field(default=50066, ge=0, le=65535)
    grpc_host: str = "127.0.0.1"
    # 0 picks a free port (tests).
    grpc_port: int = Field(default=50065, ge=0, le=65535)
    # One RocksDB store per partition under here. Empty: a temporary directory removed at
    # stop, so every start rebuilds from the topics (tests).
    data_dir: Path | None = None
    # The producer's transactional id (suffixed like the topics): a second instance with the
    # same id fences the first, so one instance writes every group's log.
    transactional_id: str = "groups"
    # Social, asked whether a creator holds an open identity (GetProfile).
    social_addr: str = "127.0.0.1:50058"
    social_identity: str = SOCIAL
    social_timeout_s: float = Field(default=5.0, gt=0)
    max_records: int = Field(default=5_000, ge=1)
    # Commands one group commit decides and appends in one Kafka transaction at most
    # (1: a transaction per command, the baseline bench/groups_commands.py compares with).
    max_batch: int = Field(default=500, ge=1, le=5_000)
    publish_timeout_s: float = Field(default=10.0, gt=0)
    shutdown_grace_s: float = Field(default=5.0, ge=0)
    identity: str = GROUPS
    auth: ServiceAuthSettings = Field(default_factory=ServiceAuthSettings)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    topics: TopicSettings = Field(default_factory=TopicSettings)

    def transactional(self) -> str:
        """The transactional id, suffixed so test stacks never fence each other."""
        suffix = self.topics.topic_suffix
        return f"{self.transactional_id}-{suffix}" if suffix else self.transactional_id
