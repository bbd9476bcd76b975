"""Finding 8: scoped event ids cannot collide, and ids Planet issues are checked up front.

Before: ids were scoped as ``f"{consumer}/{client_id}"``, so consumer "zz" sending event
"q/e1" and consumer "zz/q" sending "e1" produced the same id, and the aggregator dropped
one consumer's view as the other's duplicate.
"""

from __future__ import annotations

import time

from hypothesis import given
from hypothesis import strategies as st

from gateway.ids import is_post_id
from gateway.schemas import TelemetryBatch
from gateway.telemetry import batch_envelope, scoped_id, unscoped
from planet.engagement.v1.telemetry_pb2 import EngagementBatch
from planetkit.engagement_batches import iter_rows
from planetkit.envelope import decode, encode
from services.content.domain.ids import post_id_for
from tests.security.gateway_apps import POST, Calls, app_client, bearer, dev_settings, dev_token

ANY_ID = st.text(min_size=1, max_size=40)


def test_the_reported_collision_is_gone() -> None:
    assert scoped_id("zz", "q/e1") != scoped_id("zz/q", "e1")
    now = int(time.time() * 1000)

    def rows(consumer: str, event_id: str) -> list[str]:
        batch = TelemetryBatch.model_validate({"batch_id": "b", "events": [
            {"event_id": event_id, "item_id": POST, "occurred_at_ms": now, "type": "view",
             "dwell_seconds": 5}]})
        envelope = batch_envelope(batch, consumer, {POST: "alice"}, now)
        return [r.event_id for r in iter_rows(decode(encode(envelope), EngagementBatch).payload)]

    assert rows("zz", "q/e1") != rows("zz/q", "e1")


@given(ANY_ID, ANY_ID)
def test_scoping_round_trips_whatever_the_characters(consumer: str, client_id: str) -> None:
    # A left inverse exists, so scoped_id is injective.
    assert unscoped(scoped_id(consumer, client_id)) == (consumer, client_id)


@given(ANY_ID, ANY_ID, ANY_ID, ANY_ID)
def test_different_pairs_never_share_a_scoped_id(a: str, b: str, c: str, d: str) -> None:
    if (a, b) != (c, d):
        assert scoped_id(a, b) != scoped_id(c, d)


@given(st.text(max_size=40), st.text(max_size=40), st.integers(0, 28), st.characters())
def test_ids_the_content_service_issues_pass_and_altered_ones_do_not(
    creator: str, key: str, at: int, char: str
) -> None:
    issued = post_id_for(creator, key)
    assert is_post_id(issued)
    altered = issued[:at] + char + issued[at + 1:]
    still_valid = altered == issued or (at >= 5 and char in "0123456789abcdef")
    assert is_post_id(altered) == still_valid
    assert not is_post_id(issued + "0") and not is_post_id(issued[:-1])


def test_impossible_post_ids_never_cost_a_backend_call() -> None:
    calls = Calls()
    with app_client(dev_settings(), calls=calls) as client:
        for bad in ("post_ghost", "POST_" + "a" * 24, "post_" + "g" * 24, "post_" + "a" * 25,
                    "post_%2e%2e", "post_" + "ａ" * 24):
            got = client.get(f"/v1/posts/{bad}", headers=bearer(dev_token("bob")))
            assert got.status_code == 422 and "post_id" in got.json()["error"], bad
            batch = {"batch_id": "b", "events": [{"event_id": "e", "item_id": bad,
                                                  "occurred_at_ms": int(time.time() * 1000),
                                                  "type": "view", "dwell_seconds": 1}]}
            sent = client.post("/v1/telemetry/batches", json=batch,
                               headers=bearer(dev_token("bob")))
            assert sent.status_code == 422 and "item_id" in sent.json()["error"], bad
    assert calls.names == []
