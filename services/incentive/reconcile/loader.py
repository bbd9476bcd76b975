"""Reading a settled week from Kafka (read_committed) and loading its raw rows into ClickHouse.

What is read, and why exactly that:
- INCENTIVE_WEEKS whole: the week's first WeekClosed (its cut) and first WeekSettled (every
  reader ignores later copies);
- the fact topics from the first record that can hold the week's facts (offsets_for_times of
  the week's start minus a day: the gateway refuses older telemetry) up to the cut, as the
  settlement reads them; every row goes into ``facts`` (the SQL keeps the week's);
- USER_STATUS and ITEM_STATUS up to the cut (the whole topic if the cut does not name it):
  every record, with its position, so the SQL itself picks the latest per key;
- CREATOR_WEEKS whole: the week's CreatorWeekResult records and the previous week's (their
  rollovers out are this week's rollovers in);
- the policy in effect and the pool book from INCENTIVE_OPERATIONS (scoring.pool_book: the
  rule "latest effective week, ties the later publication" is the book's).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from planet.incentive.v1.facts_pb2 import FactRows, ItemStatus, UserStatus
from planet.incentive.v1.weekly_pool_pb2 import CreatorWeekResult, WeekClosed, WeekSettled
from planetkit.envelope import UndecodableEvent, decode
from planetkit.fact_rows import check_facts, consumers_of
from services.incentive.domain.facts import MS_PER_DAY
from services.incentive.reconcile import ids as mid
from services.incentive.reconcile.engine import SqlEngine
from services.incentive.reconcile.sql import TABLES
from services.incentive.scoring.fact_log import PoolTopics, cut_of, read_range
from services.incentive.scoring.results import join_parts

# The settlement reads facts written at most this long before the week (fact_log does too).
EARLIEST_WRITE_LEAD_MS = MS_PER_DAY
# Rows per INSERT: bounded memory for the encoded text of a large week.
_CHUNK_ROWS = 200_000
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0"})


class BadInput(ValueError):
    """The week cannot be reconciled at all (unknown, not settled, no cut): one line."""


def tsv(text: str) -> str:
    """A string as a TabSeparated field."""
    return text.translate(_ESCAPES)


@dataclass
class WeekRecords:
    """The week's decisions and results as written."""

    closed: WeekClosed
    settled: WeekSettled
    results: list[tuple[int, int, CreatorWeekResult]] = field(default_factory=list)
    # The previous week's results (its rollovers are this week's rollovers in).
    previous: list[CreatorWeekResult] = field(default_factory=list)
    # Problems found while reading (a malformed record): differences of their own.
    problems: list[str] = field(default_factory=list)
    fact_records: int = 0


class _Table:
    """TabSeparated rows for one raw table, flushed in chunks."""

    def __init__(self, engine: SqlEngine, name: str) -> None:
        self._engine, self._name = engine, name
        self._columns = [c for c, _ in TABLES[name]]
        self._lines: list[str] = []
        self.rows = 0

    def add(self, *values: object) -> None:
        self.line("\t".join(tsv(v) if isinstance(v, str) else str(v) for v in values))

    def line(self, text: str) -> None:
        """One row already encoded (no newline)."""
        self._lines.append(text)
        if len(self._lines) >= _CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        if self._lines:
            body = ("\n".join(self._lines) + "\n").encode("utf-8", "surrogatepass")
            self._engine.insert_tsv(self._name, self._columns, body)
            self.rows += len(self._lines)
            self._lines = []


async def read_week_records(bootstrap: str, topics: PoolTopics, week: str,
                            previous_week: str) -> WeekRecords:
    """The week's close, settlement and creator results (and the previous week's results);
    BadInput if it is not settled."""
    closed: WeekClosed | None = None
    settled: WeekSettled | None = None
    async for record in read_range(bootstrap, topics.weeks, None, None):
        try:
            event = decode(record.value, WeekClosed, WeekSettled)
        except UndecodableEvent:
            continue  # FactsLate and later types
        msg = event.payload
        if not isinstance(msg, WeekClosed | WeekSettled) or msg.week != week:
            continue
        if isinstance(msg, WeekClosed) and closed is None:
            closed = msg
        elif isinstance(msg, WeekSettled) and settled is None:
            settled = msg
    if settled is None:
        raise BadInput(f"week {week} is {'closed but ' if closed else 'unknown: '}not settled "
                       f"(no WeekSettled on {topics.weeks})")
    if closed is None:
        raise BadInput(f"week {week} has a WeekSettled but no WeekClosed (no cut) "
                       f"on {topics.weeks}")
    out = WeekRecords(closed, settled)
    async for record in read_range(bootstrap, topics.creator_weeks, None, None):
        try:
            result = decode(record.value, CreatorWeekResult).payload
        except UndecodableEvent as exc:
            out.problems.append(f"record {topics.creator_weeks}/{record.partition}@"
                                f"{record.offset}: {exc}")
            continue
        if result.week == week:
            out.results.append((record.partition, record.offset, result))
        elif result.week == previous_week:
            out.previous.append(result)
    # A creator of very many items has parts (results.result_parts): checked whole.
    where: dict[str, tuple[int, int]] = {}
    for p, o, r in out.results:
        if r.part <= 1:
            where.setdefault(r.creator_id, (p, o))
    whole, problems = join_parts(r for _, _, r in out.results)
    out.results = [(*where[r.creator_id], r) for r in whole]
    out.previous, previous_problems = join_parts(out.previous)
    out.problems += problems + previous_problems
    return out


def _cached(cache: dict[str, tuple[str, int]], space: str, text: str) -> tuple[str, int]:
    value = cache[text] = (tsv(text), mid.model_id(space, text))
    return value


class RawLoader:
    """Raw rows into the tables of sql.TABLES, each with where it was read."""

    def __init__(self, engine: SqlEngine) -> None:
        self.tables = {name: _Table(engine, name) for name in TABLES}
        # string -> (its TabSeparated text, its model id), per space
        self._users: dict[str, tuple[str, int]] = {}
        self._items: dict[str, tuple[str, int]] = {}

    def facts(self, topic: str, partition: int, offset: int, facts: FactRows) -> None:
        """One FactRows record's rows (checked by the caller), of one consumer or with a
        consumer column. Event ids are hashed here, independently of any writer's keys."""
        table, event_id = self.tables["facts"], mid.model_id
        users, items = self._users, self._items
        # A million rows a week: each line is one f-string (the generic add() is 2x slower),
        # and a user's or item's text and int are made once (they repeat all week).
        head = f"{tsv(topic)}\t{partition}\t{offset}"
        for consumer, event, item, creator, at, kind, dwell, text in zip(
                consumers_of(facts), facts.event_ids, facts.item_ids, facts.creator_ids,
                facts.occurred_at_ms, facts.kinds, facts.dwell_seconds, facts.text_lengths,
                strict=True):
            consumer_part = users.get(consumer) or _cached(users, mid.CONSUMER, consumer)
            item_part = items.get(item) or _cached(items, mid.ITEM, item)
            creator_part = users.get(creator) or _cached(users, mid.CREATOR, creator)
            table.line(f"{head}\t{consumer_part[0]}\t{tsv(event)}\t{item_part[0]}\t"
                       f"{creator_part[0]}\t{at}\t{kind}\t{dwell}\t{text}\t"
                       f"{event_id(mid.EVENT, event)}\t{consumer_part[1]}\t"
                       f"{creator_part[1]}\t{item_part[1]}")

    def user(self, partition: int, offset: int, status: UserStatus) -> None:
        """One UserStatus record: KYC, periods, fees."""
        t, p, o, user = self.tables, partition, offset, status.user_id
        t["users"].add(p, o, user, status.kyc_verified_at_ms)
        for what, periods in (("identity", status.identity_open),
                              ("sanction", status.sanctioned)):
            for period in periods:
                t["user_periods"].add(p, o, user, what, period.from_ms, period.until_ms)
        for day in status.fees:
            t["user_fees"].add(p, o, user, day.day, day.quote_minor, day.quote_asset)

    def item(self, partition: int, offset: int, status: ItemStatus) -> None:
        """One ItemStatus record: owner and removal periods."""
        t = self.tables
        t["items"].add(partition, offset, status.item_id, status.creator_id)
        for period in status.removed:
            t["item_removals"].add(partition, offset, status.item_id, period.from_ms,
                                   period.until_ms)

    def flush(self) -> int:
        """Send what is buffered; fact rows loaded so far."""
        for table in self.tables.values():
            table.flush()
        return self.tables["facts"].rows


async def load_facts(bootstrap: str, topics: PoolTopics, raw: RawLoader, week_start_ms: int,
                     cut: Mapping[str, Sequence[int]], records: WeekRecords) -> None:
    """Every fact row of the records the settlement read."""
    for topic in topics.facts:
        if topic not in cut:
            records.problems.append(f"cut: WeekClosed names no end offsets for {topic}")
        async for record in read_range(bootstrap, topic, None, cut.get(topic),
                                       from_ms=week_start_ms - EARLIEST_WRITE_LEAD_MS):
            records.fact_records += 1
            try:
                facts = decode(record.value, FactRows).payload
                check_facts(facts)
            except (UndecodableEvent, ValueError) as exc:
                records.problems.append(f"record {topic}/{record.partition}@{record.offset}: "
                                        f"{exc}")
                continue
            raw.facts(topic, record.partition, record.offset, facts)


async def load_statuses(bootstrap: str, topics: PoolTopics, raw: RawLoader,
                        cut: Mapping[str, Sequence[int]], records: WeekRecords) -> None:
    """Every UserStatus and ItemStatus record before the cut."""
    async for record in read_range(bootstrap, topics.user_status, None,
                                   cut.get(topics.user_status)):
        if record.value is None:
            continue  # a tombstone: the settlement keeps the value before it too
        try:
            user = decode(record.value, UserStatus).payload
        except UndecodableEvent as exc:
            records.problems.append(f"record {topics.user_status}/{record.partition}@"
                                    f"{record.offset}: {exc}")
            continue
        raw.user(record.partition, record.offset, user)
    async for record in read_range(bootstrap, topics.item_status, None,
                                   cut.get(topics.item_status)):
        if record.value is None:
            continue
        try:
            item = decode(record.value, ItemStatus).payload
        except UndecodableEvent as exc:
            records.problems.append(f"record {topics.item_status}/{record.partition}@"
                                    f"{record.offset}: {exc}")
            continue
        raw.item(record.partition, record.offset, item)


__all__ = ["BadInput", "RawLoader", "WeekRecords", "cut_of", "load_facts", "load_statuses",
           "read_week_records"]
