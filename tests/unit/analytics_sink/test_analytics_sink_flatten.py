"""Kafka records become analytics rows: one per event per audience, batches exploded, junk
rejected, personal values pseudonymised for analysts and in clear for operators."""

from __future__ import annotations

import json

from planet.content.v1.events_pb2 import CoinTicker, PostPublished, TradingComponent
from planet.engagement.v1.telemetry_pb2 import EngagementBatch
from planet.exchange.v1.events_pb2 import KycVerified, OrderFilled, TradeFeeCharged
from planet.incentive.v1.engagement_pb2 import (
    DedupCheckpoint,
    EngagementDeltas,
    WeekEventIds,
)
from planetkit.engagement_batches import INTERACTION_KINDS, VIEW, EngagementRow, build_batch
from planetkit.envelope import encode, wrap
from planetkit.topics import (
    ALL,
    ENGAGEMENT_BATCHES,
    ENGAGEMENT_DEDUP,
    ENGAGEMENT_DELTAS,
    FILLS,
    KYC,
    POSTS,
    TRADE_FEES,
)
from services.analytics.domain.flatten import (
    ENGAGEMENT_EVENT_TYPE,
    Flattener,
    Record,
    payload_dict,
    sunk_sources,
)
from services.analytics.domain.pseudonyms import Pseudonymizer
from services.analytics.domain.store import RawEventRow

NOW = 1_764_000_000_000
KEY = b"unit-test-pseudonym-key-of-32-bytes!!"
PSEUDONYM = Pseudonymizer(KEY)
FLATTENER = Flattener(PSEUDONYM)
SOURCES = sunk_sources(ALL, "")


def _record(topic: str, value: bytes | None, offset: int = 7) -> Record:
    return Record(topic=topic, partition=2, offset=offset, value=value)


def _strings(row: RawEventRow) -> list[str]:
    """Every text the row would store, the payload's keys and values included."""
    def walk(value: object) -> list[str]:
        if isinstance(value, dict):
            return [t for k, v in value.items() for t in (str(k), *walk(v))]
        if isinstance(value, list):
            return [t for v in value for t in walk(v)]
        return [str(value)]

    return [row.event_id, row.event_type, row.source, row.aggregate_id, row.topic,
            *walk(json.loads(row.payload_json))]


def test_a_post_is_one_row_per_audience_with_its_envelope_fields_and_payload() -> None:
    post = PostPublished(
        post_id="p1", creator_id="c1", body="gm", hashtags=["eth"], mentions=["m1"],
        published_at_ms=NOW, components=[TradingComponent(ticker=CoinTicker(symbol="BTC"))],
    )
    env = wrap(post, event_id="e1", source="content", aggregate_id="p1",
               occurred_at_ms=NOW, aggregate_version=3)
    rows = FLATTENER.to_rows(_record(POSTS.name, encode(env)), SOURCES[POSTS.name], NOW + 5)
    [operator], [analyst] = rows.operator, rows.analyst
    for row in (operator, analyst):
        # Posts are keyed and identified by public ids.
        assert (row.event_id, row.event_type, row.schema_version) == (
            "e1", "planet.content.v1.PostPublished", 1)
        assert (row.source, row.aggregate_id, row.aggregate_version) == ("content", "p1", 3)
        assert (row.topic, row.partition, row.offset) == (POSTS.name, 2, 7)
        assert (row.occurred_at_ms, row.ingested_at_ms) == (NOW, NOW + 5)
    clear, hidden = json.loads(operator.payload_json), json.loads(analyst.payload_json)
    for payload in (clear, hidden):
        assert payload["post_id"] == "p1"
        assert payload["body"] == "gm"
        assert payload["hashtags"] == ["eth"]
        assert payload["components"] == [{"ticker": {"symbol": "BTC"}}]
        # Zero values are present, so analysts do not have to know proto3's defaults.
        assert payload["title"] == ""
    assert (clear["creator_id"], clear["mentions"]) == ("c1", ["m1"])
    assert (hidden["creator_id"], hidden["mentions"]) == (PSEUDONYM("c1"), [PSEUDONYM("m1")])


def test_user_keyed_topics_pseudonymise_key_event_id_and_user_for_analysts_only() -> None:
    kyc = wrap(KycVerified(user_id="alice", verified_at_ms=NOW), event_id="kyc_alice",
               source="exchange", aggregate_id="alice", occurred_at_ms=NOW)
    rows = FLATTENER.to_rows(_record(KYC.name, encode(kyc)), SOURCES[KYC.name], NOW)
    [operator], [analyst] = rows.operator, rows.analyst
    assert (operator.event_id, operator.aggregate_id) == ("kyc_alice", "alice")
    assert json.loads(operator.payload_json) == {"user_id": "alice", "verified_at_ms": NOW}
    assert (analyst.event_id, analyst.aggregate_id) == (PSEUDONYM("kyc_alice"),
                                                         PSEUDONYM("alice"))
    assert json.loads(analyst.payload_json) == {"user_id": PSEUDONYM("alice"),
                                                "verified_at_ms": NOW}
    assert not any("alice" in text for text in _strings(analyst))


def test_int64_fields_are_exact_json_numbers() -> None:
    fee = TradeFeeCharged(fee_id="f", user_id="u", amount_minor=2**63 - 1, currency="USDT",
                          charged_at_ms=NOW)
    payload = payload_dict(fee)
    assert payload["amount_minor"] == 2**63 - 1
    assert isinstance(payload["charged_at_ms"], int)
    env = wrap(fee, event_id="f", source="exchange", aggregate_id="u", occurred_at_ms=NOW)
    [analyst] = FLATTENER.to_rows(_record(TRADE_FEES.name, encode(env)),
                                  SOURCES[TRADE_FEES.name], NOW).analyst
    assert json.loads(analyst.payload_json)["amount_minor"] == 2**63 - 1


def test_repeated_and_nested_64_bit_fields_are_exact_too() -> None:
    checkpoint = DedupCheckpoint(partition=1, last_offset=2**40,
                                 accepted=[WeekEventIds(week="2026-W01", event_ids=["c/a"])],
                                 duplicates_dropped=2**64 - 1)
    payload = payload_dict(checkpoint)
    assert payload["last_offset"] == 2**40
    assert payload["duplicates_dropped"] == 2**64 - 1
    assert payload["accepted"] == [{"week": "2026-W01", "event_ids": ["c/a"]}]


def test_nested_personal_fields_are_pseudonymised_where_they_are() -> None:
    checkpoint = DedupCheckpoint(partition=1, last_offset=9,
                                 accepted=[WeekEventIds(week="2026-W01", event_ids=["c/a"])])
    env = wrap(checkpoint, event_id="ck-1-9", source="engagement-aggregator",
               aggregate_id="p1", occurred_at_ms=NOW)
    rows = FLATTENER.to_rows(_record(ENGAGEMENT_DEDUP.name, encode(env)),
                             SOURCES[ENGAGEMENT_DEDUP.name], NOW)
    [analyst], [operator] = rows.analyst, rows.operator
    assert (analyst.event_id, analyst.event_type) == ("ck-1-9",
                                                      "planet.incentive.v1.DedupCheckpoint")
    assert json.loads(analyst.payload_json)["accepted"] == [
        {"week": "2026-W01", "event_ids": [PSEUDONYM("c/a")]}]
    assert json.loads(operator.payload_json)["accepted"] == [
        {"week": "2026-W01", "event_ids": ["c/a"]}]


def test_columnar_outputs_pseudonymise_each_personal_column() -> None:
    deltas = EngagementDeltas(commit_id="g:p0@1:q0:0", creator_ids=["cr", "cr"],
                              weeks=["2026-W01", "2026-W02"], consumer_ids=["co1", "co2"],
                              views=[1, 2], dwell_seconds=[3, 4], interactions=[0, 1])
    env = wrap(deltas, event_id=deltas.commit_id, source="engagement-aggregator",
               aggregate_id="q0", occurred_at_ms=NOW)
    [analyst] = FLATTENER.to_rows(_record(ENGAGEMENT_DELTAS.name, encode(env)),
                                  SOURCES[ENGAGEMENT_DELTAS.name], NOW).analyst
    payload = json.loads(analyst.payload_json)
    assert payload["creator_ids"] == [PSEUDONYM("cr")] * 2
    assert payload["consumer_ids"] == [PSEUDONYM("co1"), PSEUDONYM("co2")]
    assert payload["views"] == [1, 2]
    assert payload["weeks"] == ["2026-W01", "2026-W02"]


def test_an_engagement_batch_becomes_one_row_per_engagement_event_per_audience() -> None:
    batch = build_batch("consumer-1/b1", "consumer-1", [
        EngagementRow("consumer-1/v1", "item-1", "creator-a", NOW - 2, VIEW, dwell_seconds=42),
        EngagementRow("consumer-1/v2", "item-2", "creator-b", NOW - 1, VIEW, dwell_seconds=5),
        EngagementRow("consumer-1/l1", "item-1", "creator-a", NOW, INTERACTION_KINDS["like"]),
    ])
    env = wrap(batch, event_id="consumer-1/b1", source="gateway", aggregate_id="consumer-1",
               occurred_at_ms=NOW)
    rows = FLATTENER.to_rows(_record(ENGAGEMENT_BATCHES.name, encode(env)),
                             SOURCES[ENGAGEMENT_BATCHES.name], NOW)
    ids = ["consumer-1/v1", "consumer-1/v2", "consumer-1/l1"]
    assert [r.event_id for r in rows.operator] == ids
    assert [r.event_id for r in rows.analyst] == [PSEUDONYM(i) for i in ids]
    for audience in (rows.operator, rows.analyst):
        assert {r.event_type for r in audience} == {ENGAGEMENT_EVENT_TYPE}
        assert [r.occurred_at_ms for r in audience] == [NOW - 2, NOW - 1, NOW]
    assert {r.aggregate_id for r in rows.operator} == {"consumer-1"}
    assert {r.aggregate_id for r in rows.analyst} == {PSEUDONYM("consumer-1")}
    assert json.loads(rows.operator[0].payload_json) == {
        "batch_id": "consumer-1/b1", "consumer_id": "consumer-1", "item_id": "item-1",
        "creator_id": "creator-a", "kind": "view", "dwell_seconds": 42, "text_length": 0,
        "occurred_at_ms": NOW - 2}
    assert json.loads(rows.analyst[0].payload_json) == {
        "batch_id": PSEUDONYM("consumer-1/b1"), "consumer_id": PSEUDONYM("consumer-1"),
        "item_id": "item-1", "creator_id": PSEUDONYM("creator-a"), "kind": "view",
        "dwell_seconds": 42, "text_length": 0, "occurred_at_ms": NOW - 2}
    assert json.loads(rows.analyst[2].payload_json)["kind"] == "like"
    for row in rows.analyst:
        assert not any("consumer-1" in t or "creator-" in t for t in _strings(row))


def test_the_same_person_has_one_pseudonym_across_fields_and_topics() -> None:
    # Analysts can join a consumer's views to the same person's fills without knowing who.
    batch = build_batch("bob/b", "bob", [EngagementRow("bob/e", "i", "carol", NOW, VIEW)])
    fill = OrderFilled(fill_id="fill-1", user_id="bob", pair="BTC/USDT", side="buy",
                       price="1", quantity="2", fee_minor="3", filled_at_ms=NOW)
    [view] = FLATTENER.to_rows(_record(ENGAGEMENT_BATCHES.name, encode(wrap(
        batch, event_id="bob/b", source="gateway", aggregate_id="bob", occurred_at_ms=NOW))),
        SOURCES[ENGAGEMENT_BATCHES.name], NOW).analyst
    [filled] = FLATTENER.to_rows(_record(FILLS.name, encode(wrap(
        fill, event_id="fill-1", source="exchange", aggregate_id="bob", occurred_at_ms=NOW))),
        SOURCES[FILLS.name], NOW).analyst
    assert view.aggregate_id == filled.aggregate_id == PSEUDONYM("bob")
    assert json.loads(filled.payload_json)["user_id"] == PSEUDONYM("bob")
    assert json.loads(filled.payload_json)["price"] == "1"


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
        _record("planet.dlq.analytics-sink.v1", encode(fee)),
    ]
    flat = FLATTENER.flatten(records, SOURCES, NOW)
    assert [r.event_id for r in flat.operator] == ["f1"]
    assert [r.event_id for r in flat.analyst] == [PSEUDONYM("f1")]
    reasons = dict(flat.rejected)
    assert sorted(reasons) == [1, 2, 3, 4, 5, 6, 7]
    assert "not a protobuf Envelope" in reasons[1]
    assert "tombstone" in reasons[2]
    assert "unexpected event type 'planet.content.v1.PostPublished'" in reasons[3]
    assert "outside the storable range" in reasons[4]
    assert "malformed EngagementBatch" in reasons[5]
    assert "not a registered source" in reasons[6]
    # A NotSunk topic is no source at all, even if a record of it reached the sink.
    assert "not a registered source" in reasons[7]


def test_a_group_chat_reaches_analysts_only_pseudonymised() -> None:
    # Which group a reader spends time in, and what a (private) group earns, are not the
    # analysts' (issue 15): the item id of a group is pseudonymised for them, in clear for
    # operators; post items stay as they are.
    from planet.incentive.v1.weekly_pool_pb2 import CreatorWeekResult, ItemAmount
    from planetkit.topics import CREATOR_WEEKS

    batch = build_batch("bob/b", "bob", [
        EngagementRow("bob/g", "group:secret-club", "olga", NOW, VIEW, dwell_seconds=30),
        EngagementRow("bob/p", "post_1", "olga", NOW, VIEW, dwell_seconds=30)])
    env = wrap(batch, event_id="bob/b", source="gateway", aggregate_id="bob",
               occurred_at_ms=NOW)
    rows = FLATTENER.to_rows(_record(ENGAGEMENT_BATCHES.name, encode(env)),
                             SOURCES[ENGAGEMENT_BATCHES.name], NOW)
    assert [json.loads(r.payload_json)["item_id"] for r in rows.analyst] == [
        PSEUDONYM("group:secret-club"), "post_1"]
    assert [json.loads(r.payload_json)["item_id"] for r in rows.operator] == [
        "group:secret-club", "post_1"]
    result = CreatorWeekResult(week="2026-W10", creator_id="olga", items=[
        ItemAmount(item_id="group:secret-club", amount_minor=5),
        ItemAmount(item_id="post_1", amount_minor=7)])
    env = wrap(result, event_id="cw", source="incentive", aggregate_id="olga",
               occurred_at_ms=NOW)
    rows = FLATTENER.to_rows(_record(CREATOR_WEEKS.name, encode(env)),
                             SOURCES[CREATOR_WEEKS.name], NOW)
    [analyst], [operator] = rows.analyst, rows.operator
    assert [i["item_id"] for i in json.loads(analyst.payload_json)["items"]] == [
        PSEUDONYM("group:secret-club"), "post_1"]
    assert not any("secret-club" in t for t in _strings(analyst))
    assert [i["item_id"] for i in json.loads(operator.payload_json)["items"]] == [
        "group:secret-club", "post_1"]
