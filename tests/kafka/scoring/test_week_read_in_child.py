"""A week whose interaction facts a child process reads (fact_log.load_week with
``child_from_records``, services/incentive/scoring/fact_reader.py) builds the same model
input, activity and result bytes as the sequential read, on the real broker; a record the
child cannot decode fails the load in the parent as it does sequentially.

The facts and statuses are written straight to this test's topics as their writers write them
(views in records of many consumers, interactions in records of one, statuses keyed by id),
with what the status reads must get right: users and items the week does not name, a user
whose status changes (the later value wins), a keyless status, and an item owner named only
by an item status."""

from __future__ import annotations

import random

import numpy as np
import pytest

from planet.incentive.v1.facts_pb2 import FactKind, FactRows, ItemStatus, Period, UserStatus
from planet.incentive.v1.weekly_pool_pb2 import PoolFunded
from planetkit.envelope import UndecodableEvent, encode, wrap
from planetkit.fact_rows import FOLLOW, LIKE, VIEW, FactRow, build_facts, event_keys
from planetkit.kafka.admin import ensure_topics
from planetkit.kafka.producer import make_producer
from planetkit.service_identities import ENGAGEMENT_AGGREGATOR, INCENTIVE
from planetkit.topics import with_suffix
from services.incentive.domain.breakdown import encode_result
from services.incentive.domain.facts import IsoWeek
from services.incentive.domain.policy import default_policy
from services.incentive.domain.settlement import settle
from services.incentive.scoring.fact_log import REGISTERED, PoolTopics, load_week
from services.incentive.scoring.pool_book import PoolBook
from services.incentive.scoring.week_inputs import BuiltWeek

WEEK = IsoWeek.parse("2026-W48")
T0 = WEEK.start_ms
HOUR = 3_600_000
COLUMNS = ("event_id", "consumer_id", "creator_id", "item_id", "occurred_at_ms", "kind",
           "dwell_seconds", "text_length")


def _rows(n: int, seed: int, consumers: int) -> list[tuple[str, FactRow]]:
    rng = random.Random(seed)
    out = []
    for k in range(n):
        creator = f"c{rng.randrange(6)}"
        item = rng.choice([f"{creator}-post-{i}" for i in range(5)] + [f"home:{creator}"])
        kind = rng.choice([VIEW, VIEW, LIKE, FOLLOW])
        out.append((f"u{rng.randrange(consumers)}",
                    FactRow(f"e{seed}-{k}", item, creator,
                            T0 + rng.randrange(-HOUR, 7 * 24 * HOUR + HOUR), kind,
                            rng.randrange(600) if kind == VIEW else 0)))
    return out


def _many(rows: list[tuple[str, FactRow]], rows_id: str) -> FactRows:
    ids = [r.event_id for _, r in rows]
    record = FactRows(
        rows_id=rows_id, consumer_ids=[c for c, _ in rows], event_ids=ids,
        item_ids=[r.item_id for _, r in rows], creator_ids=[r.creator_id for _, r in rows],
        occurred_at_ms=[r.occurred_at_ms for _, r in rows],
        kinds=[FactKind.ValueType(r.kind) for _, r in rows],
        dwell_seconds=[r.dwell_seconds for _, r in rows],
        text_lengths=[r.text_length for _, r in rows])
    record.event_keys[:], record.event_checks[:] = event_keys(ids)
    return record


def _env(message: FactRows | UserStatus | ItemStatus, event_id: str, source: str) -> bytes:
    return encode(wrap(message, event_id=event_id, source=source, aggregate_id=event_id,
                       occurred_at_ms=0))


async def _write(bootstrap: str, topics: PoolTopics, *, bad_interaction: bool) -> None:
    views = make_producer(bootstrap, writer=ENGAGEMENT_AGGREGATOR)
    other = make_producer(bootstrap, writer=INCENTIVE)
    await views.start()
    await other.start()
    try:
        # Views: records of many consumers; the interactions name consumers u40.. too.
        viewed = _rows(2_000, 1, 40)
        for n in range(0, len(viewed), 500):
            rows = _many(viewed[n:n + 500], f"v{n}")
            await views.send(topics.view_facts, _env(rows, rows.rows_id, ENGAGEMENT_AGGREGATOR),
                             key=f"p{n}".encode(), partition=(n // 500) % 4)
        for k, (consumer, row) in enumerate(_rows(600, 2, 60)):
            rows = build_facts(f"i{k}", consumer, [row], keyed=k % 3 != 0)
            await other.send(topics.interaction_facts, _env(rows, rows.rows_id, INCENTIVE),
                             key=consumer.encode())
        if bad_interaction:
            await other.send(topics.interaction_facts, b"not an envelope", key=b"u1")
        for uid in [*(f"u{i}" for i in range(80)), *(f"c{i}" for i in range(8)), "owner-x"]:
            s = UserStatus(user_id=uid, kyc_verified_at_ms=T0 - 1 if sum(uid.encode()) % 3 else 0)
            await other.send(topics.user_status, _env(s, f"s-{uid}", INCENTIVE),
                             key=uid.encode())
        # A later value wins (u3 sanctioned, u45 — named by interactions only — verified).
        later = UserStatus(user_id="u3", kyc_verified_at_ms=T0 - 1,
                           sanctioned=[Period(from_ms=T0 - 1)])
        await other.send(topics.user_status, _env(later, "s-u3-later", INCENTIVE), key=b"u3")
        verified = UserStatus(user_id="u45", kyc_verified_at_ms=T0 - 1)
        await other.send(topics.user_status, _env(verified, "s-u45-later", INCENTIVE),
                         key=b"u45")
        keyless = UserStatus(user_id="c2", kyc_verified_at_ms=T0 - 1,
                             identity_open=[Period(from_ms=T0 - 1)])
        await other.send(topics.user_status, _env(keyless, "s-c2-keyless", INCENTIVE))
        for c in range(6):
            for i in range(5):
                item = ItemStatus(item_id=f"c{c}-post-{i}",
                                  creator_id="owner-x" if (c, i) == (1, 1) else f"c{c}")
                if (c, i) == (2, 3):
                    item.removed.append(Period(from_ms=T0 + 2 * 24 * HOUR))
                await other.send(topics.item_status, _env(item, f"it-{c}-{i}", INCENTIVE),
                                 key=item.item_id.encode())
        await views.flush()
        await other.flush()
    finally:
        await views.stop()
        await other.stop()


async def _load(bootstrap: str, topics: PoolTopics, child_from: int | None) -> BuiltWeek:
    book = PoolBook("USDT")
    book.apply(PoolFunded(funding_id="f", week=str(WEEK), amount_minor=1_000_000,
                          asset="USDT"))
    return await load_week(bootstrap, topics, WEEK, {}, book, "USDT",
                           status_at_ms=WEEK.end_ms, child_from_records=child_from)


async def test_a_week_read_in_a_child_builds_the_sequential_input(
        kafka_bootstrap: str, topic_suffix: str) -> None:
    await ensure_topics(kafka_bootstrap, [with_suffix(t, topic_suffix) for t in REGISTERED])
    topics = PoolTopics.named(topic_suffix)
    await _write(kafka_bootstrap, topics, bad_interaction=False)
    sequential = await _load(kafka_bootstrap, topics, None)
    stages: list[str] = []
    book = PoolBook("USDT")
    book.apply(PoolFunded(funding_id="f", week=str(WEEK), amount_minor=1_000_000,
                          asset="USDT"))
    in_child = await load_week(kafka_bootstrap, topics, WEEK, {}, book, "USDT",
                               status_at_ms=WEEK.end_ms, child_from_records=1,
                               stage=stages.append)
    assert any("child" in s for s in stages), stages  # the child did read
    a, b = sequential.facts, in_child.facts
    assert sequential.rows == in_child.rows > 2_000
    # The same rows (a read interleaves a topic's partitions as their fetches arrive: the
    # row order is not the same from one read to the next, sequential or not; the model's
    # result does not depend on it, checked below byte for byte).
    def rows(columns: object) -> np.ndarray:
        table = np.stack([getattr(columns, name) for name in COLUMNS])
        return table[:, np.lexsort(table[::-1])]

    assert np.array_equal(rows(a.events), rows(b.events))
    assert (a.consumers, a.creators, a.items, a.rollovers) == \
        (b.consumers, b.creators, b.items, b.rollovers)
    # The statuses matter to this week (not all alike), and both reads set the same.
    assert {c.kyc_verified for c in a.consumers} == {True, False}
    assert any(c.sanctioned for c in a.consumers) and any(i.removed_at_ms for i in a.items)
    assert {k: v.SerializeToString() for k, v in sequential.activity.items()} == \
        {k: v.SerializeToString() for k, v in in_child.activity.items()}
    policy = default_policy()
    assert encode_result(settle(a, policy)) == encode_result(settle(b, policy))


async def test_a_record_the_child_cannot_decode_fails_the_load_as_sequentially(
        kafka_bootstrap: str, topic_suffix: str) -> None:
    await ensure_topics(kafka_bootstrap, [with_suffix(t, topic_suffix) for t in REGISTERED])
    topics = PoolTopics.named(topic_suffix)
    await _write(kafka_bootstrap, topics, bad_interaction=True)
    for child_from in (None, 1):
        with pytest.raises(UndecodableEvent):
            await _load(kafka_bootstrap, topics, child_from)
