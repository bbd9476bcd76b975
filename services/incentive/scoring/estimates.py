"""The running estimate of the current week. Pure: the job feeds records and the clock.

``LiveWeek`` keeps the current ISO week's model input growing as fact records arrive (the
lead's ``WeekInputs``: each record is added once, never re-read), with the latest status of
every user and item; at each refresh it is built as of now and settled with the same
function as the final result (``settle(..., as_of_ms=now)``), so self-engagement, caps and
the influence bound apply with their reason codes. ``EstimateTracker`` decides which
creators' estimates changed since the last one written (everything but ``as_of_ms``), so
ESTIMATES (compacted, keyed by creator) gets a record only when a creator's number or
breakdown moved. A creator who drops out of the week's result (their only item removed, say)
gets a zero estimate once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from planet.incentive.v1.facts_pb2 import FactRows, ItemStatus, UserStatus
from planet.incentive.v1.weekly_pool_pb2 import CreatorEstimate
from services.incentive.domain.facts import IsoWeek
from services.incentive.scoring.week_inputs import (
    BuiltWeek,
    ItemFacts,
    UserFacts,
    WeekInputs,
    item_facts,
    user_facts,
)


class LiveWeek:
    """The current week's input, fed record by record, and every user's and item's status."""

    def __init__(self, week: IsoWeek) -> None:
        self.week = week
        self.inputs = WeekInputs(week)
        # Plain forms (week_inputs.UserFacts / ItemFacts), shared with the input.
        self._users: dict[str, UserFacts] = {}
        self._items: dict[str, ItemFacts] = {}
        self.records = 0

    def roll(self, week: IsoWeek, *, estimated: bool = True) -> WeekInputs:
        """Start ``week`` empty (the caller re-reads its facts), keeping the statuses; the
        input folded so far is returned (the job keeps it warm for the settlement).
        ``estimated=False``: the week is closed and will not be estimated again, so its new
        input gets no copy of every status (a million of them)."""
        folded = self.inputs
        self.week = week
        self.inputs = WeekInputs(week)
        if estimated:
            for user_id, user in self._users.items():
                self.inputs.set_user_facts(user_id, user)
            for item_id, item in self._items.items():
                self.inputs.set_item_facts(item_id, item)
        self.records = 0
        return folded

    def add_facts(self, rows: FactRows) -> int:
        """Add a record's rows of the week; ValueError for a malformed record."""
        self.records += 1
        return self.inputs.add_facts(rows)

    def set_user(self, status: UserStatus) -> None:
        """A user's latest status."""
        facts = self._users[status.user_id] = user_facts(status)
        self.inputs.set_user_facts(status.user_id, facts)

    def set_item(self, status: ItemStatus) -> None:
        """An item's latest status."""
        facts = self._items[status.item_id] = item_facts(status)
        self.inputs.set_item_facts(status.item_id, facts)

    def build(self, *, pool_minor: int, rollovers: Mapping[str, int], quote_asset: str,
              as_of_ms: int) -> BuiltWeek:
        """The model's input as of now."""
        return self.inputs.build(pool_minor=pool_minor, rollovers=rollovers,
                                 quote_asset=quote_asset, status_at_ms=as_of_ms)


def fingerprint(estimate: CreatorEstimate) -> bytes:
    """What "changed" compares: the whole estimate but its time."""
    copy = CreatorEstimate()
    copy.CopyFrom(estimate)
    copy.as_of_ms = 0
    return copy.SerializeToString(deterministic=True)


@dataclass
class EstimateTracker:
    """The last estimate written per creator (from ESTIMATES at start, then our writes)."""

    _last: dict[str, CreatorEstimate] = field(default_factory=dict)
    _prints: dict[str, bytes] = field(default_factory=dict)

    def observe(self, estimate: CreatorEstimate) -> None:
        """An estimate on the log (or just written): the latest per creator wins."""
        self._last[estimate.creator_id] = estimate
        self._prints[estimate.creator_id] = fingerprint(estimate)

    def last(self, creator_id: str) -> CreatorEstimate | None:
        """The estimate last written for a creator."""
        return self._last.get(creator_id)

    def changed(self, week: str, fresh: Mapping[str, CreatorEstimate], *, as_of_ms: int,
                pool_minor: int, asset: str, policy_version: str,
                policy_hash: str) -> list[CreatorEstimate]:
        """The estimates to write: creators whose estimate differs from their last one, and a
        zero estimate for creators estimated earlier this week who are no longer in it."""
        out = [e for cid, e in sorted(fresh.items()) if self._prints.get(cid) != fingerprint(e)]
        for cid, last in sorted(self._last.items()):
            if cid in fresh or last.week != week:
                continue
            zero = CreatorEstimate(week=week, creator_id=cid, as_of_ms=as_of_ms, asset=asset,
                                   pool_minor=pool_minor, policy_version=policy_version,
                                   policy_hash=policy_hash)
            if self._prints.get(cid) != fingerprint(zero):
                out.append(zero)
        return out
