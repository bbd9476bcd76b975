"""Kafka records become analytics rows: one per event, batches exploded, junk rejected."""

from __future__ import annotations

import json

from planet.content.v1.events_pb2 import CoinTicker, PostPublished, TradingComponent
from planet.engagement.v1.telemetry_pb2 import EngagementBatch
from planet.exchange.v1.events_pb2 import TradeFeeCharged
from planet.incentive.v1.engagement_pb2 import DedupCheckpoint, WeekEventIds
from planetkit.engagement_batches import INTERACTION_KINDS, VIEW, EngagementRow, build_batch
from planetkit.envelope import encode, wrap
from planetkit.topics import ALL, ENGAGEMENT_BATCHES, ENGAGEMENT_DEDUP, POSTS, TRADE_FEES
from services.analytics.domain.flatten import (
    ENGAGEMENT_EVENT_TYPE,
    Record,
    flatten,
    payload_json,
    to_rows,
)

NOW = 1_764_000_000_000
SOURCES = {t.name: t for t in ALL if t.enveloped}


def _record(topic: str, value: bytes | None, offset: int = 7) -> Record:
    return Record(topic=topic, partition=2, offset=offset, value=value)


def test_a_post_is_one_row_with_its_envelope_fields_and_payload() -> None:
    post = PostPublished(
        post_id="p1", creator_id="c1", body="gm", hashtags=["eth"], published_at_ms=NOW,
        components=[TradingComponent(ticker=CoinTicker(symbol="BTC"))],
    )
    env = wrap(post, event_id="e1", source="content", aggregate_id="p1",
               occurred_at_ms=NOW, aggregate_version=3)
    [row] = to_rows(_record(POSTS.name, encode(env)), POSTS, ingested_at_ms=NOW + 5)
    assert (row.event_id, row.event_type, row.schema_version) == (
        "e1", "planet.content.v1.PostPublished", 1)
    assert (row.source, row.aggregate_id, row.aggregate_version) == ("content", "p1", 3)
    assert (row.topic, row.partition, row.offset) == (POSTS.name, 2, 7)
    assert (row.occurred_at_ms, row.ingested_at_ms) == (NOW, NOW + 5)
    payload = json.loads(row.payload_json)
    assert payload["post_id"] == "p1"
    assert payload["hashtags"] == ["eth"]
    assert payload["components"] == [{"ticker": {"symbol": "BTC"}}]
    # Zero values are present, so analysts do not have to know proto3's defaults.
    assert payload["title"] == ""
    assert payload["mentions"] == []


def test_int64_fields_are_exact_json_numbers() -> None:
    fee = TradeFeeCharged(fee_id="f", user_id="u", amount_minor=2**63 - 1, currency="USDT",
                          charged_at_ms=NOW)
    payload = json.loads(payload_json(fee))
    assert payload["amount_minor"] == 2**63 - 1
    assert isinstance(payload["charged_at_ms"], int)


def test_repeated_and_nested_64_bit_fields_are_exact_too() -> None:
    checkpoint = DedupCheckpoint(partition=1, last_offset=2**40,
                                 accepted=[WeekEventIds(week="2026-W01", event_ids=["a"])],
                                 duplicates_dropped=2**64 - 1)
    payload = json.loads(payload_json(checkpoint))
    assert payload["last_offset"] == 2**40
    assert payload["duplicates_dropped"] == 2**64 - 1
    assert payload["accepted"] == [{"week": "2026-W01", "event_ids": ["a"]}]


def test_an_engagement_batch_becomes_one_row_per_engagement_event() -> None:
    batch = build_batch("b1", "consumer-1", [
        EngagementRow("v1", "item-1", "creator-a", NOW - 2, VIEW, dwell_seconds=42),
        EngagementRow("v2", "item-2", "creator-b", NOW - 1, VIEW, dwell_seconds=5),
        EngagementRow("l1", "item-1", "creator-a", NOW, INTERACTION_KINDS["like"]),
    ])
    env = wrap(batch, event_id="batch-b1", source="gateway", aggregate_id="consumer-1",
               occurred_at_ms=NOW)
    rows = to_rows(_record(ENGAGEMENT_BATCHES.name, encode(env)), ENGAGEMENT_BATCHES, NOW)
    assert [r.event_id for r in rows] == ["v1", "v2", "l1"]
    assert {r.event_type for r in rows} == {ENGAGEMENT_EVENT_TYPE}
    assert {r.aggregate_id for r in rows} == {"consumer-1"}
    assert [r.occurred_at_ms for r in rows] == [NOW - 2, NOW - 1, NOW]
    first = json.loads(rows[0].payload_json)
    assert first == {"batch_id": "b1", "consumer_id": "consumer-1", "item_id": "item-1",
                     "creator_id": "creator-a", "kind": "view", "dwell_seconds": 42,
                     "text_length": 0, "occurred_at_ms": NOW - 2}
    assert json.loads(rows[2].payload_json)["kind"] == "like"


def test_an_aggregator_output_is_one_row() -> None:
    env = wrap(DedupCheckpoint(partition=3, last_offset=9), event_id="ck-3-9",
               source="engagement-aggregator", aggregate_id="3", occurred_at_ms=NOW)
    rows = to_rows(_record(ENGAGEMENT_DEDUP.name, encode(env)), ENGAGEMENT_DEDUP, NOW)
    assert [(r.event_id, r.event_type) for r in rows] == [
        ("ck-3-9", "planet.incentive.v1.DedupCheckpoint")]


def test_flatten_keeps_the_good_records_and_names_the_reason_for_each_bad_one() -> None:
    fee = wrap(TradeFeeCharged(fee_id="f1", user_id="u1", amount_minor=3), event_id="f1",
               source="exchange", aggregate_id="u1", occurred_at_ms=NOW)
    post_on_fee_topic = wrap(PostPublished(post_id="p"), event_id="p", source="content",
                             aggregate_id="p", occurred_at_ms=NOW)
    ancient = wrap(TradeFeeCharged(fee_id="f2"), event_id="f2", source="exchange",
                   aggregate_id="u1", occurred_at_ms=-(10**15))
    malformed = EngagementBatch(batch_id="b", consumer_id="c", event_ids=["x", "y"],
                                item_ids=["i"])
    records = [
        _record(TRADE_FEES.name, encode(fee)),
        _record(TRADE_FEES.name, b"\xff\xfe not protobuf"),
        _record(TRADE_FEES.name, None),
        _record(TRADE_FEES.name, encode(post_on_fee_topic)),
        _record(TRADE_FEES.name, encode(ancient)),
        _record(ENGAGEMENT_BATCHES.name, encode(wrap(
            malformed, event_id="b", source="gateway", aggregate_id="c", occurred_at_ms=NOW))),
        _record("planet.unknown.v1", encode(fee)),
    ]
    flat = flatten(records, SOURCES, NOW)
    assert [r.event_id for r in flat.rows] == ["f1"]
    reasons = dict(flat.rejected)
    assert sorted(reasons) == [1, 2, 3, 4, 5, 6]
    assert "not a protobuf Envelope" in reasons[1]
    assert "tombstone" in reasons[2]
    assert "unexpected event type 'planet.content.v1.PostPublished'" in reasons[3]
    assert "outside the storable range" in reasons[4]
    assert "malformed EngagementBatch" in reasons[5]
    assert "not a registered source" in reasons[6]
