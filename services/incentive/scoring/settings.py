"""Scoring job settings (env prefix PLANET_SCORING_)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from planetkit.runner import RunSettings
from planetkit.settings import KafkaSettings, TopicSettings


class ScoringSettings(RunSettings):
    """When weeks close, how often the estimate is refreshed, and the job's one identity."""

    model_config = SettingsConfigDict(env_prefix="PLANET_SCORING_", extra="ignore")

    health_port: int = Field(default=50059, ge=0, le=65535)
    # The job's transactional id (the topic suffix is appended). Fixed, not per pod: a new
    # instance fences the previous one (a zombie's open transaction is aborted and its next
    # write fails), so at most one instance closes, settles and answers at any time.
    transactional_id: str = "incentive-scoring"
    # A week closes this long after it ends (UTC): facts of the week written later are late.
    # The gateway refuses telemetry older than a day, so a day's lead is the bound on how
    # late a fact can honestly be; the default trades that against a prompt settlement.
    grace_s: float = Field(default=3600.0, ge=0)
    # Policy versions whose weeks an operator may close before the grace ends
    # (WeekCloseRequested), comma-separated. Empty: no early close.
    early_close_policies: str = ""
    # How often the current week's estimate is recomputed (goal: an engagement reflected
    # within 60 s of being stored).
    estimate_interval_s: float = Field(default=15.0, gt=0)
    # How often the loop looks at the clock, the operations and the exchange's answers.
    tick_s: float = Field(default=1.0, gt=0)
    # The pool's quote asset (fees and payouts in it; other assets are never added in).
    quote_asset: str = Field(default="USDT", pattern=r"^[A-Z0-9]{2,12}$")
    # Kill tests only: "mid_settlement" exits the process inside the settlement's
    # transaction (records sent, nothing committed). Empty in every deployment.
    fault_injection: Literal["", "mid_settlement"] = ""
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    topics: TopicSettings = Field(default_factory=TopicSettings)

    def early_close(self) -> frozenset[str]:
        """The policy versions that allow an operator's early close."""
        return frozenset(v.strip() for v in self.early_close_policies.split(",") if v.strip())

    def full_transactional_id(self) -> str:
        """The transactional id, suffixed like the topics."""
        suffix = self.topics.topic_suffix
        return f"{self.transactional_id}-{suffix}" if suffix else self.transactional_id
