"""Gateway configuration (env prefix PLANET_GATEWAY_); the JWT secret is required."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from planetkit.settings import KafkaSettings, TopicSettings


class GatewaySettings(BaseSettings):
    """Everything the gateway needs; load with planetkit.settings.load_settings to fail fast."""

    model_config = SettingsConfigDict(env_prefix="PLANET_GATEWAY_", extra="ignore")

    # HS256 keys shorter than the hash output are brute-forceable (RFC 7518 §3.2).
    jwt_secret: str = Field(min_length=32)
    dev_mode: bool = False
    token_ttl_s: int = Field(default=3600, gt=0)
    host: str = "0.0.0.0"
    port: int = Field(default=8080, ge=0, le=65535)
    content_addr: str = "127.0.0.1:50051"
    incentive_addr: str = "127.0.0.1:50052"
    analytics_addr: str = "127.0.0.1:50053"
    # Analyst queries scan; they get longer than the point lookups of grpc_timeout_s.
    analytics_timeout_s: float = Field(default=30.0, gt=0)
    grpc_timeout_s: float = Field(default=5.0, gt=0)
    publish_timeout_s: float = Field(default=10.0, gt=0)
    max_body_bytes: int = Field(default=256 * 1024, gt=0)
    max_batch_events: int = Field(default=500, gt=0)
    ws_poll_s: float = Field(default=1.0, gt=0)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    topics: TopicSettings = Field(default_factory=TopicSettings)
