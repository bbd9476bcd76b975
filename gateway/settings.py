"""Gateway configuration (env prefix PLANET_GATEWAY_).

Two ways to run, never both: production verifies the exchange's asymmetric JWTs against its
JWKS (issuer and audience required); dev mode accepts HS256 tokens signed with
``jwt_secret`` and mounts an endpoint that mints them for anyone.
"""

from __future__ import annotations

import ipaddress
from typing import Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from planetkit.service_auth_assertion import ServiceAuthSettings
from planetkit.service_identities import ANALYTICS, CONTENT, GROUPS, INCENTIVE, SOCIAL
from planetkit.settings import KafkaSettings, TopicSettings

ASYMMETRIC_ALGORITHMS = ("RS256", "ES256")


class GatewaySettings(BaseSettings):
    """Everything the gateway needs; load with planetkit.settings.load_settings to fail fast."""

    model_config = SettingsConfigDict(env_prefix="PLANET_GATEWAY_", extra="ignore")

    # --- tokens -------------------------------------------------------------------------
    dev_mode: bool = False
    # Dev mode only. HS256 keys shorter than the hash output are brute-forceable (RFC 7518 §3.2).
    jwt_secret: str | None = Field(default=None, min_length=32)
    token_ttl_s: int = Field(default=3600, gt=0)
    # Production: the identity provider's keys (one of the two) and the claims it must set.
    jwks_url: str = ""
    jwks_file: str = ""
    jwt_issuer: str = ""
    jwt_audience: str = ""
    jwt_algorithms: list[str] = Field(default_factory=lambda: list(ASYMMETRIC_ALGORITHMS))
    # A stolen token is useful until it expires: refuse tokens issued for longer than this.
    jwt_max_lifetime_s: int = Field(default=3600, gt=0, le=7 * 86_400)
    # Clock skew tolerated on exp/iat/nbf between the identity provider and us.
    jwt_leeway_s: int = Field(default=30, ge=0, le=300)
    # Keys are re-read this often, and at most once per min interval on an unknown kid, so
    # tokens with made-up kids cannot turn the gateway into a load generator for the IdP.
    jwks_cache_s: float = Field(default=300.0, gt=0)
    jwks_min_refresh_interval_s: float = Field(default=30.0, ge=0)
    jwks_fetch_timeout_s: float = Field(default=5.0, gt=0)

    # --- network ------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    # Peers (IPs or CIDRs) whose X-Forwarded-For is believed; nobody's by default.
    trusted_proxies: list[str] = Field(default_factory=list)
    content_addr: str = "127.0.0.1:50051"
    incentive_addr: str = "127.0.0.1:50052"
    analytics_addr: str = "127.0.0.1:50053"
    social_addr: str = "127.0.0.1:50058"
    groups_addr: str = "127.0.0.1:50065"
    # Each gRPC call carries an assertion signed with the gateway's own key
    # (PLANET_SERVICE_AUTH_KEY_FILE) and addressed to the callee's identity.
    content_identity: str = CONTENT
    incentive_identity: str = INCENTIVE
    analytics_identity: str = ANALYTICS
    social_identity: str = SOCIAL
    groups_identity: str = GROUPS
    service_auth: ServiceAuthSettings = Field(default_factory=ServiceAuthSettings)
    # Analyst queries scan; they get longer than the point lookups of grpc_timeout_s.
    analytics_timeout_s: float = Field(default=30.0, gt=0)
    grpc_timeout_s: float = Field(default=5.0, gt=0)
    publish_timeout_s: float = Field(default=10.0, gt=0)
    # What a 503 tells the client to wait before retrying.
    retry_after_s: int = Field(default=5, ge=1, le=3600)

    # --- sizes --------------------------------------------------------------------------
    max_body_bytes: int = Field(default=256 * 1024, gt=0)
    max_batch_events: int = Field(default=500, gt=0)
    # How often a live socket that knows it is behind its hub reads the service again (an
    # idle socket has no timer: it wakes for a fact, a client frame or its token's expiry).
    ws_poll_s: float = Field(default=1.0, gt=0)
    ws_max_message_bytes: int = Field(default=16 * 1024, ge=1024)
    ws_auth_timeout_s: float = Field(default=10.0, gt=0)

    # --- rate limits (per replica = these / rate_limit_replicas) ------------------------
    rate_limit_replicas: int = Field(default=1, ge=1, le=1000)
    rate_user_writes_per_minute: int = Field(default=120, ge=1)
    rate_ip_writes_per_minute: int = Field(default=600, ge=1)
    # Every request that presents a credential (valid or not), and every WebSocket login.
    rate_ip_token_uses_per_minute: int = Field(default=1200, ge=1)
    rate_ip_token_mints_per_minute: int = Field(default=30, ge=1)
    rate_limit_max_keys: int = Field(default=100_000, ge=100)

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    topics: TopicSettings = Field(default_factory=TopicSettings)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or CIDR") from None
        return value

    @field_validator("jwt_algorithms")
    @classmethod
    def _asymmetric_only(cls, value: list[str]) -> list[str]:
        wrong = [a for a in value if a not in ASYMMETRIC_ALGORITHMS]
        if wrong or not value:
            raise ValueError(f"only {', '.join(ASYMMETRIC_ALGORITHMS)} are accepted, not {wrong}")
        return value

    @model_validator(mode="after")
    def _one_token_mode(self) -> Self:
        production = [
            name for name in ("jwks_url", "jwks_file", "jwt_issuer", "jwt_audience")
            if getattr(self, name)
        ]
        if self.dev_mode:
            if production:
                raise ValueError(
                    "dev mode mints tokens for anyone, so it cannot run with a production "
                    f"identity provider: unset PLANET_GATEWAY_DEV_MODE or "
                    f"{', '.join('PLANET_GATEWAY_' + n.upper() for n in production)}"
                )
            if self.jwt_secret is None:
                raise ValueError("dev mode needs PLANET_GATEWAY_JWT_SECRET (32+ characters)")
            return self
        if bool(self.jwks_url) == bool(self.jwks_file):
            raise ValueError(
                "set exactly one of PLANET_GATEWAY_JWKS_URL or PLANET_GATEWAY_JWKS_FILE "
                "(or PLANET_GATEWAY_DEV_MODE=true for local development)"
            )
        if not self.jwt_issuer or not self.jwt_audience:
            raise ValueError(
                "PLANET_GATEWAY_JWT_ISSUER and PLANET_GATEWAY_JWT_AUDIENCE are required "
                "outside dev mode"
            )
        return self
