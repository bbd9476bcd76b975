"""Shadow policy: settle the same week under a candidate policy and compare per creator."""

from __future__ import annotations

from dataclasses import dataclass

from services.incentive.domain.facts import WeekFacts
from services.incentive.domain.policy import ScoringPolicy
from services.incentive.domain.settlement import settle


@dataclass(frozen=True)
class CreatorDiff:
    """One creator's allocation under the current and the candidate policy."""

    creator_id: int
    current_minor: int
    candidate_minor: int

    @property
    def delta_minor(self) -> int:
        """candidate - current."""
        return self.candidate_minor - self.current_minor


@dataclass(frozen=True)
class ShadowReport:
    """Per-creator differences between two policies over the same week's facts."""

    week: str
    current_policy_hash: str
    candidate_policy_hash: str
    diffs: tuple[CreatorDiff, ...]  # only creators whose amount differs, by creator id

    @property
    def moved_minor(self) -> int:
        """Total amount that changes hands (sum of positive deltas)."""
        return sum(d.delta_minor for d in self.diffs if d.delta_minor > 0)


def shadow_compare(facts: WeekFacts, current: ScoringPolicy, candidate: ScoringPolicy, *,
                   as_of_ms: int | None = None) -> ShadowReport:
    """Settle under both policies (the candidate need not be in force yet) and diff them."""
    a = settle(facts, current, as_of_ms=as_of_ms).amounts()
    b = settle(facts, candidate, as_of_ms=as_of_ms, check_effective=False).amounts()
    diffs = tuple(CreatorDiff(c, a.get(c, 0), b.get(c, 0)) for c in sorted(set(a) | set(b))
                  if a.get(c, 0) != b.get(c, 0))
    return ShadowReport(str(facts.week), current.hash, candidate.hash, diffs)
