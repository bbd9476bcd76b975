"""Per-partition memory of accepted event ids, pruned week by week."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from planetkit.weeks import week_start_ms

# Weeks of ids kept per partition, counted back from the newest week seen.
# Older events are "late": they cannot be told apart from duplicates anymore.
DEFAULT_HORIZON_WEEKS = 3
WEEK_MS = 7 * 86_400_000


class DedupMemory:
    """Event ids accepted from one input partition, by ISO week of the event.

    The aggregation loop adds to ``ids`` directly (it is the hot path) and then
    reports the same ids by week through ``record``; ``remember`` does both.
    """

    def __init__(self, horizon_weeks: int = DEFAULT_HORIZON_WEEKS) -> None:
        self.horizon_weeks = horizon_weeks
        self.ids: set[str] = set()
        self._by_week: dict[str, list[str]] = {}
        self._oldest_kept_ms: int | None = None

    def __contains__(self, event_id: object) -> bool:
        return event_id in self.ids

    def __len__(self) -> int:
        return len(self.ids)

    def is_late(self, week: str) -> bool:
        """True when ``week`` fell out of the horizon, so dedup can no longer vouch for it."""
        return self._oldest_kept_ms is not None and week_start_ms(week) < self._oldest_kept_ms

    def remember(self, week: str, event_ids: Iterable[str]) -> None:
        """Add ids accepted for ``week`` (replaying a checkpoint), then prune."""
        ids = list(event_ids)
        self.ids.update(ids)
        self.record({week: ids})

    def weeks(self) -> dict[str, list[str]]:
        """The remembered ids by week (the content of a snapshot); do not mutate."""
        return self._by_week

    def record(self, accepted: Mapping[str, Sequence[str]]) -> list[str]:
        """Book ids already added to ``ids`` under their weeks, then prune old weeks.

        Returns the weeks pruned by this call.
        """
        for week, ids in accepted.items():
            if ids:
                self._by_week.setdefault(week, []).extend(ids)
        if not self._by_week:
            return []
        newest_ms = max(week_start_ms(w) for w in self._by_week)
        oldest_ms = newest_ms - (self.horizon_weeks - 1) * WEEK_MS
        if self._oldest_kept_ms is None or oldest_ms > self._oldest_kept_ms:
            self._oldest_kept_ms = oldest_ms
        pruned = [w for w in self._by_week if week_start_ms(w) < oldest_ms]
        for old in pruned:
            self.ids.difference_update(self._by_week.pop(old))
        return pruned
