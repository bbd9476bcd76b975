"""What the operations log and the settled weeks say about each week's pool. Pure.

Folded in log order (operations and weeks each have one partition), so every replica and every
replay reaches the same book:
- a week's pool = its fundings (once per funding id, in the pool's asset only) + the previous
  week's ``unallocated`` + forfeited held amounts decided during the previous week;
- the policy for week W is the one published with the latest ``effective_week`` <= W (ties: the
  later publication; a version is published once: its first publication stands); the model's
  default policy until one is published;
- one held-amount decision per creator-week (the first); fundings recorded after a week's
  close do not count for it;
- a week's first WeekClosed and first WeekSettled are its close and settlement ("written
  once": later copies are ignored, as every reader ignores them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from planet.incentive.v1.weekly_pool_pb2 import (
    HeldDecided,
    PolicyPublished,
    PoolFunded,
    WeekClosed,
    WeekSettled,
)
from services.incentive.domain.facts import MS_PER_WEEK, IsoWeek
from services.incentive.domain.policy import ScoringPolicy, default_policy

PoolEvent = PoolFunded | PolicyPublished | HeldDecided | WeekClosed | WeekSettled


def next_week(week: str) -> str:
    """The ISO week after ``week``."""
    return str(IsoWeek.containing(IsoWeek.parse(week).start_ms + MS_PER_WEEK))


def previous_week(week: str) -> str:
    """The ISO week before ``week``."""
    return str(IsoWeek.containing(IsoWeek.parse(week).start_ms - 1))


@dataclass
class _Policy:
    effective_week: str
    order: int
    policy: ScoringPolicy


@dataclass
class PoolBook:
    """Each week's funding, policy, close and settlement, from the log."""

    asset: str
    # week -> [(at_ms, amount)]: summed at query time, so a funding recorded after the week's
    # close (the API refuses those; a race could still log one) is left out whatever order
    # the operations and weeks logs are read in.
    _fundings: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    _funding_ids: set[str] = field(default_factory=set)
    _versions: set[str] = field(default_factory=set)
    _held_keys: set[tuple[str, str]] = field(default_factory=set)
    _forfeits: dict[str, int] = field(default_factory=dict)
    _decisions: dict[str, HeldDecided] = field(default_factory=dict)
    _policies: list[_Policy] = field(default_factory=list)
    _closed: dict[str, WeekClosed] = field(default_factory=dict)
    _settled: dict[str, WeekSettled] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)

    def apply(self, message: PoolEvent) -> bool:
        """Fold one record; False when it changes nothing (a duplicate, or refused: the
        reason is appended to ``ignored``)."""
        if isinstance(message, PoolFunded):
            return self._fund(message)
        if isinstance(message, PolicyPublished):
            try:
                policy = ScoringPolicy.from_canonical(message.policy_json)
                IsoWeek.parse(message.effective_week)
            except (ValueError, TypeError, KeyError) as exc:
                self.ignored.append(f"policy {message.version!r}: {exc}")
                return False
            if message.version in self._versions:
                return False  # a version is published once: the first publication stands
            if policy.effective_from_week != message.effective_week:
                self.ignored.append(f"policy {message.version!r}: takes effect "
                                    f"{policy.effective_from_week}, published for "
                                    f"{message.effective_week}")
                return False
            self._versions.add(message.version)
            self._policies.append(_Policy(message.effective_week, len(self._policies), policy))
            return True
        if isinstance(message, HeldDecided):
            # One decision per held creator-week (the first), whatever its id.
            key = (message.week, message.creator_id)
            if message.decision_id in self._decisions or not message.decision_id \
                    or key in self._held_keys:
                return False
            self._held_keys.add(key)
            self._decisions[message.decision_id] = message
            if message.decision == HeldDecided.DECISION_FORFEIT and message.asset == self.asset:
                week = next_week(str(IsoWeek.containing(message.at_ms)))
                self._forfeits[week] = self._forfeits.get(week, 0) + message.amount_minor
            return True
        if isinstance(message, WeekClosed):
            if message.week in self._closed:
                return False
            self._closed[message.week] = message
            return True
        if message.week in self._settled:
            return False
        self._settled[message.week] = message
        return True

    def _fund(self, funded: PoolFunded) -> bool:
        if funded.funding_id in self._funding_ids:
            return False
        if funded.asset != self.asset or funded.amount_minor <= 0:
            self.ignored.append(f"funding {funded.funding_id!r}: {funded.amount_minor} "
                                f"{funded.asset} is not a positive amount of {self.asset}")
            return False
        self._funding_ids.add(funded.funding_id)
        self._fundings.setdefault(funded.week, []).append((funded.at_ms, funded.amount_minor))
        return True

    def funded_minor(self, week: str) -> int:
        """The week's fundings (before carried amounts); once the week is closed, only those
        recorded at or before its close."""
        closed = self._closed.get(week)
        cutoff = closed.closed_at_ms if closed is not None else None
        return sum(amount for at, amount in self._fundings.get(week, [])
                   if cutoff is None or at <= cutoff)

    def pool_minor(self, week: str) -> int:
        """Fundings + the previous week's unallocated + forfeits carried into ``week``."""
        prev = self._settled.get(previous_week(week))
        carried = prev.unallocated_minor if prev is not None else 0
        return self.funded_minor(week) + carried + self._forfeits.get(week, 0)

    def policy_for(self, week: str) -> ScoringPolicy:
        """The policy in effect for ``week``."""
        target = IsoWeek.parse(week)
        candidates = [p for p in self._policies if IsoWeek.parse(p.effective_week) <= target]
        if not candidates:
            return default_policy()
        best = max(candidates, key=lambda p: (IsoWeek.parse(p.effective_week), p.order))
        return best.policy

    def policies(self) -> list[tuple[str, ScoringPolicy]]:
        """(effective week, policy) in publication order."""
        return [(p.effective_week, p.policy) for p in self._policies]

    def closed(self, week: str) -> WeekClosed | None:
        """The week's close, once written."""
        return self._closed.get(week)

    def settled(self, week: str) -> WeekSettled | None:
        """The week's settlement, once written."""
        return self._settled.get(week)

    def settled_weeks(self) -> list[WeekSettled]:
        """Every settled week, newest first."""
        return [self._settled[w] for w in sorted(self._settled, key=IsoWeek.parse,
                                                 reverse=True)]

    def decision(self, decision_id: str) -> HeldDecided | None:
        """A held-amount decision by its id."""
        return self._decisions.get(decision_id)
