"""Request validation, size limits and telemetry rules, over in-memory backends."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from gateway_fakes import NOW_MS, Fakes, bearer

from planet.engagement.v1.telemetry_pb2 import EngagementBatch
from planetkit.engagement_batches import VIEW, iter_rows
from planetkit.envelope import decode, encode
from services.content.domain.ids import post_id_for

GHOST = post_id_for("nobody", "ghost")


def _publish(client: TestClient, key: str = "k1", **body: Any) -> Any:
    return client.post("/v1/posts", json={"body": "gm", **body},
                       headers={**bearer("alice"), "Idempotency-Key": key})


def _view(event_id: str, item_id: str, at_ms: int = NOW_MS) -> dict[str, Any]:
    return {"event_id": event_id, "item_id": item_id, "occurred_at_ms": at_ms,
            "type": "view", "dwell_seconds": 30}


def test_a_post_is_published_as_the_token_subject(client: TestClient, fakes: Fakes) -> None:
    response = _publish(client, components=[{"trade_idea": {
        "pair": "BTC/USDT", "side": "long", "entry": "1.5", "target": "2", "stop": "1"}}])
    assert response.status_code == 201
    post = response.json()
    assert post["creator_id"] == "alice" and post["post_id"] == post_id_for("alice", "k1")
    assert post["components"][0]["trade_idea"]["entry"] == "1.5"
    got = client.get(f"/v1/posts/{post['post_id']}", headers=bearer("bob"))
    assert got.json() == post
    missing = client.get(f"/v1/posts/{GHOST}", headers=bearer("bob"))
    assert missing.status_code == 404 and "not found" in missing.json()["error"]
    # Not a post id at all: refused before any backend is asked.
    calls = len(fakes.content.callers)
    for bad in ("post_nope", "post_" + "a" * 16_000, "POST_" + "A" * 24):
        malformed = client.get(f"/v1/posts/{bad}", headers=bearer("bob"))
        assert malformed.status_code == 422 and "post_id" in malformed.json()["error"]
    assert len(fakes.content.callers) == calls


def test_publishing_needs_an_idempotency_key(client: TestClient) -> None:
    response = client.post("/v1/posts", json={"body": "gm"}, headers=bearer("alice"))
    assert response.status_code == 422 and "Idempotency-Key" in response.json()["error"]


def test_shape_errors_name_the_field(client: TestClient) -> None:
    response = _publish(client, kind="poem")
    assert response.status_code == 422 and response.json()["error"].startswith("kind:")
    price = _publish(client, components=[{"trade_idea": {
        "pair": "BTC/USDT", "side": "long", "entry": 1.5, "target": "2", "stop": "1"}}])
    assert price.status_code == 422 and "entry" in price.json()["error"]


def test_malformed_json_is_422_with_a_clear_message(client: TestClient) -> None:
    response = client.post("/v1/posts", content=b"{not json",
                           headers={**bearer("alice"), "Idempotency-Key": "k",
                                    "Content-Type": "application/json"})
    assert response.status_code == 422 and response.json()["error"].startswith("malformed JSON")


def test_bodies_over_the_limit_are_413_by_header_and_by_stream(client: TestClient) -> None:
    big = b'{"body": "' + b"x" * 5000 + b'"}'
    headers = {**bearer("alice"), "Idempotency-Key": "k", "Content-Type": "application/json"}
    response = client.post("/v1/posts", content=big, headers=headers)
    assert response.status_code == 413 and "4096 bytes" in response.json()["error"]

    def chunks() -> Any:  # no Content-Length: the size is only known while streaming
        for _ in range(10):
            yield b" " * 1000

    streamed = client.post("/v1/posts", content=chunks(), headers=headers)
    assert streamed.status_code == 413 and "4096 bytes" in streamed.json()["error"]


def test_a_batch_becomes_one_enveloped_record_with_creators_resolved(
    client: TestClient, fakes: Fakes
) -> None:
    post_id = _publish(client).json()["post_id"]
    batch = {"batch_id": "b1", "events": [
        _view("e1", post_id),
        _view("e2", post_id),
    ]}
    response = client.post("/v1/telemetry/batches", json=batch, headers=bearer("carol"))
    assert response.status_code == 202 and response.json() == {"accepted": 2}
    [envelope] = fakes.events.published
    event = decode(encode(envelope), EngagementBatch)
    assert (envelope.event_id, envelope.aggregate_id, envelope.source) == (
        "5:carol/b1", "carol", "gateway")
    rows = list(iter_rows(event.payload))
    # Ids are scoped by consumer: nobody can collide with another consumer's events.
    assert [r.event_id for r in rows] == ["5:carol/e1", "5:carol/e2"]
    assert event.payload.consumer_id == "carol"
    assert [r.creator_id for r in rows] == ["alice", "alice"]
    assert rows[0].kind == VIEW and rows[0].dwell_seconds == 30
    assert rows[1].kind == VIEW and rows[1].text_length == 0


def test_a_claimed_interaction_is_refused_with_where_to_go_instead(
    client: TestClient, fakes: Fakes
) -> None:
    # A client once could claim a 400-character comment it never wrote, and be paid for it.
    post_id = _publish(client).json()["post_id"]
    claim = {"event_id": "e2", "item_id": post_id, "occurred_at_ms": NOW_MS - 1000,
             "type": "interaction", "interaction": "comment", "text_length": 400}
    response = client.post("/v1/telemetry/batches", headers=bearer("carol"), json={
        "batch_id": "b1", "events": [_view("e1", post_id), claim]})
    assert response.status_code == 422
    assert "views and dwell only" in response.json()["error"]
    assert "/v1/posts/{post_id}/comments" in response.json()["error"]
    assert fakes.events.published == []


def test_batches_break_rules_with_422(client: TestClient, fakes: Fakes) -> None:
    post_id = _publish(client).json()["post_id"]
    cases = {
        f"unknown items: {GHOST}": [_view("e1", GHOST)],
        "events.0.item_id: String should match pattern": [_view("e1", "post_ghost")],
        "more than 5 minutes in the future": [_view("e1", post_id, NOW_MS + 6 * 60_000)],
        "older than 8 days": [_view("e1", post_id, NOW_MS - 9 * 86_400_000)],
        "batch has 6 events; the limit is 5": [_view(f"e{i}", post_id) for i in range(6)],
        "duplicate event ids": [_view("e1", post_id), _view("e1", post_id)],
        "a view has dwell_seconds": [{**_view("e1", post_id), "dwell_seconds": None}],
        "events: List should have at least 1 item": [],
    }
    for message, events in cases.items():
        response = client.post("/v1/telemetry/batches", json={"batch_id": "b", "events": events},
                               headers=bearer("carol"))
        assert response.status_code == 422, message
        assert message in response.json()["error"]
    assert fakes.events.published == []
