"""Settings shared by every service: one base, one prefix per service."""

from __future__ import annotations

import sys
from typing import Literal, TypeVar

from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

S = TypeVar("S", bound=BaseSettings)


class KafkaSettings(BaseSettings):
    """Where the broker is; read without a prefix so every process agrees."""

    model_config = SettingsConfigDict(env_prefix="KAFKA_", extra="ignore")

    bootstrap_servers: str = "127.0.0.1:9092"


def load_settings(cls: type[S]) -> S:
    """Build settings or stop the process with one line naming what is missing or wrong."""
    try:
        return cls()
    except ValidationError as exc:
        prefix = str(cls.model_config.get("env_prefix", ""))
        problems = "; ".join(
            f"{prefix}{'.'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        )
        print(f"{cls.__name__}: invalid configuration: {problems}", file=sys.stderr)
        raise SystemExit(2) from None


class TopicSettings(BaseSettings):
    """An optional suffix on every topic name, so tests and demos can run side by side.

    And the profile topics are created with (planetkit.topics: ``dev`` = one copy, for one
    local broker; ``production`` = 3 copies, min ISR 2): read by whoever creates topics.
    """

    model_config = SettingsConfigDict(env_prefix="PLANET_", extra="ignore")

    topic_suffix: str = ""
    topic_profile: Literal["dev", "production"] = "dev"
