"""Weeks kept warm: the live week's folded input, kept past its end until it is settled.

The job folds every fact record of the current week as it arrives (the estimate's
``LiveWeek``). When the week ends (or an operator closes it early), that folded input is
exactly what the settlement would read again from the log: the records from the week's first
offsets (the same ``from_ms`` lookup ``fact_log.load_week`` makes) up to the cut. Reading 10 M
events back costs most of a settlement (issue 14's 60 s goal), so the job keeps the input
here, goes on feeding it the records the grace period brings, stops at the cut, and settles
from it. Pure: the job hands in records, positions and cuts.

It is used only when it is certainly the log's input (``ready``); otherwise the settlement
reads the log (``load_week``), which gives the same bytes (the whole-stack kill test settles
one run warm and the other, restarted, from the log):

- it was fed from the week's first offsets (a job that started during the week's grace has
  none: it reads the log);
- this instance closed the week, and the cut it recorded is the cut on the log;
- no record in its range failed to decode or fold (the log's reader fails on it the same
  way, so that settlement is retried with the reason, never computed without the record);
- statuses are frozen at the status cut the close recorded: the close takes the status
  tail's positions after reading it to its end as that cut, so the frozen statuses are the
  latest before it, as ``feed_statuses`` reads them (a compacted status topic may have lost
  a value before the cut that the warm copy still holds: the warm copy is then the right one).

Feeding is by offset: each partition's next offset to fold, so records read twice (the tail
seeks back a day when the next week starts) are folded once, and records at or after the cut
never.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from planet.incentive.v1.facts_pb2 import FactRows, ItemStatus, UserStatus
from services.incentive.scoring.week_inputs import WeekInputs


@dataclass
class WarmWeek:
    """One week's input as folded so far, and where its folding stands."""

    inputs: WeekInputs
    # Per fact topic and partition: the next offset to fold (records below it are in).
    next: dict[str, dict[int, int]]
    # Set by the close: the fact cut (exclusive ends) and the status cut it recorded.
    fact_cut: dict[str, list[int]] | None = None
    status_cut: dict[str, list[int]] | None = None
    # Why the log must be read instead (empty: usable).
    spoiled: str = ""

    def wants(self, topic: str, partition: int, offset: int) -> bool:
        """Whether the record at (topic, partition, offset) is one to fold now."""
        if offset < self.next.get(topic, {}).get(partition, 0):
            return False
        if self.fact_cut is None:
            return True
        ends = self.fact_cut.get(topic)
        # A partition the cut does not name was added after it: nothing in it is the week's.
        return ends is not None and partition < len(ends) and offset < ends[partition]


@dataclass
class WarmWeeks:
    """The warm weeks by ISO week name."""

    weeks: dict[str, WarmWeek] = field(default_factory=dict)

    def keep(self, week: str, inputs: WeekInputs, positions: Mapping[str, Mapping[int, int]],
             ) -> None:
        """Keep ``inputs`` (fed every record from the week's first offsets up to
        ``positions``, the fact tail's next offsets now) for ``week``'s settlement."""
        self.weeks[week] = WarmWeek(inputs, {t: dict(p) for t, p in positions.items()})

    def feed(self, topic: str, partition: int, offset: int, rows: FactRows) -> None:
        """A decoded fact record: folded into each warm week it belongs to (ValueError from
        the fold spoils that week, as it fails the log's reader)."""
        for warm in self.weeks.values():
            if warm.spoiled or not warm.wants(topic, partition, offset):
                continue
            try:
                warm.inputs.add_facts(rows)
            except ValueError as exc:
                warm.spoiled = f"{topic}[{partition}]@{offset} could not be folded: {exc}"
            warm.next.setdefault(topic, {})[partition] = offset + 1

    def unreadable(self, topic: str, partition: int, offset: int, reason: str) -> None:
        """A fact record that could not be decoded: every warm week that would fold it is
        spoiled (the log's reader cannot read that week either)."""
        for warm in self.weeks.values():
            if not warm.spoiled and warm.wants(topic, partition, offset):
                warm.spoiled = f"{topic}[{partition}]@{offset} undecodable: {reason}"

    def set_user(self, status: UserStatus) -> None:
        """A user's latest status, for each week not yet closed."""
        for warm in self.weeks.values():
            if warm.status_cut is None:
                warm.inputs.set_user(status)

    def set_item(self, status: ItemStatus) -> None:
        """An item's latest status, for each week not yet closed."""
        for warm in self.weeks.values():
            if warm.status_cut is None:
                warm.inputs.set_item(status)

    def status_unreadable(self, reason: str) -> None:
        """A status record that could not be decoded: the open weeks read the log instead."""
        for warm in self.weeks.values():
            if warm.status_cut is None and not warm.spoiled:
                warm.spoiled = f"a status record was undecodable: {reason}"

    def close(self, week: str, fact_cut: Mapping[str, Sequence[int]],
              status_cut: Mapping[str, Sequence[int]]) -> None:
        """This instance closed ``week`` with these cuts: its statuses are frozen now, its
        facts end at the cut."""
        warm = self.weeks.get(week)
        if warm is not None and warm.fact_cut is None:
            warm.fact_cut = {t: list(o) for t, o in fact_cut.items()}
            warm.status_cut = {t: list(o) for t, o in status_cut.items()}

    def ready(self, week: str, cut: Mapping[str, Sequence[int]]) -> WarmWeek | None:
        """The warm week to settle ``week`` from, when its cuts are the log's ``cut`` and
        nothing spoiled it (the caller checks the fact tail has read up to the cut)."""
        warm = self.weeks.get(week)
        if warm is None or warm.spoiled or warm.fact_cut is None or warm.status_cut is None:
            return None
        recorded = {**warm.fact_cut, **warm.status_cut}
        if {t: list(o) for t, o in cut.items()} != recorded:
            return None
        return warm

    def drop(self, week: str) -> None:
        """Forget ``week`` (settled, or found settled on the log)."""
        self.weeks.pop(week, None)
