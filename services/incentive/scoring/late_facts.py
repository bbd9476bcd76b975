"""Late facts: rows of a closed week stored beyond its cut. Pure.

A week's settlement reads the fact records before its cut (``WeekClosed.cuts``). A record at
or after the cut of its (topic, partition) that holds rows of that week arrived too late: it
is counted nowhere and listed once on the weeks log as a ``FactsLate`` naming the record,
the rows and the reason. "Once" is kept by the log itself: every FactsLate names its
(week, topic, partition, offset), and the job folds the weeks log before it scans, so a
restarted job that reads a record again recognises it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from planet.incentive.v1.facts_pb2 import FactRows
from planet.incentive.v1.weekly_pool_pb2 import FactsLate, WeekClosed
from services.incentive.domain.facts import IsoWeek

# A FactsLate lists at most this many of the record's event ids (``rows`` counts them all).
MAX_EVENT_IDS = 100
# A restarted job rescans fact records from the cut of this many of the latest closed weeks
# (facts later than that for an older week are found only by a job that was running then).
RESCAN_WEEKS = 2


def closed_at_text(closed_at_ms: int) -> str:
    """The close time as operators read it (UTC, ISO 8601, seconds)."""
    return datetime.fromtimestamp(closed_at_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class _Cut:
    week: str
    start_ms: int
    end_ms: int
    closed_at_ms: int
    offsets: Mapping[str, tuple[int, ...]]


@dataclass
class LateFacts:
    """Closed weeks' cuts and the late records already listed."""

    fact_topics: frozenset[str]
    _cuts: dict[str, _Cut] = field(default_factory=dict)
    _listed: set[tuple[str, str, int, int]] = field(default_factory=set)
    _count: dict[str, int] = field(default_factory=dict)

    def closed(self, closed: WeekClosed) -> None:
        """A week closed: later records of its rows beyond the cut are late (first close wins)."""
        if closed.week in self._cuts:
            return
        week = IsoWeek.parse(closed.week)
        self._cuts[closed.week] = _Cut(
            closed.week, week.start_ms, week.end_ms, closed.closed_at_ms,
            {c.topic: tuple(c.end_offsets) for c in closed.cuts if c.topic in self.fact_topics})

    def closed_weeks(self) -> list[str]:
        """Every week closed so far."""
        return list(self._cuts)

    def listed(self, late: FactsLate) -> bool:
        """Fold a FactsLate from the log (or just written); False when already known."""
        key = (late.week, late.topic, late.partition, late.offset)
        if key in self._listed:
            return False
        self._listed.add(key)
        self._count[late.week] = self._count.get(late.week, 0) + 1
        return True

    def count(self, week: str) -> int:
        """Late records listed for ``week`` so far."""
        return self._count.get(week, 0)

    def find(self, rows: FactRows, topic: str, partition: int, offset: int) -> list[FactsLate]:
        """FactsLate for each closed week the record holds rows of beyond its cut, not yet
        listed (the caller writes them, then folds them with ``listed``)."""
        if not self._cuts or not len(rows.occurred_at_ms):
            return []
        low, high = min(rows.occurred_at_ms), max(rows.occurred_at_ms)
        out = []
        for cut in self._cuts.values():
            if high < cut.start_ms or low >= cut.end_ms:
                continue
            ends = cut.offsets.get(topic)
            # A partition the cut does not know (added later) is entirely after it.
            if ends is not None and partition < len(ends) and offset < ends[partition]:
                continue
            if (cut.week, topic, partition, offset) in self._listed:
                continue
            idx = [i for i, at in enumerate(rows.occurred_at_ms)
                   if cut.start_ms <= at < cut.end_ms]
            if not idx:
                continue
            out.append(FactsLate(
                week=cut.week, topic=topic, partition=partition, offset=offset, rows=len(idx),
                reason=f"arrived after the week closed at {closed_at_text(cut.closed_at_ms)}",
                event_ids=[rows.event_ids[i] for i in idx[:MAX_EVENT_IDS]]))
        return out

    def scan_start(self, topic: str, partitions: Iterable[int]) -> dict[int, int] | None:
        """Per partition, where a (re)started scan must begin to see every late record of the
        latest closed weeks: the lowest of their cuts. None when no week has closed."""
        latest = sorted(self._cuts.values(), key=lambda c: c.start_ms)[-RESCAN_WEEKS:]
        if not latest:
            return None
        out = {}
        for p in partitions:
            ends = [c.offsets[topic][p] for c in latest
                    if topic in c.offsets and p < len(c.offsets[topic])]
            out[p] = min(ends) if ends else 0
        return out
