"""The versioned scoring policy: every parameter of the model, immutable, encoded and hashed."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from typing import Any

from services.incentive.domain.facts import INTERACTION_KINDS, EventKind, IsoWeek


@dataclass(frozen=True)
class ScoringPolicy:
    """All knobs of the weekly split. Integers only, so the encoding (and the hash) is exact."""

    version: str
    effective_from_week: str  # 'YYYY-Www'; a week settles under the policy in force for it
    # Consumer value weight: verified = base + min(max_fee_weight, fees // fee_per_weight_minor).
    fee_per_weight_minor: int
    max_fee_weight: int
    verified_base_weight: int
    unverified_weight: int
    # A consumer's weekly influence budget is weight * budget_units_per_weight score units.
    budget_units_per_weight: int
    # Concavity: credit = isqrt(points * concavity_scale); the budget is fully spent at
    # saturation_points of engagement (or more) with one creator or spread over several.
    concavity_scale: int
    saturation_points: int
    # Dwell.
    min_dwell_seconds: int
    dwell_cap_seconds: int  # per (consumer, item, UTC day)
    dwell_points_per_second: int
    # Interactions: points per kind, minimum text length, cap per (consumer, creator, UTC day).
    interaction_points: tuple[tuple[str, int], ...]
    min_text_length: int
    interaction_cap_points: int
    # Settlement.
    min_payout_minor: int
    # Breakdown buckets: lower bounds of value weight, ascending, first is 0.
    tier_lower_bounds: tuple[int, ...]

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if isinstance(value, int) and not isinstance(value, bool) and value < 0:
                raise ValueError(f"policy field {name} must be non-negative")
        IsoWeek.parse(self.effective_from_week)
        if self.fee_per_weight_minor < 1 or self.budget_units_per_weight < 1:
            raise ValueError("fee_per_weight_minor and budget_units_per_weight must be >= 1")
        if self.concavity_scale < 1 or self.saturation_points < 1:
            raise ValueError("concavity_scale and saturation_points must be >= 1")
        kinds = [k for k, _ in self.interaction_points]
        if sorted(kinds) != sorted(k.name for k in INTERACTION_KINDS) or kinds != sorted(kinds):
            raise ValueError("interaction_points must list every interaction kind once, sorted")
        if not self.tier_lower_bounds or self.tier_lower_bounds[0] != 0 or list(
            self.tier_lower_bounds
        ) != sorted(set(self.tier_lower_bounds)):
            raise ValueError("tier_lower_bounds must start at 0 and strictly ascend")
        if self.max_weight * self.budget_units_per_weight >= 1 << 20:
            raise ValueError("max weight * budget units must stay below 2**20 (exact quotients)")

    @property
    def max_weight(self) -> int:
        """The largest value weight any consumer can hold."""
        return max(self.verified_base_weight + self.max_fee_weight, self.unverified_weight)

    def points_for(self, kind: EventKind) -> int:
        """Policy points of one counted interaction of `kind`."""
        return dict(self.interaction_points)[kind.name]

    def to_canonical(self) -> dict[str, Any]:
        """The policy as a JSON-ready dict of ints, strings and lists."""
        return {k: ([list(x) for x in v] if k == "interaction_points" else
                    list(v) if isinstance(v, tuple) else v)
                for k, v in asdict(self).items()}

    def canonical_bytes(self) -> bytes:
        """Sorted-key compact UTF-8 JSON: the encoding that is hashed and published."""
        return json.dumps(self.to_canonical(), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False).encode("utf-8")

    @property
    def hash(self) -> str:
        """SHA-256 of the canonical encoding, hex."""
        return hashlib.sha256(self.canonical_bytes()).hexdigest()

    @classmethod
    def from_canonical(cls, data: bytes) -> ScoringPolicy:
        """Decode a canonical encoding (round-trips with canonical_bytes)."""
        raw = json.loads(data)
        raw["interaction_points"] = tuple((str(k), int(v)) for k, v in raw["interaction_points"])
        raw["tier_lower_bounds"] = tuple(raw["tier_lower_bounds"])
        return cls(**raw)

    def evolve(self, **changes: Any) -> ScoringPolicy:
        """A new policy value with some fields changed (a new version must be given)."""
        if "version" not in changes:
            raise ValueError("a changed policy needs a new version")
        return replace(self, **changes)


def default_policy() -> ScoringPolicy:
    """The launch policy, v1 (the worked example in docs/incentives.md uses it)."""
    return ScoringPolicy(
        version="1",
        effective_from_week="2026-W01",
        fee_per_weight_minor=1_000,  # one weight per 10.00 USDT of trailing 30-day fees
        max_fee_weight=100,
        verified_base_weight=1,
        unverified_weight=0,
        budget_units_per_weight=1_000,
        concavity_scale=100,
        saturation_points=600,
        min_dwell_seconds=5,
        dwell_cap_seconds=600,
        dwell_points_per_second=1,
        interaction_points=(("COMMENT", 30), ("FOLLOW", 50), ("LIKE", 5), ("QA", 60),
                            ("REPLY", 20), ("SHARE", 40), ("TIP", 60)),
        min_text_length=20,
        interaction_cap_points=200,
        min_payout_minor=100,
        tier_lower_bounds=(0, 1, 2, 11, 51, 101),
    )
