"""Scoring-processor settings (env prefix PLANET_INCENTIVE_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from planetkit.service_auth_assertion import ServiceAuthSettings
from planetkit.service_identities import INCENTIVE


class ProcessorSettings(BaseSettings):
    """Ports, identity and storage of one scoring-processor worker."""

    model_config = SettingsConfigDict(env_prefix="PLANET_INCENTIVE_", extra="ignore")

    # Faust app id = consumer group and prefix of changelog topics; the topic suffix is appended.
    app_id: str = "planet-scoring-processor"
    # Loopback unless told otherwise: the Helm chart sets 0.0.0.0 for gRPC inside the pod.
    grpc_host: str = "127.0.0.1"
    grpc_port: int = 50052
    web_host: str = "127.0.0.1"
    web_port: int = 6067
    data_dir: Path = Path(".local/incentive-processor")
    # "memory://" rebuilds tables from their changelogs at start; "rocksdb://" needs rocksdict.
    store: str = "memory://"
    log_level: str = "info"
    # How soon a crashed worker leaves the group, so a restarted one gets its partitions back.
    session_timeout_s: float = 10.0
    # The audience callers address their assertions to.
    identity: str = INCENTIVE
    auth: ServiceAuthSettings = Field(default_factory=ServiceAuthSettings)

    def full_app_id(self, topic_suffix: str) -> str:
        """The app id with the topic suffix, so side-by-side runs never share groups or state."""
        return f"{self.app_id}.{topic_suffix}" if topic_suffix else self.app_id
