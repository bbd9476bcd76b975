"""Content service configuration (env prefix PLANET_CONTENT_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from planetkit.service_auth_assertion import ServiceAuthSettings
from planetkit.service_identities import CONTENT
from planetkit.settings import KafkaSettings, TopicSettings


class ContentSettings(BaseSettings):
    """Where the service listens and how patient it is with the broker."""

    model_config = SettingsConfigDict(env_prefix="PLANET_CONTENT_", extra="ignore")

    # Loopback unless told otherwise: the Helm chart sets 0.0.0.0 inside the pod.
    grpc_host: str = "127.0.0.1"
    # 0 picks a free port (tests); the bound port is reported by the running service.
    grpc_port: int = Field(default=50051, ge=0, le=65535)
    publish_timeout_s: float = Field(default=10.0, gt=0)
    shutdown_grace_s: float = Field(default=5.0, ge=0)
    # The audience callers address their assertions to.
    identity: str = CONTENT
    auth: ServiceAuthSettings = Field(default_factory=ServiceAuthSettings)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    topics: TopicSettings = Field(default_factory=TopicSettings)
