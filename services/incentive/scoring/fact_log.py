"""Reading the weekly pool's topics: the pool book, a week's facts up to its cut, statuses.

A week's settlement reads exactly the fact records before its cut (``WeekClosed.cuts``: per
topic and partition, the first offset not part of the week), from the first record that can
hold the week's facts (written at most ``EARLIEST_WRITE_LEAD_MS`` before the week starts: the
gateway refuses telemetry older than that), so a replay of the log reads the same records.
The cut also covers the status topics: a week's statuses are the latest values before it.
Everything is read with read_committed: aborted writes never count.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord

from planet.incentive.v1.facts_pb2 import FactRows, ItemStatus, UserStatus
from planet.incentive.v1.weekly_pool_pb2 import (
    CreatorWeekResult,
    HeldDecided,
    PolicyPublished,
    PoolFunded,
    TopicCut,
    WeekClosed,
    WeekCloseRequested,
    WeekSettled,
)
from planetkit.envelope import UndecodableEvent, decode
from planetkit.kafka.producer import MAX_REQUEST_BYTES
from planetkit.topics import (
    CREATOR_WEEKS,
    INCENTIVE_OPERATIONS,
    INCENTIVE_WEEKS,
    INTERACTION_FACTS,
    ITEM_STATUS,
    USER_STATUS,
    VIEW_FACTS,
    with_suffix,
)
from services.incentive.domain.facts import MS_PER_DAY, IsoWeek
from services.incentive.scoring.pool_book import PoolBook, previous_week
from services.incentive.scoring.week_inputs import (
    BuiltWeek,
    EventIdCollision,
    WeekInputs,
    event_names,
)

EARLIEST_WRITE_LEAD_MS = MS_PER_DAY


# The registered topics PoolTopics names, in its field order (also what a bench or test
# creates for itself).
REGISTERED = (VIEW_FACTS, INTERACTION_FACTS, USER_STATUS, ITEM_STATUS, INCENTIVE_OPERATIONS,
              INCENTIVE_WEEKS, CREATOR_WEEKS)


@dataclass(frozen=True)
class PoolTopics:
    """The weekly pool's topic names (under a test suffix when given)."""

    view_facts: str
    interaction_facts: str
    user_status: str
    item_status: str
    operations: str
    weeks: str
    creator_weeks: str

    @classmethod
    def named(cls, suffix: str = "") -> PoolTopics:
        """The registered names, suffixed."""
        return cls(*(with_suffix(t, suffix).name for t in REGISTERED))

    @property
    def facts(self) -> tuple[str, str]:
        """The topics a week's engagement is read from."""
        return (self.view_facts, self.interaction_facts)

    @property
    def cut_topics(self) -> tuple[str, str, str, str]:
        """The topics a WeekClosed cuts: facts and statuses."""
        return (self.view_facts, self.interaction_facts, self.user_status, self.item_status)


def _consumer(bootstrap: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                            isolation_level="read_committed",
                            max_partition_fetch_bytes=MAX_REQUEST_BYTES)


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    # The consumer's public partitions_for_topic answers from a cache that is empty until a
    # subscription fetched metadata; an assign()-only reader must ask the cluster itself.
    parts = await consumer._client.fetch_all_metadata()
    ids = parts.partitions_for_topic(topic)
    if not ids:
        raise LookupError(f"topic {topic} does not exist")
    return [TopicPartition(topic, p) for p in sorted(ids)]


async def end_offsets(bootstrap: str, topics: Sequence[str]) -> dict[str, list[int]]:
    """Per topic, per partition, the last stable offset now (read_committed's end)."""
    consumer = _consumer(bootstrap)
    await consumer.start()
    try:
        out = {}
        for topic in topics:
            tps = await _partitions(consumer, topic)
            ends = await consumer.end_offsets(tps)
            out[topic] = [ends[tp] for tp in tps]
        return out
    finally:
        await consumer.stop()


async def cut_now(bootstrap: str, topics: PoolTopics) -> list[TopicCut]:
    """The cut a WeekClosed written now records: facts and statuses up to their ends."""
    ends = await end_offsets(bootstrap, topics.cut_topics)
    return [TopicCut(topic=t, end_offsets=ends[t]) for t in topics.cut_topics]


async def read_range(bootstrap: str, topic: str, start: Mapping[int, int] | None,
                     end: Sequence[int] | None, *, from_ms: int | None = None,
                     ) -> AsyncIterator[ConsumerRecord[bytes, bytes]]:
    """Committed records of every partition of ``topic`` from ``start`` (default: the
    beginning; with ``from_ms``: the first record written at or after it, looked up by the
    same consumer) to ``end`` (exclusive; default: the end now), partition by partition in
    offset order within each."""
    consumer = _consumer(bootstrap)
    await consumer.start()
    try:
        tps = await _partitions(consumer, topic)
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        firsts = await consumer.beginning_offsets(tps)
        ends = await consumer.end_offsets(tps) if end is None else {
            tp: end[tp.partition] for tp in tps}
        if from_ms is not None:
            start = await _offsets_for_time(consumer, tps, from_ms)
        pending = set()
        for tp in tps:
            begin = max(firsts[tp], (start or {}).get(tp.partition, 0))
            if begin < ends[tp]:
                consumer.seek(tp, begin)
                pending.add(tp)
        while pending:
            fetched = await consumer.getmany(*pending, timeout_ms=500)
            for tp, records in fetched.items():
                for record in records:
                    if record.offset < ends[tp]:
                        yield record
            for tp in list(pending):
                if await consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)
    finally:
        await consumer.stop()


async def offsets_at(bootstrap: str, topic: str, at_ms: int) -> dict[int, int]:
    """Per partition, the first offset written at or after ``at_ms`` (the end if none)."""
    consumer = _consumer(bootstrap)
    await consumer.start()
    try:
        return await _offsets_for_time(consumer, await _partitions(consumer, topic), at_ms)
    finally:
        await consumer.stop()


async def _offsets_for_time(consumer: AIOKafkaConsumer, tps: list[TopicPartition],
                            at_ms: int) -> dict[int, int]:
    found = await consumer.offsets_for_times({tp: at_ms for tp in tps})
    ends = await consumer.end_offsets(tps)
    return {tp.partition: (found[tp].offset if found.get(tp) else ends[tp]) for tp in tps}


async def read_pool_book(bootstrap: str, topics: PoolTopics, asset: str) -> PoolBook:
    """The book from the whole operations and weeks logs (one partition each, both small)."""
    book = PoolBook(asset)
    async for record in read_range(bootstrap, topics.operations, None, None):
        try:
            event = decode(record.value, PoolFunded, PolicyPublished, HeldDecided,
                           WeekCloseRequested)
        except UndecodableEvent:
            continue  # the writer is this service: nothing else is there to skip
        payload = event.payload
        if isinstance(payload, PoolFunded | PolicyPublished | HeldDecided):
            book.apply(payload)
    async for record in read_range(bootstrap, topics.weeks, None, None):
        try:
            week_event = decode(record.value, WeekClosed, WeekSettled)
        except UndecodableEvent:
            continue  # FactsLate and future types: not the book's
        closed_or_settled = week_event.payload
        if isinstance(closed_or_settled, WeekClosed | WeekSettled):
            book.apply(closed_or_settled)
    return book


def cut_of(closed: WeekClosed) -> dict[str, list[int]]:
    """A WeekClosed's cut as topic -> end offsets."""
    return {c.topic: list(c.end_offsets) for c in closed.cuts}


async def feed_facts(bootstrap: str, topic: str, inputs: WeekInputs,
                     end: Sequence[int] | None, start: Mapping[int, int] | None = None) -> int:
    """Add ``topic``'s fact records of the week up to ``end`` to ``inputs``; records read."""
    # Without a start: from the first record that can hold the week's facts, found by the
    # reading consumer itself (one connection per topic, not a second for the lookup).
    from_ms = inputs.week.start_ms - EARLIEST_WRITE_LEAD_MS if start is None else None
    read = 0
    async for record in read_range(bootstrap, topic, start, end, from_ms=from_ms):
        inputs.add_facts(decode(record.value, FactRows).payload)
        read += 1
    return read


async def feed_statuses(bootstrap: str, topics: PoolTopics, inputs: WeekInputs,
                        cut: Mapping[str, Sequence[int]], users: Iterable[str] = ()) -> None:
    """The latest ItemStatus and UserStatus before the cut (or now) of each item and user the
    week names (read after its facts; ``users``: more the week needs, its rollovers' creators).

    The status topics hold every user and item there is, keyed by id: a record whose key the
    week does not name is skipped undecoded. Items first: their owners are users it needs."""
    # The key filter is inlined (a function call per record cost more than the test:
    # ~1 M status records a week); the containers are the week's own, read as it grows.
    # A record without a key, or with one that is not UTF-8, is decoded (set_* files it by
    # the id inside): skipping is only for keys the week certainly does not name.
    items = inputs.item_names()
    async for record in read_range(bootstrap, topics.item_status, None,
                                   cut.get(topics.item_status)):
        value, key = record.value, record.key
        if value is None:
            continue
        if key is not None:
            text = _key_text(key)
            if text is not None and text not in items:
                continue
        inputs.set_item(decode(value, ItemStatus).payload)
    extra = set(users)
    consumers, creators, owners = inputs.user_names()
    async for record in read_range(bootstrap, topics.user_status, None,
                                   cut.get(topics.user_status)):
        value, key = record.value, record.key
        if value is None:
            continue
        if key is not None:
            text = _key_text(key)
            if (text is not None and text not in consumers and text not in creators
                    and text not in owners and text not in extra):
                continue
        inputs.set_user(decode(value, UserStatus).payload)


def _key_text(key: bytes) -> str | None:
    try:
        return key.decode()
    except UnicodeDecodeError:
        return None


async def rollovers_into(bootstrap: str, topics: PoolTopics, week: str,
                         book: PoolBook) -> dict[str, int]:
    """creator id -> the amount rolled over out of the previous week (its settlement)."""
    prev = book.settled(previous_week(week))
    if prev is None:
        return {}
    out: dict[str, int] = {}
    async for record in read_range(bootstrap, topics.creator_weeks, None, None,
                                   from_ms=prev.settled_at_ms - 60_000):
        result = decode(record.value, CreatorWeekResult).payload
        if result.week == prev.week and result.rollover_out_minor > 0:
            out.setdefault(result.creator_id, result.rollover_out_minor)
    return out


async def load_week(bootstrap: str, topics: PoolTopics, week: IsoWeek,
                    cut: Mapping[str, Sequence[int]], book: PoolBook, quote_asset: str,
                    *, status_at_ms: int,
                    stage: Callable[[str], None] | None = None) -> BuiltWeek:
    """The week's model input from the log: facts and statuses before ``cut`` (a topic
    missing from it is read to its end now), the pool and rollovers from the book.
    ``stage`` is called with each stage's name as it ends (a bench times them)."""
    done = stage or (lambda _: None)
    inputs = WeekInputs(week)
    for topic in topics.facts:
        await feed_facts(bootstrap, topic, inputs, cut.get(topic))
        done(f"read {topic}")
    name = str(week)
    rollovers = await rollovers_into(bootstrap, topics, name, book)
    await feed_statuses(bootstrap, topics, inputs, cut, rollovers)
    done("read statuses")
    try:
        built = inputs.build(pool_minor=book.pool_minor(name), rollovers=rollovers,
                             quote_asset=quote_asset, status_at_ms=status_at_ms)
        done("build")
        return built
    except EventIdCollision as refused:
        # No id strings are kept while folding: read the week's records again for the two.
        names: set[str] = set()
        for topic in topics.facts:
            async for record in read_range(bootstrap, topic, None, cut.get(topic),
                                           from_ms=week.start_ms - EARLIEST_WRITE_LEAD_MS):
                names.update(event_names(decode(record.value, FactRows).payload,
                                         refused.event_key))
        raise EventIdCollision(refused.event_key, names) from refused
