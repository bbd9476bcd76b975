"""Consumer value weight: from trailing fees and KYC, bounded; plus the split allowance."""

from __future__ import annotations

from services.incentive.domain.facts import ConsumerValue
from services.incentive.domain.policy import ScoringPolicy


def value_weight(policy: ScoringPolicy, consumer: ConsumerValue | None) -> int:
    """The bounded value weight of a consumer; unknown or sanctioned consumers weigh nothing."""
    if consumer is None or consumer.sanctioned:
        return 0
    if not consumer.kyc_verified:
        return policy.unverified_weight
    fee_weight = min(policy.max_fee_weight,
                     max(0, consumer.trailing_fees_minor) // policy.fee_per_weight_minor)
    return policy.verified_base_weight + fee_weight


def max_split_weight(policy: ScoringPolicy, accounts: int, total_fees_minor: int) -> int:
    """The most value weight `accounts` verified accounts sharing `total_fees_minor` can hold.

    Floor division is superadditive, so splitting fees never adds fee weight below the cap;
    what a split can add is one base weight per extra account, and fee weight beyond the cap
    (each extra account must itself pay the fees that earn it).
    """
    if accounts < 1:
        raise ValueError("accounts must be >= 1")
    base = max(policy.verified_base_weight, policy.unverified_weight)
    return accounts * base + min(accounts * policy.max_fee_weight,
                                 max(0, total_fees_minor) // policy.fee_per_weight_minor)


def tier_label(policy: ScoringPolicy, tier: int) -> str:
    """Human label of a bucket, e.g. 'w2-10' or 'w101+'."""
    bounds = policy.tier_lower_bounds
    lo = bounds[tier]
    return f"w{lo}+" if tier == len(bounds) - 1 else f"w{lo}-{bounds[tier + 1] - 1}"
