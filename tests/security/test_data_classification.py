"""Issue 10, finding 10: analysts' tables hold only public values and pseudonyms.

The real sink process on the real broker and the real embedded engine: events carrying
personal values (user, consumer, creator and mentioned ids, ids that embed them, exchange
fee and fill ids) go through Kafka; then every column of every row of every table in the
analysts' database ``planet`` is read straight from the engine's data directory and none of
those values appears anywhere, only their keyed pseudonyms, while the operators' database
``planet_ops`` has them in clear. Records on the topics that are declared not sunk (dead
letters, the query audit) never reach either database.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from planet.content.v1.events_pb2 import PostPublished
from planet.exchange.v1.events_pb2 import KycVerified, OrderFilled, TradeFeeCharged
from planetkit.classification import SINK_POLICIES, NotSunk, Sunk
from planetkit.engagement_batches import INTERACTION_KINDS, VIEW, EngagementRow, build_batch
from planetkit.envelope import wrap
from planetkit.kafka.admin import ensure_topics
from planetkit.kafka.producer import make_producer, publish
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.topics import (
    ALL,
    ENGAGEMENT_BATCHES,
    FILLS,
    KYC,
    POSTS,
    TRADE_FEES,
    Topic,
    with_suffix,
)
from services.analytics.domain.pseudonyms import Pseudonymizer
from tests.kafka.analytics_sink.analytics_sink_process import REPO_ROOT, SinkProcess

pytestmark = pytest.mark.kafka

# Reads every table of both databases from a stopped sink's data directory, in a process of
# its own (chdb runs one engine per process, on one directory).
_DUMP = """
import json, sys
from chdb import session
s = session.Session(sys.argv[1])
def rows(sql):
    return json.loads(s.query(sql, "JSONCompact").bytes() or b'{"data": []}')["data"]
out = {}
for db, name in rows("SELECT database, name FROM system.tables "
                     "WHERE database IN ('planet', 'planet_ops') ORDER BY database, name"):
    columns = [c for [c] in rows(f"SELECT name FROM system.columns WHERE database = '{db}' "
                                 f"AND table = '{name}' ORDER BY position")]
    cast = ", ".join(f"toString(`{c}`)" for c in columns)
    out[f"{db}.{name}"] = {"columns": columns,
                           "rows": rows(f"SELECT {cast} FROM `{db}`.`{name}`")}
s.close()
print(json.dumps(out))
"""


def _dump(chdb_path: Path) -> dict[str, dict[str, list[object]]]:
    done = subprocess.run([sys.executable, "-c", _DUMP, str(chdb_path)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    tables: dict[str, dict[str, list[object]]] = json.loads(done.stdout)
    return tables


class People:
    """Personal values unlike anything else in the store, so a substring search is exact."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:12]
        self.creator = f"creatorZ{tag}"
        self.mentioned = f"mentionZ{tag}"
        self.consumer = f"consumerZ{tag}"
        self.user = f"userZ{tag}"
        self.fee_id = f"feeZ{tag}"
        self.fill_id = f"fillZ{tag}"
        self.unsunk = f"unsunkZ{tag}"

    def personal(self) -> dict[str, str]:
        return {"creator": self.creator, "mentioned": self.mentioned,
                "consumer": self.consumer, "user": self.user, "fee id": self.fee_id,
                "fill id": self.fill_id}


def _marked(payload_type: type[Message], marker: str) -> Message:
    """A payload with the marker in every string field (top level)."""
    payload = payload_type()
    for field in payload.DESCRIPTOR.fields:
        if field.type != FieldDescriptor.TYPE_STRING:
            continue
        if isinstance(getattr(payload, field.name), str):
            setattr(payload, field.name, marker)
        else:
            getattr(payload, field.name).append(marker)
    return payload


def _not_sunk() -> list[Topic]:
    return [t for t in ALL if isinstance(SINK_POLICIES[t.name], NotSunk)]


async def _produce(bootstrap: str, suffix: str, who: People) -> None:
    now = time.time_ns() // 1_000_000
    await ensure_topics(bootstrap, [with_suffix(t, suffix) for t in _not_sunk()])
    # One producer per writer, as each service writes only its own topics.
    producers = {w: make_producer(bootstrap, writer=w, linger_ms=0)
                 for w in {t.writer for t in ALL}}
    for producer in producers.values():
        await producer.start()
    try:
        post = PostPublished(post_id="post_z1", creator_id=who.creator, body="gm",
                             mentions=[who.mentioned], published_at_ms=now)
        await publish(producers[POSTS.writer], with_suffix(POSTS, suffix), wrap(
            post, event_id="evt_z1", source="content", aggregate_id="post_z1",
            occurred_at_ms=now, aggregate_version=1))
        # As the gateway writes them: batch and event ids scoped by the consumer.
        batch = build_batch(f"{who.consumer}/b1", who.consumer, [
            EngagementRow(f"{who.consumer}/v1", "post_z1", who.creator, now, VIEW, 30),
            EngagementRow(f"{who.consumer}/l1", "post_z1", who.creator, now,
                          INTERACTION_KINDS["like"]),
        ])
        batches = with_suffix(ENGAGEMENT_BATCHES, suffix)
        await publish(producers[batches.writer], batches, wrap(
            batch, event_id=f"{who.consumer}/b1", source="gateway", aggregate_id=who.consumer,
            occurred_at_ms=now))
        facts: list[tuple[Topic, Message, str]] = [
            (KYC, KycVerified(user_id=who.user, verified_at_ms=now), f"kyc_{who.user}"),
            (TRADE_FEES, TradeFeeCharged(fee_id=who.fee_id, user_id=who.user, amount_minor=5,
                                         currency="USDT", charged_at_ms=now), who.fee_id),
            (FILLS, OrderFilled(fill_id=who.fill_id, user_id=who.user, pair="BTC/USDT",
                                side="buy", price="1", quantity="1", fee_minor="1",
                                filled_at_ms=now), who.fill_id),
        ]
        for topic, fact, event_id in facts:
            await publish(producers[topic.writer], with_suffix(topic, suffix), wrap(
                fact, event_id=event_id, source="exchange", aggregate_id=who.user,
                occurred_at_ms=now))
        # Valid events on every topic that must never be sunk.
        for topic in _not_sunk():
            name = with_suffix(topic, suffix).name
            if topic.enveloped:
                await publish(producers[topic.writer], name, wrap(
                    _marked(topic.payloads[0], who.unsunk), event_id=who.unsunk,
                    source=topic.writer, aggregate_id=who.unsunk, occurred_at_ms=now))
            else:
                await producers[topic.writer].send_and_wait(
                    name, _marked(topic.payloads[0], who.unsunk).SerializeToString(),
                    key=who.unsunk.encode())
    finally:
        for producer in producers.values():
            await producer.stop()


async def _stored_everything(bootstrap: str, suffix: str, group_id: str) -> None:
    """Until the sink has committed every record of its topics (it commits after storing)."""
    parts = [TopicPartition(with_suffix(t, suffix).name, p) for t in ALL
             if isinstance(SINK_POLICIES[t.name], Sunk) for p in range(t.partitions)]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group_id,
                                enable_auto_commit=False, isolation_level="read_committed")
    await consumer.start()
    try:
        ends = await consumer.end_offsets(parts)
        deadline = time.monotonic() + 60
        while True:
            behind = [tp for tp in parts if ends[tp] and (await consumer.committed(tp) or 0)
                      < ends[tp]]
            if not behind:
                return
            assert time.monotonic() < deadline, f"sink never caught up on {behind}"
            await asyncio.sleep(0.2)
    finally:
        await consumer.stop()


@pytest.fixture
def sink(kafka_bootstrap: str, registered_topics: str, tmp_path: Path) -> Iterator[SinkProcess]:
    topic_suffix = registered_topics
    process = SinkProcess(kafka_bootstrap, topic_suffix, tmp_path / "chdb",
                          tmp_path / "sink.log", group_id=f"analytics-{topic_suffix}",
                          auth=DevServiceAuth.create(tmp_path / "service-auth"))
    process.start()
    try:
        yield process
    finally:
        process.stop()


async def test_analyst_tables_hold_pseudonyms_and_operator_tables_clear_values(
    sink: SinkProcess, kafka_bootstrap: str, topic_suffix: str
) -> None:
    who = People()
    try:
        await _produce(kafka_bootstrap, topic_suffix, who)
        await _stored_everything(kafka_bootstrap, topic_suffix, sink.group_id)
    finally:
        code = sink.stop()
    assert code == 0, sink.log()
    tables = await asyncio.to_thread(_dump, sink.chdb_path)

    analyst = {name: t for name, t in tables.items() if name.startswith("planet.")}
    assert {"planet.events_raw", "planet.events_raw_dedup"} <= set(analyst)
    assert {"planet_ops.events_raw", "planet_ops.events_raw_dedup"} <= set(tables)
    # Two engagement events, a post, KYC, a fee and a fill: six rows per table.
    for name, table in tables.items():
        assert len(table["rows"]) == 6, (name, table["rows"])

    # Not one personal value, in any column of any row of any analyst table.
    for name, table in analyst.items():
        for row in table["rows"]:
            cells = dict(zip(table["columns"], map(str, row), strict=True))
            for what, value in who.personal().items():
                leaked = [column for column, text in cells.items() if value in text]
                assert leaked == [], f"{what} {value!r} in {name} columns {leaked}"

    # What analysts do get: the same stable pseudonym wherever the same person appears.
    pseudonym = Pseudonymizer(sink.pseudonym_key.encode())
    rows = [dict(zip(analyst["planet.events_raw"]["columns"], r, strict=True))
            for r in analyst["planet.events_raw"]["rows"]]
    by_type = {str(r["event_type"]).rsplit(".", 1)[-1]: r for r in rows}
    assert by_type["KycVerified"]["aggregate_id"] == pseudonym(who.user)
    assert by_type["KycVerified"]["event_id"] == pseudonym(f"kyc_{who.user}")
    fee = json.loads(str(by_type["TradeFeeCharged"]["payload_json"]))
    assert (fee["user_id"], fee["fee_id"], fee["amount_minor"]) == (
        pseudonym(who.user), pseudonym(who.fee_id), 5)
    post = json.loads(str(by_type["PostPublished"]["payload_json"]))
    assert (post["creator_id"], post["mentions"], post["body"]) == (
        pseudonym(who.creator), [pseudonym(who.mentioned)], "gm")
    views = [r for r in rows if r["event_type"] == "planet.engagement.v1.EngagementEvent"]
    assert {r["aggregate_id"] for r in views} == {pseudonym(who.consumer)}
    assert {json.loads(str(r["payload_json"]))["creator_id"] for r in views} == {
        pseudonym(who.creator)}

    # Operators' tables have every personal value in clear.
    ops = json.dumps(tables["planet_ops.events_raw"]["rows"])
    for what, value in who.personal().items():
        assert value in ops, f"{what} missing from planet_ops.events_raw"

    # Nothing of a topic declared not sunk reached any table.
    assert _not_sunk(), "dead-letter topics at least are declared NotSunk"
    assert who.unsunk not in json.dumps(tables)
