"""A PLACEHOLDER weekly score, to be replaced by the incentive-engine issue (incentive/domain)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

FORMULA = "placeholder_score_v0"

DWELL_CAP_SECONDS = 3600
INTERACTIONS_CAP = 20
SECONDS_PER_INTERACTION = 30
BASE_WEIGHT_MILLI = 1000
FEE_MINOR_PER_WEIGHT_MILLI = 100
FEE_BONUS_CAP_MILLI = 9000


@dataclass(frozen=True)
class ConsumerWeek:
    """What one consumer did for one creator in a week, and what that consumer is worth."""

    dwell_seconds: int
    interactions: int
    fees_minor: int
    kyc_verified: bool


def consumer_weight_milli(consumer: ConsumerWeek) -> int:
    """A consumer's value weight in milli: 1000 plus a capped fee bonus for KYC-verified users."""
    if not consumer.kyc_verified:
        return BASE_WEIGHT_MILLI
    bonus = min(max(consumer.fees_minor, 0) // FEE_MINOR_PER_WEIGHT_MILLI, FEE_BONUS_CAP_MILLI)
    return BASE_WEIGHT_MILLI + bonus


def consumer_units(consumer: ConsumerWeek) -> int:
    """Attention units: capped dwell seconds plus 30 per capped interaction."""
    dwell = min(max(consumer.dwell_seconds, 0), DWELL_CAP_SECONDS)
    interactions = min(max(consumer.interactions, 0), INTERACTIONS_CAP)
    return dwell + SECONDS_PER_INTERACTION * interactions


def placeholder_score_v0(consumers: Iterable[ConsumerWeek]) -> int:
    """PLACEHOLDER score in milli-points, to be replaced by the incentive-engine issue.

    score_milli = Σ_c units_c × w_c with units_c = min(dwell_c, 3600) + 30 × min(interactions_c, 20)
    and w_c = 1000 + min(fees_c // 100, 9000) (the fee bonus only for KYC-verified consumers).
    Integers only: no float ever touches an amount.
    """
    return sum(consumer_units(c) * consumer_weight_milli(c) for c in consumers)
